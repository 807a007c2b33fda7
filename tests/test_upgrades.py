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


# The last commit whose tokens and session keys were stored as they are sent (DRF's authtoken, Django's sessions).
PLAIN_CREDENTIALS = "2f3a454"

LOG_IN = r"""
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client

get_user_model().objects.create_superuser("root", password="an-admin-password-1958")
client = Client()
assert client.login(username="root", password="an-admin-password-1958")
print(client.cookies["sessionid"].value)
"""

# Run by today's code after the upgrade: do the old credentials still work, and does the database still hold them?
USE_CREDENTIALS = r"""
import json, sys
import django
django.setup()
from django.db import connection
from django.test import Client
from django.urls import reverse

token, session = sys.argv[1:3]
client = Client()


def write(key):
    return client.post(
        reverse("excerpt-list"), {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    ).status_code


result = {"write": write(token), "forged write": write(token[:-1] + ("1" if token[-1] == "0" else "0"))}
client.cookies["sessionid"] = session
result["admin"] = client.get(reverse("admin:index")).status_code
stored = []
with connection.cursor() as cursor:
    for table in connection.introspection.table_names():
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        stored.extend(str(value) for row in cursor.fetchall() for value in row)
result["stored credentials"] = [value for value in stored if token in value or session in value]
tables = connection.introspection.table_names()
result["authtoken tables"] = [table for table in tables if table.startswith("authtoken")]
print(json.dumps(result))
"""


def test_tokens_and_admin_sessions_of_an_earlier_commit_keep_working_and_leave_the_database(
    tmp_path, new_database, monkeypatch
):
    # Sessions are signed with the secret key: a deployment keeps its key across the upgrade.
    monkeypatch.setenv("DJANGO_SECRET_KEY", "an-upgraded-deployment-keeps-its-own-secret-key-across-upgrades")
    old = checkout(PLAIN_CREDENTIALS, tmp_path / PLAIN_CREDENTIALS)
    (tmp_path / "log_in.py").write_text(LOG_IN)
    (tmp_path / "use_credentials.py").write_text(USE_CREDENTIALS)
    database = new_database()
    run([*manage(old), "migrate", "-v0"], old, database)
    token = run([*manage(old), "create_curator", "alice"], old, database).strip()
    session = run([sys.executable, str(tmp_path / "log_in.py")], old, database).strip()
    assert len(token) == 40 and len(session) == 32

    run([*manage(ROOT), "migrate", "-v0"], ROOT, database)
    result = json.loads(run([sys.executable, str(tmp_path / "use_credentials.py"), token, session], ROOT, database))

    # The curator's write is refused for its empty body, not for its token; a token one character off is a 401.
    assert (result["write"], result["forged write"], result["admin"]) == (400, 401, 200)
    assert result["stored credentials"] == []
    assert result["authtoken tables"] == []
    if not POSTGRESQL:  # nor anywhere in the file, freed pages included
        contents = Path(database.removeprefix("sqlite:///")).read_bytes()
        assert token.encode() not in contents
        assert session.encode() not in contents
