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
from tests.research_data import excerpt_fixture, make_excerpt, make_source, make_speaker

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    mao, zhou = make_speaker("mao-zedong", "Mao Zedong"), make_speaker("zhou-enlai", "Zhou Enlai")
    works = make_source("works", "Works")
    return {
        "mao": mao,
        "zhou": zhou,
        "works": works,
        "steel": make_excerpt("Steel.", mao, works, date="1958"),
        "grain": make_excerpt("Grain.", zhou, works, date="1957"),
    }


def copied_names():
    return dict(Excerpt.objects.values_list("text", "speaker_name"))


def speaker_order(client):
    return [item["text"] for item in client.get(reverse("excerpt-list"), {"ordering": "speaker"}).json()["results"]]


def test_a_new_excerpt_copies_its_speakers_name(corpus):
    assert copied_names() == {"Steel.": "Mao Zedong", "Grain.": "Zhou Enlai"}


def test_renaming_a_speaker_renames_the_copies_and_reorders(client, corpus):
    assert speaker_order(client) == ["Steel.", "Grain."]
    corpus["mao"].name = "Zhu Mao"
    corpus["mao"].save()
    assert copied_names()["Steel."] == "Zhu Mao"
    assert speaker_order(client) == ["Grain.", "Steel."]
    # The speaker filter also narrows by the copied name: it still finds the renamed speaker's excerpts.
    found = client.get(reverse("excerpt-list"), {"speaker": ["mao-zedong", "zhou-enlai"], "ordering": "-speaker"})
    assert [item["text"] for item in found.json()["results"]] == ["Steel.", "Grain."]


def test_moving_an_excerpt_to_another_speaker_copies_the_new_name(corpus):
    corpus["steel"].speaker = corpus["zhou"]
    corpus["steel"].save()
    Excerpt.objects.filter(pk=corpus["grain"].pk).update(speaker=corpus["mao"])
    assert copied_names() == {"Steel.": "Zhou Enlai", "Grain.": "Mao Zedong"}


def test_a_copy_written_by_hand_is_put_right(corpus):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE excerpts_excerpt SET speaker_name = 'Aaa'")
    assert copied_names() == {"Steel.": "Mao Zedong", "Grain.": "Zhou Enlai"}


def test_loaddata_of_an_excerpt_before_its_speaker_copies_the_name(corpus, tmp_path):
    excerpt = excerpt_fixture(9001, 9001, corpus["works"].pk, "1960")
    speaker = {"model": "excerpts.speaker", "pk": 9001, "fields": {"slug": "peng", "name": "Peng Dehuai"}}
    (tmp_path / "more.json").write_text(json.dumps([excerpt, speaker]))
    call_command("loaddata", str(tmp_path / "more.json"), verbosity=0)
    assert copied_names()["Loaded."] == "Peng Dehuai"


def test_repair_database_restores_lost_triggers_and_copies_afresh(corpus):
    db.run(connection, db.uninstall_statements(connection.vendor, [speaker_name]))
    corpus["mao"].name = "Chairman Mao"
    corpus["mao"].save()
    assert copied_names()["Steel."] == "Mao Zedong"  # nothing kept the copy
    call_command("repair_database", stdout=StringIO())
    assert copied_names()["Steel."] == "Chairman Mao"
    corpus["zhou"].name = "Chou En-lai"
    corpus["zhou"].save()
    assert copied_names()["Grain."] == "Chou En-lai"
