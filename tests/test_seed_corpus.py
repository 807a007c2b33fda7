"""load_seed_corpus fills an empty database with the seed corpus and never overwrites one that has data."""

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from contextlib import closing
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models.signals import post_save

from excerpts.models import Event, Excerpt, Source, Speaker, Topic
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads((ROOT / "fixtures" / "sino_soviet_split.json").read_text())
SEED_EXCERPTS = [item for item in SEED if item["model"] == "excerpts.excerpt"]
SEED_TEXTS = sorted(item["fields"]["text"] for item in SEED_EXCERPTS)
EDITED_TEXT = "A curator's correction, made in the admin."


def load_seed_corpus():
    out = StringIO()
    call_command("load_seed_corpus", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_load_seed_corpus_loads_every_excerpt_of_the_fixture_into_an_empty_database():
    message = load_seed_corpus()

    assert sorted(Excerpt.objects.values_list("text", flat=True)) == SEED_TEXTS
    assert message.startswith(f"Loaded the seed corpus: {len(SEED_TEXTS)} excerpts, ")


@pytest.mark.django_db
def test_a_second_run_loads_nothing_keeps_an_edit_and_says_why():
    load_seed_corpus()
    edited = Excerpt.objects.order_by("pk").first()
    edited.text = EDITED_TEXT
    edited.save()

    message = load_seed_corpus()

    assert message.startswith(f"The database already has {len(SEED_TEXTS)} excerpts, ")
    assert message.endswith("; the seed corpus was not loaded.")
    assert Excerpt.objects.count() == len(SEED_TEXTS)
    assert Excerpt.objects.get(pk=edited.pk).text == EDITED_TEXT


@pytest.mark.django_db
def test_reference_data_without_excerpts_is_not_overwritten_either():
    # The seed has a speaker with this slug; loading it would replace the curator's name and aliases.
    factories.speaker("mao-zedong", "Chairman Mao")

    message = load_seed_corpus()

    assert message == "The database already has 1 speaker; the seed corpus was not loaded."
    assert list(Speaker.objects.values_list("name", "aliases")) == [("Chairman Mao", [])]
    assert Excerpt.objects.count() == 0


class LoadFailed(Exception):
    pass


@pytest.mark.django_db
def test_a_load_that_fails_half_way_leaves_the_database_empty():
    def fail_at_excerpts(**kwargs):
        raise LoadFailed("the database went away")

    # Speakers, sources, topics and events come first in the fixture: they are saved when the excerpts fail.
    post_save.connect(fail_at_excerpts, sender=Excerpt, dispatch_uid="fail_at_excerpts")
    try:
        with pytest.raises(LoadFailed):
            load_seed_corpus()
    finally:
        post_save.disconnect(sender=Excerpt, dispatch_uid="fail_at_excerpts")

    assert [model.objects.count() for model in (Speaker, Source, Topic, Event, Excerpt)] == [0, 0, 0, 0, 0]


def readme_run_steps():
    """The manage.py steps of the README's run command, found as .ci/run finds it, except runserver."""
    line = next(
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if re.match(r"python3 -m venv .* runserver", line)
    )
    steps = [shlex.split(step) for step in line.split("&&")]
    return [step[step.index("manage.py") + 1 :] for step in steps if "manage.py" in step and "runserver" not in step]


# Saved through the ORM, as the admin saves it (with a history entry).
EDIT = """
from excerpts.models import Excerpt
excerpt = Excerpt.objects.get(pk={pk})
excerpt.text = {text!r}
excerpt.save()
"""


def test_the_readme_run_command_run_again_keeps_an_edit_made_in_between(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    edited = SEED_EXCERPTS[0]["pk"]

    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def run_steps():
        for args in readme_run_steps():
            manage(*args)

    def text_and_count():
        with closing(sqlite3.connect(database)) as connection:
            [(text,)] = connection.execute("SELECT text FROM excerpts_excerpt WHERE id = ?", [edited])
            [(count,)] = connection.execute("SELECT count(*) FROM excerpts_excerpt")
        return text, count

    run_steps()
    assert text_and_count() == (SEED_EXCERPTS[0]["fields"]["text"], len(SEED_EXCERPTS))
    manage("shell", "-v0", "-c", EDIT.format(pk=edited, text=EDITED_TEXT))
    run_steps()

    assert text_and_count() == (EDITED_TEXT, len(SEED_EXCERPTS))


@pytest.mark.django_db
def test_the_readme_curator_example_works_on_the_seed_corpus(curator):
    # The README's write example, request by request, as a curator on the shipped data: each body as written there.
    readme = (ROOT / "README.md").read_text()
    block = readme.split("On the seed corpus: a new topic, then a draft excerpt", 1)[1].split("```", 2)[1]
    bodies = [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", block, re.DOTALL)]
    assert len(bodies) == 3 and sorted(bodies[0]) == ["description", "name", "slug"]
    # On a freshly loaded database the sources are numbered in the fixture's order: the README's source 4 is the
    # fourth. (In this test database earlier tests may have used the numbers, PostgreSQL's sequences never go back.)
    sources = [item["fields"]["slug"] for item in SEED if item["model"] == "excerpts.source"]
    assert bodies[1]["source"] == 4 and sources[3] == "mao-selected-works-vol-5-1977"
    load_seed_corpus()
    client = factories.api_client(curator)
    topic = client.post("/api/v1/topics/", bodies[0], format="json")
    assert topic.status_code == 201, topic.content
    source = Source.objects.get(slug=sources[3]).pk
    excerpt = client.post("/api/v1/excerpts/", {**bodies[1], "source": source}, format="json")
    assert excerpt.status_code == 201, excerpt.content
    created = excerpt.json()
    # Source 4 is what the README says it is.
    assert created["source"]["title"] == "Selected Works of Mao Tse-Tung, Vol. 5"
    assert [topic["slug"] for topic in created["topics"]] == ["hundred-flowers"]
    published = client.patch(f"/api/v1/excerpts/{created['id']}/", bodies[2], format="json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    history = client.get(f"/api/v1/excerpts/{created['id']}/history/")
    assert history.status_code == 200 and len(history.json()) == 2
