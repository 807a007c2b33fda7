"""The bulk dumps: how they are built and published (api/dumps.py), how their files are served (api/downloads.py)."""

import base64
import csv
import gzip
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from excerpts.api import dumps, renderers
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_and_draft(settings):
    # The test client's host, so that the dump's links are those the test client's export shows.
    settings.EXCERPTS_DUMPS_BASE_URL = "http://testserver"
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    communes = factories.topic("communes", "Communes")
    published = [
        factories.excerpt(f'Excerpt {i}, with "quotes",\na line break and =SUM(1)', speaker=mao, date=f"{1950 + i}")
        for i in range(7)
    ]
    published[0].topics.set([communes])
    draft = factories.excerpt("A draft nobody outside may read.", speaker=mao, status=Excerpt.Status.DRAFT)
    return published, draft


def files_by_format(entries):
    """The newest file of each format (the manifest lists the newest build first)."""
    newest = {}
    for entry in entries:
        newest.setdefault(entry["format"], entry)
    return newest


def content(entry):
    return (dumps.directory() / entry["name"]).read_bytes()


def body(response):
    return b"".join(response.streaming_content)


def test_a_build_writes_both_formats_with_a_manifest_whose_sizes_digests_and_rows_match_the_files(
    published_and_draft,
):
    entries = dumps.build()

    version = dumps.current_version()
    built = files_by_format(entries)
    assert set(built) == {"csv", "jsonl"}
    for format, entry in built.items():
        data = content(entry)
        assert entry["name"] == f"excerpts-{version.replace(':', '-')}.{format}.gz"
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == 7
        assert entry["data_version"] == version
    assert json.loads((dumps.directory() / dumps.MANIFEST).read_text())["files"] == entries
    assert sorted(path.name for path in dumps.directory().iterdir()) == sorted(
        [dumps.LOCK, dumps.MANIFEST, built["csv"]["name"], built["jsonl"]["name"]]
    )


def test_the_dumps_are_the_anonymous_exports_of_the_api_byte_for_byte_without_drafts(client, published_and_draft):
    built = files_by_format(dumps.build())

    for format in ("csv", "jsonl"):
        exported = body(client.get(reverse("excerpt-list"), {"format": format}))
        assert gzip.decompress(content(built[format])) == exported
    lines = gzip.decompress(content(built["jsonl"])).decode().splitlines()
    assert "A draft nobody outside may read." not in gzip.decompress(content(built["csv"])).decode()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(e.pk for e in published_and_draft[0])
    assert "status" not in json.loads(lines[0])
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(content(built["csv"])).decode())))
    assert tuple(rows[0]) == renderers.CSV_COLUMNS
    assert len(rows) == 7


def test_the_same_data_gives_the_same_bytes(published_and_draft):
    first = files_by_format(dumps.build())
    again = files_by_format(dumps.build(force=True))

    assert {format: entry["sha256"] for format, entry in again.items()} == {
        format: entry["sha256"] for format, entry in first.items()
    }


def test_a_build_when_nothing_changed_keeps_the_dump_and_a_write_makes_a_new_version_beside_the_previous(
    published_and_draft,
):
    first = files_by_format(dumps.build())
    assert dumps.build() == list(first.values())  # up to date: nothing written

    factories.excerpt("Written after the first dump.", speaker=published_and_draft[1].speaker)
    second = files_by_format(dumps.build())

    assert second["csv"]["data_version"] != first["csv"]["data_version"]
    assert second["csv"]["rows"] == second["jsonl"]["rows"] == 8
    assert b"Written after the first dump." in gzip.decompress(content(second["jsonl"]))
    # The previous version is kept, so that a download of it can be resumed.
    assert [entry["name"] for entry in dumps.manifest()] == [
        second["csv"]["name"],
        second["jsonl"]["name"],
        first["csv"]["name"],
        first["jsonl"]["name"],
    ]
    assert content(first["csv"])

    factories.excerpt("Written after the second dump.", speaker=published_and_draft[1].speaker)
    third = files_by_format(dumps.build())

    kept = {entry["name"] for entry in dumps.manifest()}
    assert kept == {third["csv"]["name"], third["jsonl"]["name"], second["csv"]["name"], second["jsonl"]["name"]}
    assert not (dumps.directory() / first["csv"]["name"]).exists()
    assert not (dumps.directory() / first["jsonl"]["name"]).exists()


def test_a_build_that_fails_leaves_the_previous_dump_and_no_temporary_file(published_and_draft, monkeypatch):
    previous = dumps.build()
    before = sorted((path.name, path.read_bytes()) for path in dumps.directory().iterdir())
    factories.excerpt("Written after the dump.", speaker=published_and_draft[1].speaker)

    def failing_lines(self, items):
        for number, item in enumerate(items):
            if number == 3:
                raise OSError("No space left on device")
            yield json.dumps(item) + "\n"

    monkeypatch.setattr(renderers.JSONLinesRenderer, "lines", failing_lines)
    with pytest.raises(OSError, match="No space left"):
        dumps.build()

    assert sorted((path.name, path.read_bytes()) for path in dumps.directory().iterdir()) == before
    assert dumps.manifest() == previous


def test_a_second_build_while_one_holds_the_lock_does_nothing(published_and_draft):
    with dumps.build_lock() as taken:
        assert taken
        assert dumps.building()
        assert dumps.build() is None
    assert not dumps.building()
    assert not (dumps.directory() / dumps.MANIFEST).exists()


def test_build_dumps_command_builds_and_reports_each_file(published_and_draft):
    out = io.StringIO()
    call_command("build_dumps", stdout=out, stderr=io.StringIO())
    built = files_by_format(dumps.manifest())
    assert out.getvalue().splitlines() == [
        f"{entry['name']}: 7 rows, {entry['bytes']} bytes, sha256 {entry['sha256']}" for entry in built.values()
    ]


# Listing and download.


def test_the_listing_names_each_file_with_its_url_size_digest_rows_and_whether_it_is_current(
    client, published_and_draft
):
    built = files_by_format(dumps.build())

    listing = client.get(reverse("dump-list")).json()

    assert listing["current"] is True
    assert listing["building"] is False
    assert listing["data_version"] == dumps.current_version()
    assert listing["latest"] == {
        "csv": "http://testserver" + reverse("dump-latest", kwargs={"format": "csv"}),
        "jsonl": "http://testserver" + reverse("dump-latest", kwargs={"format": "jsonl"}),
    }
    assert listing["files"] == [
        {
            **built[format],
            "url": "http://testserver" + reverse("dump-file", kwargs={"name": built[format]["name"]}),
            "current": True,
        }
        for format in ("csv", "jsonl")
    ]


def test_the_listing_answers_its_own_etag_with_a_304_until_a_build_changes_it(client, published_and_draft):
    dumps.build()
    first = client.get(reverse("dump-list"))

    again = client.get(reverse("dump-list"), HTTP_IF_NONE_MATCH=first["ETag"])
    factories.excerpt("Written after the dump.", speaker=published_and_draft[1].speaker)
    dumps.build()
    rebuilt = client.get(reverse("dump-list"), HTTP_IF_NONE_MATCH=first["ETag"])

    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])
    assert rebuilt.status_code == 200
    assert rebuilt["ETag"] != first["ETag"]


def test_after_a_write_the_listing_says_the_dump_is_not_current_and_still_serves_it(client, published_and_draft):
    built = files_by_format(dumps.build())
    factories.excerpt("Written after the dump.", speaker=published_and_draft[1].speaker)

    listing = client.get(reverse("dump-list")).json()
    latest = client.get(reverse("dump-latest", kwargs={"format": "csv"}))

    assert listing["current"] is False
    assert [entry["current"] for entry in listing["files"]] == [False, False]
    assert latest.status_code == 302
    assert latest["Location"].endswith(reverse("dump-file", kwargs={"name": built["csv"]["name"]}))
    assert latest["Dump-Current"] == "false"


def test_the_listing_before_any_build_is_empty_and_latest_is_a_503_with_retry_after(client, published_and_draft):
    listing = client.get(reverse("dump-list")).json()
    latest = client.get(reverse("dump-latest", kwargs={"format": "jsonl"}))

    assert (listing["files"], listing["current"]) == ([], False)
    assert latest.status_code == 503
    assert latest["Content-Type"] == "application/problem+json"
    assert latest["Retry-After"] == "60"
    assert latest.json()["type"].endswith("/dump-not-built")


@pytest.fixture
def csv_dump(published_and_draft):
    entry = files_by_format(dumps.build())["csv"]
    return entry, reverse("dump-file", kwargs={"name": entry["name"]}), content(entry)


def test_a_download_has_the_bytes_length_strong_etag_digest_and_ranges_of_the_manifest(client, csv_dump):
    entry, url, data = csv_dump

    response = client.get(url)

    assert response.status_code == 200
    assert body(response) == data
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == f'attachment; filename="{entry["name"]}"'
    assert "immutable" in response["Cache-Control"]
    assert "Cookie" not in response.get("Vary", "")  # a shared cache may keep it for everyone
    assert response["Last-Modified"]


def test_latest_redirects_to_the_newest_file_of_the_format(client, csv_dump):
    _entry, url, _data = csv_dump
    response = client.get(reverse("dump-latest", kwargs={"format": "csv"}))
    assert (response.status_code, response["Location"], response["Dump-Current"]) == (
        302,
        "http://testserver" + url,
        "true",
    )


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=10-19", 10, 19), ("bytes=100-", 100, None), ("bytes=-25", -25, None), ("bytes=5-999999999", 5, None)],
)
def test_a_single_range_is_a_206_with_its_bytes_and_content_range(client, csv_dump, header, first, last):
    _entry, url, data = csv_dump
    expected = data[first : None if last is None else last + 1]
    start = first if first >= 0 else len(data) + first

    response = client.get(url, HTTP_RANGE=header)

    assert response.status_code == 206
    assert body(response) == expected
    assert response["Content-Length"] == str(len(expected))
    assert response["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"


def test_a_range_past_the_end_is_a_416_problem_with_the_size(client, csv_dump):
    _entry, url, data = csv_dump
    response = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"
    assert response.json()["status"] == 416


def test_several_ranges_or_another_unit_get_the_whole_file(client, csv_dump):
    _entry, url, data = csv_dump
    for header in ("bytes=0-1,5-6", "lines=1-2", "bytes=9-3"):
        response = client.get(url, HTTP_RANGE=header)
        assert (response.status_code, body(response)) == (200, data)


def test_if_range_with_the_current_etag_or_date_resumes_and_with_another_sends_the_whole_file(client, csv_dump):
    _entry, url, data = csv_dump
    etag = client.head(url)["ETag"]
    last_modified = client.head(url)["Last-Modified"]

    resumed = client.get(url, HTTP_RANGE="bytes=50-", HTTP_IF_RANGE=etag)
    by_date = client.get(url, HTTP_RANGE="bytes=50-", HTTP_IF_RANGE=last_modified)
    changed = client.get(url, HTTP_RANGE="bytes=50-", HTTP_IF_RANGE='"an-older-file"')
    weak = client.get(url, HTTP_RANGE="bytes=50-", HTTP_IF_RANGE="W/" + etag)

    assert (resumed.status_code, body(resumed)) == (206, data[50:])
    assert (by_date.status_code, body(by_date)) == (206, data[50:])
    assert (changed.status_code, body(changed)) == (200, data)
    assert (weak.status_code, body(weak)) == (200, data)


def test_if_none_match_with_the_etag_is_a_304_without_a_body(client, csv_dump):
    _entry, url, data = csv_dump
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_head_has_the_download_headers_and_opens_no_file(client, csv_dump, monkeypatch):
    entry, url, data = csv_dump
    opened = []
    real_open = type(dumps.directory()).open
    monkeypatch.setattr(
        type(dumps.directory()), "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k)
    )

    response = client.head(url)
    ranged = client.head(url, HTTP_RANGE="bytes=0-9")

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert (ranged.status_code, ranged["Content-Length"], ranged["Content-Range"]) == (
        206,
        "10",
        f"bytes 0-9/{len(data)}",
    )
    assert entry["name"] not in [path.name for path in opened]
    body(client.get(url))
    assert entry["name"] in [path.name for path in opened]


def test_a_file_that_was_never_built_or_was_pruned_is_a_404_problem(client, csv_dump):
    response = client.get(reverse("dump-file", kwargs={"name": "excerpts-1.csv.gz"}))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_download_is_sent_as_it_is_even_to_a_client_that_accepts_gzip(client, csv_dump):
    _entry, url, data = csv_dump
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT="application/json")
    assert "Content-Encoding" not in response
    assert (response.status_code, response["Content-Length"], body(response)) == (200, str(len(data)), data)
