"""ordering=speaker reads a copy of each excerpt's speaker name: every write path keeps the copy current."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from excerpts import db
from excerpts.db import speaker_name
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_speakers():
    """Mao and Zhou, an excerpt each: Zhou's is the earlier, Mao's comes first by speaker."""
    mao, zhou = factories.speaker("mao-zedong", "Mao Zedong"), factories.speaker("zhou-enlai", "Zhou Enlai")
    works = factories.source("works", "Works")
    return {
        "mao": mao,
        "zhou": zhou,
        "works": works,
        "steel": factories.excerpt("Steel.", speaker=mao, source=works, date="1958"),
        "grain": factories.excerpt("Grain.", speaker=zhou, source=works, date="1957"),
    }


def copied_names():
    return dict(Excerpt.objects.values_list("text", "speaker_name"))


def speaker_order(client):
    return [item["text"] for item in client.get(reverse("excerpt-list"), {"ordering": "speaker"}).json()["results"]]


def test_a_new_excerpt_copies_its_speakers_name(two_speakers):
    assert copied_names() == {"Steel.": "Mao Zedong", "Grain.": "Zhou Enlai"}


def test_renaming_a_speaker_renames_the_copies_and_reorders(client, two_speakers):
    assert speaker_order(client) == ["Steel.", "Grain."]
    two_speakers["mao"].name = "Zhu Mao"
    two_speakers["mao"].save()
    assert copied_names()["Steel."] == "Zhu Mao"
    assert speaker_order(client) == ["Grain.", "Steel."]
    # The speaker filter also narrows by the copied name: it still finds the renamed speaker's excerpts.
    found = client.get(reverse("excerpt-list"), {"speaker": ["mao-zedong", "zhou-enlai"], "ordering": "-speaker"})
    assert [item["text"] for item in found.json()["results"]] == ["Steel.", "Grain."]


def test_moving_an_excerpt_to_another_speaker_copies_the_new_name(two_speakers):
    two_speakers["steel"].speaker = two_speakers["zhou"]
    two_speakers["steel"].save()
    Excerpt.objects.filter(pk=two_speakers["grain"].pk).update(speaker=two_speakers["mao"])
    assert copied_names() == {"Steel.": "Zhou Enlai", "Grain.": "Mao Zedong"}


def test_a_copy_written_by_hand_is_put_right(two_speakers):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE excerpts_excerpt SET speaker_name = 'Aaa'")
    assert copied_names() == {"Steel.": "Mao Zedong", "Grain.": "Zhou Enlai"}


def test_loaddata_of_an_excerpt_before_its_speaker_copies_the_name(two_speakers, tmp_path):
    excerpt = factories.excerpt_fixture(9001, 9001, two_speakers["works"].pk, "1960")
    speaker = {"model": "excerpts.speaker", "pk": 9001, "fields": {"slug": "peng", "name": "Peng Dehuai"}}
    (tmp_path / "more.json").write_text(json.dumps([excerpt, speaker]))
    call_command("loaddata", str(tmp_path / "more.json"), verbosity=0)
    assert copied_names()["Loaded."] == "Peng Dehuai"


def test_repair_database_restores_lost_triggers_and_copies_afresh(two_speakers):
    db.run(connection, db.uninstall_statements(connection.vendor, [speaker_name]))
    two_speakers["mao"].name = "Chairman Mao"
    two_speakers["mao"].save()
    assert copied_names()["Steel."] == "Mao Zedong"  # nothing kept the copy
    call_command("repair_database", stdout=StringIO())
    assert copied_names()["Steel."] == "Chairman Mao"
    two_speakers["zhou"].name = "Chou En-lai"
    two_speakers["zhou"].save()
    assert copied_names()["Grain."] == "Chou En-lai"
