"""ExcerptFilterSet used directly, without HTTP; and the filtered querysets the excerpt list keeps, over HTTP."""

import pytest
from django.http import QueryDict
from django.test import TestCase
from django.urls import reverse

from excerpts.api.filters import ExcerptFilterSet, SpeakerFilterSet, StrictFilterBackend
from excerpts.api.ordering import ORDERINGS
from excerpts.models import Excerpt, Speaker
from excerpts.research import search
from tests import factories


def filtered(query):
    filterset = ExcerptFilterSet(QueryDict(query), queryset=Excerpt.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs)


def searched(query):
    """The filters, then the search plan over them, as the excerpt list applies them."""
    filterset = ExcerptFilterSet(QueryDict(query), queryset=Excerpt.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(search.plan(filterset.form.cleaned_data["q"]).rows(filterset.qs))


def errors(query):
    filterset = ExcerptFilterSet(QueryDict(query), queryset=Excerpt.objects.all())
    assert not filterset.is_valid()
    return filterset.errors


class ExcerptFilterSetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.mao = factories.speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
        cls.khrushchev = factories.speaker("nikita-khrushchev", "Nikita Khrushchev")
        cls.leap = factories.topic("great-leap-forward", "Great Leap Forward")
        cls.cult = factories.topic("cult-of-personality", "Cult of personality")
        cls.congress = factories.event("twentieth-party-congress", "Twentieth Congress of the CPSU")
        cls.daily = factories.source("peoples-daily", "People's Daily", kind="newspaper")
        cls.book = factories.source("mao-talks", "Talks at the Wuchang Conference")
        cls.secret = factories.excerpt(
            "the cult of the individual",
            speaker=cls.khrushchev,
            date="1956-02-25",
            kind="speech",
            language="ru",
            event=cls.congress,
            topics=[cls.cult],
            source=cls.book,
        )
        cls.editorial = factories.excerpt(
            "historical experience", speaker=cls.mao, date="1956-04", kind="editorial", source=cls.daily
        )
        cls.summer = factories.excerpt(
            "people's communes are good", speaker=cls.mao, date="1958-22", topics=[cls.leap, cls.cult]
        )
        cls.year = factories.excerpt(
            "a paraphrased stance", speaker=cls.mao, date="1958", attribution="paraphrase", topics=[cls.leap]
        )
        cls.uncertain = factories.excerpt("later words", speaker=cls.khrushchev, date="1959?")

    def test_speaker_filter_matches_the_speakers_slug(self):
        assert filtered("speaker=nikita-khrushchev") == {self.secret, self.uncertain}

    def test_repeating_speaker_matches_any_of_them(self):
        assert filtered("speaker=nikita-khrushchev&speaker=mao-zedong") == set(Excerpt.objects.all())

    def test_topic_filter_returns_each_excerpt_once_even_with_several_matching_topics(self):
        filterset = ExcerptFilterSet(
            QueryDict("topic=great-leap-forward&topic=cult-of-personality"), queryset=Excerpt.objects.all()
        )
        assert filterset.is_valid()
        ids = [excerpt.id for excerpt in filterset.qs]
        assert sorted(ids) == sorted([self.secret.id, self.summer.id, self.year.id])

    def test_filters_combine_with_and(self):
        assert filtered("speaker=mao-zedong&topic=cult-of-personality") == {self.summer}

    def test_kind_attribution_language_event_and_source_filters(self):
        assert filtered("kind=editorial") == {self.editorial}
        assert filtered("attribution=paraphrase") == {self.year}
        assert filtered("language=ru") == {self.secret}
        assert filtered("event=twentieth-party-congress") == {self.secret}
        assert filtered(f"source={self.daily.id}") == {self.editorial}

    def test_date_after_with_a_day_includes_an_excerpt_dated_only_to_that_year(self):
        assert self.year in filtered("date_after=1958-07-01&date_before=1958-07-31")
        assert filtered("date_after=1958-07-01&date_before=1958-07-31") == {self.year, self.summer}

    def test_date_before_with_a_year_means_up_to_its_last_day(self):
        assert filtered("date_before=1956") == {self.secret, self.editorial}

    def test_date_after_with_a_month_means_from_its_first_day(self):
        assert filtered("date_after=1956-04&date_before=1957") == {self.editorial}

    def test_an_uncertain_date_matches_by_its_stated_period(self):
        assert filtered("date_after=1959-06") == {self.uncertain}

    def test_summer_is_not_found_in_september(self):
        assert self.summer not in filtered("date_after=1958-09-01&date_before=1958-09-30")
        assert self.year in filtered("date_after=1958-09-01&date_before=1958-09-30")

    def test_q_matches_text_speaker_alias_and_source_title_case_insensitively(self):
        assert searched("q=COMMUNES") == {self.summer}
        assert searched("q=tse-tung") == {self.editorial, self.summer, self.year}
        assert searched("q=wuchang") == {self.secret}

    def test_q_and_ordering_are_checked_by_the_filter_set_and_applied_after_it(self):
        everything = set(Excerpt.objects.all())
        assert filtered("q=COMMUNES&ordering=-speaker") == everything
        assert searched("q=COMMUNES&speaker=nikita-khrushchev") == set()
        assert "ordering" in errors("ordering=relevance")
        assert "q" in errors('q="unclosed')

    def test_ordering_by_speaker_name_then_date(self):
        ordered = Excerpt.objects.order_by(*ORDERINGS["-speaker"])
        assert list(ordered) == [self.uncertain, self.secret, self.summer, self.year, self.editorial]

    def test_unknown_slugs_are_errors_not_empty_results(self):
        assert "No speaker has the slug nobody" in errors("speaker=nobody")["speaker"][0]
        assert "topic" in errors("topic=nothing")
        assert "event" in errors("event=nothing")

    def test_malformed_values_are_errors_naming_the_parameter(self):
        assert set(errors("date_after=1958-02-30&kind=poem&attribution=x&language=Chinese&source=abc")) == {
            "date_after",
            "kind",
            "attribution",
            "language",
            "source",
        }

    def test_date_after_later_than_date_before_is_an_error(self):
        assert "later than date_before" in errors("date_after=1959&date_before=1958")["date_after"][0]

    def test_a_source_id_too_large_for_the_database_is_an_error(self):
        assert "source" in errors("source=9223372036854775808")

    def test_filter_sets_share_their_form_class_and_fields_but_never_a_request_s_values_or_errors(self):
        # The filters' fields and the form class are built once per process (filters.SharedFieldMixin); each filter
        # set still has its own filters, bound to itself, and each form its own fields, values and errors.
        bad = ExcerptFilterSet(QueryDict("speaker=nobody&date_after=19x"), queryset=Excerpt.objects.all())
        good = ExcerptFilterSet(QueryDict("speaker=mao-zedong&date_after=1958-06"), queryset=Excerpt.objects.all())
        assert not bad.is_valid()
        assert good.is_valid(), good.errors
        assert set(bad.errors) == {"speaker", "date_after"}
        assert good.errors == {}
        assert type(bad.form) is type(good.form)
        assert bad.form.fields["speaker"] is not good.form.fields["speaker"]
        assert bad.filters["speaker"] is not good.filters["speaker"]
        assert [bad.filters["speaker"].parent, good.filters["speaker"].parent] == [bad, good]
        # A method filter calls the method of its own filter set.
        assert good.filters["date_after"].filter.f is good.filters["date_after"]
        assert set(good.qs) == {self.summer, self.year}
        assert filtered("speaker=nikita-khrushchev&date_before=1957") == {self.secret}


class SpeakerFilterSetTests(TestCase):
    def test_speaker_q_searches_name_and_aliases(self):
        mao = factories.speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
        factories.speaker("zhou-enlai", "Zhou Enlai")
        filterset = SpeakerFilterSet(QueryDict("q=tse-TUNG"), queryset=Speaker.objects.all())
        assert list(filterset.qs) == [mao]


@pytest.mark.django_db
class TestFilteredQuerysetsKeptPerDataVersion:
    """
    The excerpt list keeps each filtered queryset per parameters, role and data version (StrictFilterBackend), so a
    request with the same filters is neither checked nor built again until a write moves the data version.
    """

    LIST = "excerpt-list"

    @pytest.fixture
    def checks(self, monkeypatch):
        made = []
        original = StrictFilterBackend.checked_and_filtered

        def counted(backend, request, queryset, view):
            made.append(request.query_params.urlencode())
            return original(backend, request, queryset, view)

        monkeypatch.setattr(StrictFilterBackend, "checked_and_filtered", counted)
        return made

    @pytest.fixture
    def mao(self):
        mao = factories.speaker("mao-zedong", "Mao Zedong")
        for year in range(1950, 1956):
            factories.excerpt(f"Words of {year}.", speaker=mao, date=str(year))
        factories.excerpt("Other words.", date="1953")
        return mao

    def test_the_same_filters_are_checked_once_until_a_write(self, client, mao, checks):
        params = {"speaker": "mao-zedong", "date_after": "1951", "ordering": "-date", "page_size": 2}
        first = client.get(reverse(self.LIST), params).json()
        second = client.get(first["next"]).json()  # another position, the same filters
        again = client.get(reverse(self.LIST), params).json()
        assert len(checks) == 1
        assert again == first
        years = [item["date"] for page in (first, second) for item in page["results"]]
        assert years == ["1955", "1954", "1953", "1952"] and first["count"] == 5
        newest = factories.excerpt("Words of 1959.", speaker=mao, date="1959")  # a write moves the data version
        after = client.get(reverse(self.LIST), params).json()
        assert len(checks) == 2
        assert after["count"] == 6 and after["results"][0]["id"] == newest.pk

    def test_a_slug_changed_by_a_write_is_refused_not_served_from_the_kept_queryset(self, client, mao):
        assert client.get(reverse(self.LIST), {"speaker": "mao-zedong"}).json()["count"] == 6
        mao.slug = "mao-tse-tung"
        mao.save()
        response = client.get(reverse(self.LIST), {"speaker": "mao-zedong"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["name"] == "speaker"
        assert client.get(reverse(self.LIST), {"speaker": "mao-tse-tung"}).json()["count"] == 6

    def test_a_refused_request_is_checked_every_time(self, client, mao, checks):
        for _ in range(2):
            response = client.get(reverse(self.LIST), {"speaker": "nobody"})
            assert response.status_code == 400
        assert len(checks) == 2

    def test_the_public_and_a_curator_never_share_a_kept_queryset(self, client_as, curator, mao, checks):
        factories.excerpt("A draft.", speaker=mao, date="1957", status=Excerpt.Status.DRAFT)
        params = {"speaker": "mao-zedong"}
        counts = [client_as(user).get(reverse(self.LIST), params).json()["count"] for user in (None, curator, None)]
        assert counts == [6, 7, 6]
        assert len(checks) == 2
