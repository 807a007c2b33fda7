"""
Upgrading a deployment: a database migrated at an earlier commit of main, with data in it, migrates to head and
then answers exactly as a database freshly migrated at head with the same data does.

Each earlier state is made by the code of its own commit (taken from git), on the engine the suite runs on:
the objects its migrations installed through the live code of that day are what an upgrade meets.
"""

import json
import os
import subprocess
import sys
import tarfile
import uuid
from io import BytesIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]
EARLIER_STATES = {
    "9180ca4": "migrations to 0006; the PostgreSQL data-version table without its writes column",
    "00b0e95": "migrations to 0007, the commit before the facet summary (0008)",
    "d25e6e3": "migrations to 0011, installed through the live modules of that day",
}

# Run by today's code against each database: what a client and a curator see, before and after writes.
PROBE = r"""
import json, os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from excerpts.research.caching import data_version
from excerpts.models import Excerpt, Source, Speaker, Topic

client = Client()


def read():
    cache.clear()
    answers = {}
    for name, params in {
        "list": {"page_size": 100},
        "by speaker": {"ordering": "speaker", "page_size": 100},
        "mao since 1958": {"speaker": "mao-zedong", "date_after": "1958"},
        "search stalin": {"q": "stalin"},
        "search phrase": {"q": '"collective leadership"'},
        "search exclusion": {"q": "imperialism -war"},
        "search alias": {"q": "tse-tung"},
    }.items():
        body = client.get(reverse("excerpt-list"), params).json()
        answers[name] = [body["count"], [(item["id"], item.get("highlight")) for item in body["results"]]]
    answers["facets"] = client.get(reverse("excerpt-facets")).json()
    answers["facets of a search"] = client.get(reverse("excerpt-facets"), {"q": "soviet"}).json()
    speakers = client.get(reverse("speaker-list")).json()["results"]
    answers["speakers"] = [(s["slug"], s["excerpt_count"]) for s in speakers]
    return answers


result = {"before": read()}
version = data_version()
speaker = Speaker.objects.get(slug="mao-zedong")
topic = Topic.objects.order_by("id").first()
excerpt = Excerpt.objects.create(
    text="Upgrade probe: the east wind prevails.", kind="speech", speaker=speaker, date="1957-11-18",
    source=Source.objects.order_by("id").first(), language="zh", status="published",
)
excerpt.topics.set([topic])
speaker.name = "Chairman Mao"
speaker.save()
Excerpt.objects.filter(pk=excerpt.pk).update(text="Upgrade probe: the east wind prevails over the west wind.")
result["version moved"] = data_version() != version
result["after"] = read()
found = client.get(reverse("excerpt-list"), {"q": "west wind chairman"}).json()["results"]
result["probe found"] = [item["id"] for item in found]
result["probe id"] = excerpt.pk
result["copied name"] = Excerpt.objects.get(pk=excerpt.pk).speaker_name
print(json.dumps(result, sort_keys=True))
"""


def run(args, cwd, database_url, **kwargs):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(cwd),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        # The probe's test client speaks plain HTTP to "testserver": the development settings.
        "DJANGO_DEBUG": "true",
    }
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def checkout(commit, destination):
    """The tree of ``commit`` from this repository's history (a fresh clone of main has all of it)."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return destination


@pytest.fixture
def new_database(tmp_path):
    """Make empty databases on the suite's engine; yield a function returning each one's URL."""
    made = []

    def make():
        if not POSTGRESQL:
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}"
        name = f"excerpts_upgrade_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return server_url(name)

    yield make
    if made:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            for name in made:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def server_url(name):
    database = settings.DATABASES["default"]
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{host}:{port}/{name}"


def manage(tree):
    return [sys.executable, str(tree / "manage.py")]


@pytest.mark.parametrize("commit", list(EARLIER_STATES))
def test_a_database_migrated_at_an_earlier_commit_upgrades_to_what_a_fresh_one_answers(commit, tmp_path, new_database):
    old = checkout(commit, tmp_path / commit)
    fixture = old / "fixtures" / "sino_soviet_split.json"
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)

    upgraded = new_database()
    run([*manage(old), "migrate", "-v0"], old, upgraded)
    run([*manage(old), "loaddata", str(fixture), "-v0"], old, upgraded)
    run([*manage(ROOT), "migrate", "-v0"], ROOT, upgraded)
    assert "no issues" in run([*manage(ROOT), "check"], ROOT, upgraded)  # every object at today's declaration

    fresh = new_database()
    run([*manage(ROOT), "migrate", "-v0"], ROOT, fresh)
    run([*manage(ROOT), "loaddata", str(fixture), "-v0"], ROOT, fresh)

    after_upgrade = json.loads(run([sys.executable, str(probe)], ROOT, upgraded))
    from_fresh = json.loads(run([sys.executable, str(probe)], ROOT, fresh))
    assert after_upgrade == from_fresh
    # And what they agree on is right, not merely equal.
    assert after_upgrade["before"]["list"][0] == 32
    assert after_upgrade["before"]["facets"]["count"] == 32
    assert after_upgrade["after"]["facets"]["count"] == 33
    assert sorted(hit[0] for hit in after_upgrade["before"]["search phrase"][1]) == [4, 14]
    assert after_upgrade["before"]["search stalin"][0] >= 3
    assert after_upgrade["version moved"] is True
    assert after_upgrade["probe found"] == [after_upgrade["probe id"]]
    assert after_upgrade["copied name"] == "Chairman Mao"
    speakers = {slug: count for slug, count in after_upgrade["after"]["speakers"] if count}
    assert speakers == {item["value"]: item["count"] for item in after_upgrade["after"]["facets"]["speaker"]}
