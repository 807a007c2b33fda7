"""
Clients generated from the schema, as an app developer makes them, call every operation of a live server: a Python
client by openapi-python-client, and TypeScript types by openapi-typescript used through openapi-fetch and compiled
by tsc in strict mode (tests/clients/). Each answer is parsed as the schema types it and checked for its values.

The server is gunicorn with the production settings (tests/test_serving.py), on a SQLite file with the seed corpus
and a built dump, and an administrator's token for the writes.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests import servers
from tests.test_serving import PATIENCE, prepare, running

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "tests" / "clients"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
MALENKOV = "peaceful economic competition"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The base URL of a live server, an administrator's token and the schema it serves (a file)."""
    directory = tmp_path_factory.mktemp("generated-clients")
    env = prepare(directory, directory / "static", synthetic=0)
    env["EXCERPTS_DUMPS_DIR"] = str(directory / "dumps")

    def manage(*command):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("build_dumps")
    token = manage("create_curator", "client-tests").split()[-1]
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.filter(username='client-tests')"
        ".update(is_superuser=True, is_staff=True)",
    )
    with running(env, directory / "gunicorn.log") as server:
        base = f"http://127.0.0.1:{server.port}"
        schema = directory / "schema.json"
        with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=PATIENCE) as answer:
            schema.write_bytes(answer.read())
        yield base, token, schema


def operation_ids(schema):
    document = json.loads(schema.read_text())
    return {operation["operationId"] for path in document["paths"].values() for operation in path.values()}


@pytest.fixture(scope="module")
def python_client(live, tmp_path_factory):
    """The package openapi-python-client generates from the live schema, imported."""
    _, _, schema = live
    output = tmp_path_factory.mktemp("python-client")
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--config",
            str(CLIENTS / "python-client.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(output / "excerpts_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Every operation and every answer is generated: nothing skipped with a warning.
    assert "WARNING" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(output))
    try:
        yield importlib.import_module("excerpts_client")
    finally:
        sys.path.remove(str(output))
        for name in [name for name in sys.modules if name.startswith("excerpts_client")]:
            del sys.modules[name]


def test_a_generated_python_client_calls_every_operation_and_parses_each_answer(live, python_client):
    base, token, schema = live
    client_module = python_client
    admin = client_module.AuthenticatedClient(
        base_url=base, token=token, prefix="Token", raise_on_unexpected_status=True
    )
    anonymous = client_module.Client(base_url=base, raise_on_unexpected_status=True)
    models = importlib.import_module("excerpts_client.models")
    called = set()

    def call(tag, operation, client=anonymous, **arguments):
        module = importlib.import_module(f"excerpts_client.api.{tag}.{operation}")
        response = module.sync_detailed(client=client, **arguments)
        called.add(operation)
        return response

    # Reads of excerpts.
    page = call("excerpts", "v1_excerpts_list", speaker=["georgy-malenkov"]).parsed
    assert isinstance(page, models.PaginatedExcerptList)
    [malenkov] = page.results
    assert (malenkov.text, malenkov.speaker.name) == (MALENKOV, "Georgy Malenkov")
    assert malenkov.citation.startswith("Georgy Malenkov, quotation, March 1953")
    one = call("excerpts", "v1_excerpts_retrieve", id=malenkov.id).parsed
    assert (one.id, one.source.title) == (
        malenkov.id,
        "Reviewing and Reconsidering the History of Sino-Soviet Relations",
    )
    linked = call("excerpts", "v1_excerpts_retrieve_linked_data", id=malenkov.id)
    assert (linked.status_code, json.loads(linked.content)["@type"]) == (200, "Quotation")
    facets = call("excerpts", "v1_excerpts_facets_retrieve", speaker=["mao-zedong"]).parsed
    assert facets.count == sum(value.count for value in facets.speaker) > 0
    drawn = call("excerpts", "v1_excerpts_random_retrieve", count=3, seed=7).parsed
    assert (drawn.seed, len(drawn.results)) == (7, 3)

    # Files: each a string, as its one media type says.
    csv = call("excerpts", "v1_excerpts_export_csv", speaker=["georgy-malenkov"]).parsed
    assert csv.splitlines()[0].startswith("id,url,text,") and MALENKOV in csv and len(csv.splitlines()) == 2
    lines = call("excerpts", "v1_excerpts_export_jsonl", speaker=["georgy-malenkov"]).parsed
    assert [json.loads(line)["text"] for line in lines.splitlines()] == [MALENKOV]

    # Citations: CSL-JSON as items, the others as text.
    [item] = call("excerpts", "v1_excerpts_cite", id=malenkov.id).parsed
    assert item.to_dict()["author"] == [{"literal": "Zhihua Shen"}]
    [item] = call("excerpts", "v1_excerpts_cite_csl_json", id=malenkov.id).parsed
    assert item.to_dict()["page"] == "141"
    assert call("excerpts", "v1_excerpts_cite_bibtex", id=malenkov.id).parsed.startswith(
        f"@book{{excerpt-{malenkov.id},"
    )
    assert "AU  - Zhihua Shen" in call("excerpts", "v1_excerpts_cite_ris", id=malenkov.id).parsed
    assert call("excerpts", "v1_excerpts_cite_chicago", id=malenkov.id).parsed.startswith("Georgy Malenkov, ")
    mao = {"speaker": ["mao-zedong"]}
    items = call("excerpts", "v1_excerpts_cite_list", **mao).parsed
    assert len(items) == len(call("excerpts", "v1_excerpts_cite_list_csl_json", **mao).parsed) == facets.count
    assert call("excerpts", "v1_excerpts_cite_list_bibtex", **mao).parsed.count("@") == facets.count
    assert call("excerpts", "v1_excerpts_cite_list_ris", **mao).parsed.count("ER  - ") == facets.count
    assert len(call("excerpts", "v1_excerpts_cite_list_chicago", **mao).parsed.splitlines()) == facets.count

    # Reference lists and details.
    speakers = call("speakers", "v1_speakers_list").parsed
    assert "Mao Zedong" in [speaker.name for speaker in speakers.results]
    assert call("speakers", "v1_speakers_retrieve", slug="mao-zedong").parsed.aliases
    assert call("topics", "v1_topics_list").parsed.count > 0
    assert call("events", "v1_events_list").parsed.count > 0
    event = call("events", "v1_events_retrieve", slug="twentieth-party-congress").parsed
    assert event.name == "Twentieth Congress of the CPSU"
    sources = call("sources", "v1_sources_list").parsed
    shen = next(source for source in sources.results if source.author == "Zhihua Shen")
    assert call("sources", "v1_sources_retrieve", id=shen.id).parsed.title == shen.title

    # Dumps: the listing, a file as bytes, and the redirect to the newest.
    listing = call("dumps", "v1_dumps_list").parsed
    assert listing.current is True
    first = listing.files[0]
    dumped = call("dumps", "v1_dumps_file", name=first.name)
    assert dumped.status_code == 200 and dumped.content[:2] == b"\x1f\x8b"  # gzip
    latest = call("dumps", "v1_dumps_latest", format_=models.V1DumpsLatestFormat("csv"))
    assert latest.status_code == 302 and latest.headers["location"].endswith(".csv.gz")

    # Writes, by an administrator: create, change, read the history, delete; each answer parsed.
    topic = call(
        "topics",
        "v1_topics_create",
        client=admin,
        body=models.TopicWriteRequest(slug="generated-client", name="Generated client", description="A test topic."),
    ).parsed
    assert topic.slug == "generated-client"
    renamed = call(
        "topics",
        "v1_topics_update",
        client=admin,
        slug="generated-client",
        body=models.TopicWriteRequest(slug="generated-client", name="Renamed", description="A test topic."),
    ).parsed
    assert renamed.name == "Renamed"
    patched = call(
        "topics",
        "v1_topics_partial_update",
        client=admin,
        slug="generated-client",
        body=models.PatchedTopicWriteRequest(description="Changed."),
    ).parsed
    assert patched.description == "Changed."
    speaker = call(
        "speakers",
        "v1_speakers_create",
        client=admin,
        body=models.SpeakerWriteRequest(slug="generated-speaker", name="Generated Speaker"),
    ).parsed
    assert speaker.name == "Generated Speaker"
    call(
        "speakers",
        "v1_speakers_update",
        client=admin,
        slug="generated-speaker",
        body=models.SpeakerWriteRequest(slug="generated-speaker", name="Generated Speaker", aliases=["G. Speaker"]),
    )
    assert call(
        "speakers",
        "v1_speakers_partial_update",
        client=admin,
        slug="generated-speaker",
        body=models.PatchedSpeakerWriteRequest(description="Made by a test."),
    ).parsed.aliases == ["G. Speaker"]
    event = call(
        "events",
        "v1_events_create",
        client=admin,
        body=models.EventWriteRequest(slug="generated-event", name="Generated event", date="1958-11"),
    ).parsed
    assert event.date == "1958-11"
    call(
        "events",
        "v1_events_update",
        client=admin,
        slug="generated-event",
        body=models.EventWriteRequest(slug="generated-event", name="Generated event", date="1958"),
    )
    assert (
        call(
            "events",
            "v1_events_partial_update",
            client=admin,
            slug="generated-event",
            body=models.PatchedEventWriteRequest(place="Wuchang"),
        ).parsed.date
        == "1958"
    )
    source = call(
        "sources",
        "v1_sources_create",
        client=admin,
        body=models.SourceWriteRequest(
            slug="generated-source", title="Generated Papers", kind=models.SourceKindEnum("book"), date="1960"
        ),
    ).parsed
    call(
        "sources",
        "v1_sources_update",
        client=admin,
        id=source.id,
        body=models.SourceWriteRequest(
            slug="generated-source", title="Generated Papers", kind=models.SourceKindEnum("book"), date="1961"
        ),
    )
    assert (
        call(
            "sources",
            "v1_sources_partial_update",
            client=admin,
            id=source.id,
            body=models.PatchedSourceWriteRequest(author="A. Historian"),
        ).parsed.date
        == "1961"
    )
    written = call(
        "excerpts",
        "v1_excerpts_create",
        client=admin,
        body=models.ExcerptWriteRequest(
            text="Words written through a generated client.",
            kind=models.ExcerptKindEnum("speech"),
            speaker="generated-speaker",
            date="1958-11",
            source=source.id,
            language="zh",
            locator="p. 9",
            topics=["generated-client"],
            event="generated-event",
            status=models.StatusEnum("published"),
        ),
    ).parsed
    assert (written.date_display, written.status) == ("November 1958", models.StatusEnum("published"))
    assert written.citation == (
        "Generated Speaker, speech, November 1958, Generated event, in A. Historian, Generated Papers, 1961, 9."
    )
    replaced = call(
        "excerpts",
        "v1_excerpts_update",
        client=admin,
        id=written.id,
        body=models.ExcerptWriteRequest(
            text="Words written through a generated client, replaced.",
            kind=models.ExcerptKindEnum("speech"),
            speaker="generated-speaker",
            date="1958-11",
            source=source.id,
            language="zh",
            status=models.StatusEnum("published"),
        ),
    ).parsed
    assert replaced.text.endswith("replaced.")
    assert (
        call(
            "excerpts",
            "v1_excerpts_partial_update",
            client=admin,
            id=written.id,
            body=models.PatchedExcerptWriteRequest(date="1958-12"),
        ).parsed.date_display
        == "December 1958"
    )
    history = call("excerpts", "v1_excerpts_history_list", client=admin, id=written.id).parsed
    assert [entry.history_type.value for entry in history] == ["~", "~", "+"]

    # A problem is parsed as one: the client reads a 404 as the schema's Problem.
    missing = importlib.import_module("excerpts_client.api.excerpts.v1_excerpts_retrieve").sync_detailed(
        id=written.id + 1000, client=client_module.Client(base_url=base)
    )
    assert (missing.status_code, missing.parsed.status, missing.parsed.title) == (404, 404, "Not found")

    for tag, operation, key in [
        ("excerpts", "v1_excerpts_destroy", {"id": written.id}),
        ("sources", "v1_sources_destroy", {"id": source.id}),
        ("events", "v1_events_destroy", {"slug": "generated-event"}),
        ("speakers", "v1_speakers_destroy", {"slug": "generated-speaker"}),
        ("topics", "v1_topics_destroy", {"slug": "generated-client"}),
    ]:
        assert call(tag, operation, client=admin, **key).status_code == 204, operation
    assert (
        call(
            "topics", "v1_topics_retrieve", slug="generated-client", client=client_module.Client(base_url=base)
        ).status_code
        == 404
    )

    assert called == operation_ids(schema)


def npm_ready():
    """tests/clients/node_modules as package-lock.json pins it (npm ci), or a skip (a failure in CI) without npm."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        servers.required("EXCERPTS_REQUIRE_CLIENTS", "Node.js and npm are not installed")
    if not (CLIENTS / "node_modules" / ".package-lock.json").exists():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, capture_output=True, text=True, timeout=PATIENCE * 5
        )
        if done.returncode != 0:
            servers.required("EXCERPTS_REQUIRE_CLIENTS", f"npm ci failed: {done.stderr[-2000:]}")
    return npm


def test_typescript_types_generated_by_openapi_typescript_compile_strictly_and_call_every_operation(live, tmp_path):
    npm_ready()
    base, token, schema = live
    generated = CLIENTS / "generated"
    generated.mkdir(exist_ok=True)
    bin_ = CLIENTS / "node_modules" / ".bin"

    def run(*command, **options):
        done = subprocess.run(command, cwd=CLIENTS, capture_output=True, text=True, timeout=PATIENCE * 5, **options)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(str(bin_ / "openapi-typescript"), str(schema), "--output", str(generated / "schema.d.ts"))
    # Compiled beside node_modules, where Node.js finds openapi-fetch.
    run(str(bin_ / "tsc"), "--project", "tsconfig.json", "--outDir", "build")
    report = json.loads(run("node", "build/calls.js", env={**os.environ, "API": base, "TOKEN": token}))
    assert report["failures"] == []
    assert set(report["called"]) == operation_ids(schema)
    assert report["values"]["malenkov"] == MALENKOV
    assert report["values"]["csv_rows"] == 1
    assert report["values"]["bibtex"].startswith("@book{excerpt-")
    assert report["values"]["history"] == ["~", "~", "+"]
