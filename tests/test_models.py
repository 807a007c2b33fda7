import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.models import DATE_SPAN_SQL, Excerpt, Speaker, longest_date_span
from tests import factories

pytestmark = pytest.mark.django_db


def test_saving_an_excerpt_derives_its_date_bounds_and_display():
    excerpt = factories.excerpt(date="1958-22")
    excerpt.refresh_from_db()
    assert excerpt.date_start == datetime.date(1958, 6, 1)
    assert excerpt.date_end == datetime.date(1958, 8, 31)
    assert excerpt.date_display == "summer 1958"


def test_changing_the_date_with_update_fields_also_updates_the_bounds():
    excerpt = factories.excerpt(date="1958")
    excerpt.date = "1956-02-25"
    excerpt.save(update_fields=["date"])
    excerpt.refresh_from_db()
    assert (excerpt.date_start, excerpt.date_end) == (datetime.date(1956, 2, 25), datetime.date(1956, 2, 25))
    assert excerpt.date_display == "25 February 1956"


def test_full_clean_rejects_an_invalid_edtf_date_naming_the_field():
    excerpt = factories.excerpt()
    excerpt.date = "summer of 58"
    with pytest.raises(ValidationError) as raised:
        excerpt.full_clean()
    assert "date" in raised.value.message_dict
    assert "not a valid EDTF date" in raised.value.message_dict["date"][0]


def test_full_clean_rejects_an_open_ended_date():
    excerpt = factories.excerpt()
    excerpt.date = "1958/.."
    with pytest.raises(ValidationError) as raised:
        excerpt.full_clean()
    assert "cannot be computed" in raised.value.message_dict["date"][0]


@pytest.mark.parametrize("text", ["", "   \n"])
def test_full_clean_rejects_an_empty_text(text):
    excerpt = factories.excerpt()
    excerpt.text = text
    with pytest.raises(ValidationError) as raised:
        excerpt.full_clean()
    assert "text" in raised.value.message_dict


def test_saving_an_invalid_date_is_refused_before_anything_is_written():
    speaker = factories.speaker()
    with pytest.raises(ValidationError):
        Excerpt.objects.create(
            text="x", kind="speech", speaker=speaker, source=factories.source(), date="not a date", language="en"
        )
    assert Excerpt.objects.count() == 0


def test_the_database_refuses_an_empty_text_even_past_the_model():
    excerpt = factories.excerpt()
    with pytest.raises(IntegrityError), transaction.atomic():
        Excerpt.objects.filter(pk=excerpt.pk).update(text="")


def test_the_database_refuses_reversed_date_bounds():
    excerpt = factories.excerpt()
    with pytest.raises(IntegrityError), transaction.atomic():
        Excerpt.objects.filter(pk=excerpt.pk).update(
            date_start=datetime.date(1960, 1, 1), date_end=datetime.date(1950, 1, 1)
        )


@pytest.mark.parametrize("aliases", [["Mao", "mao"], [""], "Mao Tse-tung", [3]])
def test_speaker_aliases_must_be_a_list_of_distinct_names(aliases):
    speaker = Speaker(slug="mao-zedong", name="Mao Zedong", aliases=aliases)
    with pytest.raises(ValidationError) as raised:
        speaker.full_clean()
    assert "aliases" in raised.value.message_dict


def test_a_speaker_with_excerpts_cannot_be_deleted():
    excerpt = factories.excerpt()
    with pytest.raises(ProtectedError):
        excerpt.speaker.delete()
    assert Excerpt.objects.filter(pk=excerpt.pk).exists()


def test_published_returns_only_published_excerpts():
    published = factories.excerpt(status=Excerpt.Status.PUBLISHED)
    factories.excerpt(status=Excerpt.Status.DRAFT)
    assert list(Excerpt.objects.published()) == [published]


def test_overlapping_matches_excerpts_whose_possible_range_touches_the_asked_one():
    year = factories.excerpt(date="1958")
    summer = factories.excerpt(date="1958-22")
    before = factories.excerpt(date="1956-02-25")
    found = Excerpt.objects.overlapping(datetime.date(1958, 7, 1), datetime.date(1958, 7, 31))
    assert set(found) == {year, summer}
    assert before not in Excerpt.objects.overlapping(start=datetime.date(1957, 1, 1))


def test_overlapping_finds_an_excerpt_whose_range_began_long_before_the_asked_start():
    decades = factories.excerpt(date="1950/1970")
    factories.excerpt(date="1951-03-01")
    later = factories.excerpt(date="1966-05-16")
    assert longest_date_span() == datetime.date(1970, 12, 31) - datetime.date(1950, 1, 1)
    assert set(Excerpt.objects.overlapping(start=datetime.date(1965, 1, 1))) == {decades, later}
    assert set(Excerpt.objects.overlapping(start=datetime.date(1, 1, 2))) == set(Excerpt.objects.all())


def test_speaker_excerpt_count_counts_only_published_excerpts():
    speaker = factories.speaker()
    factories.excerpt(speaker=speaker)
    factories.excerpt(speaker=speaker)
    factories.excerpt(speaker=speaker, status=Excerpt.Status.DRAFT)
    assert Speaker.objects.with_excerpt_count().get(pk=speaker.pk).excerpt_count == 2


def test_string_forms_name_speaker_date_and_words():
    speaker = factories.speaker(name="Mao Zedong")
    excerpt = factories.excerpt("A" * 80, speaker=speaker, date="1958-22")
    assert str(excerpt) == "Mao Zedong, summer 1958: " + "A" * 57 + "..."
    assert str(speaker) == "Mao Zedong"


def test_date_after_reads_the_longest_span_once_per_data_version_and_again_after_a_write(client):
    later = factories.excerpt(date="1966-05-16")
    factories.excerpt(date="1951-03-01")

    def found():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("excerpt-list"), {"date_after": "1965"})
        assert response.status_code == 200
        spans = [query["sql"] for query in queries if DATE_SPAN_SQL[connection.vendor] in query["sql"]]
        return {row["id"] for row in response.json()["results"]}, len(spans)

    assert found() == ({later.pk}, 1)
    client.get(reverse("excerpt-list"), {"date_after": "1965", "kind": "speech"})
    assert found() == ({later.pk}, 0)  # the same data version: the span is known
    # A write (a new data version) with a longer span than any before: read again, so the range is found.
    decades = factories.excerpt(date="1950/1970")
    assert found() == ({decades.pk, later.pk}, 1)
