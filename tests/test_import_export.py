"""import_excerpts and export_excerpts: the same columns both ways (and the API's CSV), all-or-nothing, round trips."""

import csv
import datetime
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from excerpts.dates import parse_bounds
from excerpts.history import history_entries
from excerpts.imports import COLUMNS, ExcerptImport, ImportConflict, cells, checking, engine
from excerpts.models import Event, Excerpt, HistoricalExcerpt, Source, Speaker, Topic
from excerpts.research import facets
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def write_csv(tmp_path, *rows, name="excerpts.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot():
    """Every excerpt's columns, related objects by slug, keyed by id."""
    rows = {}
    for excerpt in Excerpt.objects.with_related():
        rows[excerpt.pk] = {
            "text": excerpt.text,
            "kind": excerpt.kind,
            "attribution": excerpt.attribution,
            "speaker": excerpt.speaker.slug,
            "date": excerpt.date,
            "date_bounds": (excerpt.date_start, excerpt.date_end, excerpt.date_display),
            "event": excerpt.event.slug if excerpt.event else None,
            "source": excerpt.source.slug,
            "locator": excerpt.locator,
            "quoted_in": excerpt.quoted_in.slug if excerpt.quoted_in else None,
            "quoted_in_locator": excerpt.quoted_in_locator,
            "topics": sorted(topic.slug for topic in excerpt.topics.all()),
            "language": excerpt.language,
            "original_text": excerpt.original_text,
            "translator": excerpt.translator,
            "context": excerpt.context,
            "status": excerpt.status,
        }
    return rows


GOOD_ROW = (
    ",Let a hundred flowers bloom.,speech,direct,mao-zedong,1957-02-27,,peoples-daily,p. 3,,,great-leap-forward,zh,,,,"
    "draft"
)


def test_a_bad_row_in_the_middle_writes_nothing_and_names_the_row_and_column(corpus, tmp_path):
    path = write_csv(
        tmp_path,
        GOOD_ROW,
        ",Paper tigers.,speech,direct,chairman-mao,1956-07-14,,peoples-daily,,,,,zh,,,,draft",
        GOOD_ROW.replace("hundred", "thousand"),
    )
    excerpts, speakers = Excerpt.objects.count(), Speaker.objects.count()

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert "nothing was imported; 1 problem(s)" in str(raised.value)
    assert "row 2, column speaker: No speaker has the slug 'chairman-mao'." in str(raised.value)
    assert (Excerpt.objects.count(), Speaker.objects.count()) == (excerpts, speakers)


def test_every_problem_of_every_row_is_reported(corpus, tmp_path):
    path = write_csv(
        tmp_path,
        GOOD_ROW.replace("1957-02-27", "1957-02-30"),
        GOOD_ROW.replace("great-leap-forward", "great-leap-forward;no-such-topic").replace(",draft", ",final"),
    )

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    lines = [line.strip() for line in str(raised.value).splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == [
        "row 1, column date",
        "row 2, column status",
        "row 2, column topics",
    ]
    assert "No topic has the slug 'no-such-topic'." in lines[2]
    assert Excerpt.objects.count() == 2


def test_a_good_file_imports_every_row_with_its_topics_and_date_bounds(corpus, tmp_path):
    path = write_csv(tmp_path, GOOD_ROW)

    output = run("import_excerpts", str(path))

    assert "1 new, 0 updated" in output
    excerpt = Excerpt.objects.get(text="Let a hundred flowers bloom.")
    assert (excerpt.speaker, excerpt.source, excerpt.locator) == (corpus["mao"], corpus["daily"], "p. 3")
    assert list(excerpt.topics.all()) == [corpus["topic"]]
    assert excerpt.date_display == "27 February 1957"
    assert Speaker.objects.filter(slug="mao-zedong").count() == 1


def test_a_dry_run_checks_everything_and_writes_nothing(corpus, tmp_path):
    path = write_csv(tmp_path, GOOD_ROW)

    output = run("import_excerpts", str(path), "--dry-run")

    assert output.strip() == f"Dry run of {path}: 1 new, 0 updated, 0 unchanged. Nothing was written."
    assert not Excerpt.objects.filter(text__startswith="Let a hundred").exists()


def test_a_row_with_an_id_updates_that_excerpt_and_the_history_names_the_importer(corpus, curator, tmp_path):
    exported = run("export_excerpts")
    path = tmp_path / "edited.csv"
    path.write_text(exported.replace("the cult of the individual", "the cult of personality"), encoding="utf-8")

    output = run("import_excerpts", str(path), "--user", curator.username)

    assert "0 new, 1 updated, 1 unchanged" in output
    excerpt = corpus["published"]
    excerpt.refresh_from_db()
    assert excerpt.text == "the cult of personality"
    latest = excerpt.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (curator, "import_excerpts edited.csv")


def test_a_json_number_in_a_text_column_is_refused(corpus, tmp_path):
    path = tmp_path / "excerpts.json"
    row = {"text": 1958, "kind": "speech", "speaker": "mao-zedong", "date": "1958", "source": "peoples-daily"}
    path.write_text(json.dumps([{**row, "language": "zh"}]), encoding="utf-8")

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert "row 1, column text: Must be text, not int 1958." in str(raised.value)


def test_an_unknown_column_is_refused_before_any_row(corpus, tmp_path):
    path = tmp_path / "excerpts.csv"
    path.write_text("id,text,speakr\n,Words,mao-zedong\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Unknown column"):
        run("import_excerpts", str(path))


def test_export_writes_the_columns_in_csv_and_json_with_drafts(corpus):
    csv_lines = run("export_excerpts").splitlines()
    rows = json.loads(run("export_excerpts", "--format", "json"))

    assert csv_lines[0] == HEADER
    assert len(csv_lines) == 3
    assert [list(row) for row in rows] == [COLUMNS, COLUMNS]
    draft = next(row for row in rows if row["id"] == corpus["draft"].pk)
    assert (draft["speaker"], draft["source"], draft["topics"], draft["status"]) == (
        "mao-zedong",
        "peoples-daily",
        "great-leap-forward",
        "draft",
    )


@pytest.mark.parametrize("format", ["csv", "json"])
def test_export_then_import_into_an_empty_database_reproduces_the_excerpts(corpus, tmp_path, format):
    extra_excerpt(corpus)
    before = snapshot()
    excerpts_file = tmp_path / f"excerpts.{format}"
    reference_file = tmp_path / "reference.json"
    run("export_excerpts", "--format", format, "--output", str(excerpts_file))
    call_command(
        "dumpdata",
        "excerpts.speaker",
        "excerpts.source",
        "excerpts.topic",
        "excerpts.event",
        "--natural-primary",
        "--natural-foreign",
        output=str(reference_file),
    )

    Excerpt.objects.all().delete()
    for model in (Speaker, Source, Topic, Event):
        model.objects.all().delete()
    call_command("loaddata", str(reference_file), verbosity=0)
    run("import_excerpts", str(excerpts_file))

    assert snapshot() == before
    # The id sequence moved past the imported ids: new excerpts still get fresh ones.
    new = factories.excerpt(
        "New.", speaker=Speaker.objects.get(slug="mao-zedong"), source=Source.objects.get(slug="peoples-daily")
    )
    assert new.pk > max(before)


def extra_excerpt(corpus):
    """An excerpt with every optional column filled, and text that CSV must quote."""
    return factories.excerpt(
        'He said: "one, two; three"\nand more.',
        kind=Excerpt.Kind.EDITORIAL,
        attribution=Excerpt.Attribution.PARAPHRASE,
        speaker=corpus["mao"],
        date="1958-22",
        event=corpus["congress"],
        source=corpus["daily"],
        locator="p. 1",
        quoted_in=corpus["speech"],
        quoted_in_locator="pp. 321-322",
        language="zh-Hant",
        original_text="東風壓倒西風",
        translator="Foreign Languages Press",
        context="A note.",
        topics=[corpus["topic"], factories.topic("east-wind", "East wind")],
    )


def api_csv(curator, tmp_path, name="api.csv", **params):
    """The excerpt list as the API exports it to a curator (drafts included), saved to a file."""
    client = factories.api_client(curator)
    response = client.get(reverse("excerpt-list"), {"format": "csv", **params})
    assert response.status_code == 200
    path = tmp_path / name
    path.write_bytes(b"".join(response.streaming_content))
    return path


def test_a_csv_exported_by_the_api_imports_back_unchanged(corpus, curator, tmp_path):
    extra_excerpt(corpus)
    before, history = snapshot(), HistoricalExcerpt.objects.count()
    path = api_csv(curator, tmp_path)

    output = run("import_excerpts", str(path))

    assert output.strip() == f"Imported {path}: 0 new, 0 updated, 3 unchanged."
    assert snapshot() == before
    assert HistoricalExcerpt.objects.count() == history


def test_a_csv_exported_for_excel_with_a_byte_order_mark_imports_back_unchanged(corpus, curator, tmp_path):
    extra_excerpt(corpus)
    before = snapshot()
    path = api_csv(curator, tmp_path, bom="true")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid,")

    output = run("import_excerpts", str(path))

    assert output.strip() == f"Imported {path}: 0 new, 0 updated, 3 unchanged."
    assert snapshot() == before


def test_edits_to_an_api_csv_are_read_from_its_slug_and_id_columns(corpus, curator, tmp_path):
    path = api_csv(curator, tmp_path)
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    published = next(row for row in rows if row["id"] == str(corpus["published"].pk))
    published["speaker_slug"], published["source_id"] = "mao-zedong", str(corpus["daily"].pk)
    published["event_slug"], published["topics"] = "", "great-leap-forward"
    # Derived columns are ignored, even when they no longer match.
    published["speaker_name"], published["citation"], published["date_display"] = "Someone", "Nonsense", "x"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    output = run("import_excerpts", str(path))

    assert "0 new, 1 updated, 1 unchanged" in output
    excerpt = Excerpt.objects.get(pk=corpus["published"].pk)
    assert (excerpt.speaker, excerpt.source, excerpt.event) == (corpus["mao"], corpus["daily"], None)
    assert list(excerpt.topics.all()) == [corpus["topic"]]
    assert excerpt.date_display == "25 February 1956"


def test_an_unknown_source_id_names_the_row_and_the_column_of_the_file(corpus, tmp_path):
    path = tmp_path / "api.csv"
    path.write_text(
        "text,kind,speaker_slug,date,source_id,language\nWords.,speech,mao-zedong,1958,999999,zh\n", encoding="utf-8"
    )

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert "row 1, column source_id: No source has the id '999999'." in str(raised.value)


def test_two_columns_for_one_field_are_refused_before_any_row(corpus, tmp_path):
    path = tmp_path / "both.csv"
    path.write_text("text,speaker,speaker_slug\nWords.,mao-zedong,mao-zedong\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Columns speaker and speaker_slug both give the speaker"):
        run("import_excerpts", str(path))


def test_a_second_row_for_the_same_excerpt_is_refused(corpus, tmp_path):
    pk = corpus["published"].pk
    path = write_csv(tmp_path, f"{pk}{GOOD_ROW}", f"{pk}{GOOD_ROW.replace('hundred', 'thousand')}")

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert "row 2, column id: Row 1 has the same id." in str(raised.value)
    assert Excerpt.objects.get(pk=pk).text == "the cult of the individual"


@pytest.mark.parametrize(
    ("cell", "message"),
    [("abc", "'abc' is not an id: ids are whole numbers from 1."), ("0", "'0' is not an id")],
)
def test_an_id_that_is_not_a_whole_number_is_a_row_error(corpus, tmp_path, cell, message):
    path = write_csv(tmp_path, f"{cell}{GOOD_ROW}")

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert f"row 1, column id: {message}" in str(raised.value)


def test_a_line_with_the_wrong_number_of_cells_is_a_row_error(corpus, tmp_path):
    path = write_csv(tmp_path, GOOD_ROW, "Words.,speech")

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert "row 2: 2 cell(s), where the header has 17." in str(raised.value)
    assert not Excerpt.objects.filter(text__startswith="Let a hundred").exists()


def test_a_json_file_must_be_an_array_of_objects(corpus, tmp_path):
    path = tmp_path / "excerpts.json"
    path.write_text('{"text": "Words."}', encoding="utf-8")

    with pytest.raises(CommandError, match="not a JSON array of rows"):
        run("import_excerpts", str(path))

    path.write_text('[{"text": "Words."}, 5', encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON after row 2: parse error: premature EOF$"):
        run("import_excerpts", str(path))


def test_an_unknown_key_in_a_json_row_names_the_row(corpus, tmp_path):
    path = tmp_path / "excerpts.json"
    row = {"text": "Words.", "kind": "speech", "speaker": "mao-zedong", "date": "1958", "source": "peoples-daily"}
    path.write_text(json.dumps([{**row, "language": "zh"}, {**row, "langauge": "zh"}]), encoding="utf-8")

    with pytest.raises(CommandError) as raised:
        run("import_excerpts", str(path))

    assert "row 2: Unknown column(s) langauge." in str(raised.value)


def test_an_import_writes_one_history_entry_per_row_naming_the_importer_with_its_topics(corpus, curator, tmp_path):
    draft = corpus["draft"]
    exported = run("export_excerpts")
    changed = exported.replace("The east wind prevails", "The east wind still prevails")
    path = tmp_path / "edited.csv"
    path.write_text(changed.rstrip("\n") + "\n" + GOOD_ROW + "\n", encoding="utf-8")

    run("import_excerpts", str(path), "--user", curator.username)

    new = Excerpt.objects.get(text="Let a hundred flowers bloom.")
    for excerpt, kind in ((new, "+"), (draft, "~")):
        entry = excerpt.history.latest("history_date")
        assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
            kind,
            curator,
            "import_excerpts edited.csv",
        )
        assert [link.topic_id for link in entry.topics.all()] == [corpus["topic"].pk]
    assert new.history.count() == 1
    assert history_entries(draft)[0]["changes"] == [
        {
            "field": "text",
            "old": "The east wind prevails over the west wind.",
            "new": "The east wind still prevails over the west wind.",
        }
    ]


def checked(*rows, user=None):
    """An ExcerptImport that has checked ``rows`` (dicts of columns), not yet written."""
    importer = ExcerptImport(user=user, reason="a test")
    importer.check(enumerate(rows, 1))
    return importer


def new_row(**columns):
    row = {"text": "Words.", "kind": "speech", "speaker": "mao-zedong", "date": "1958", "source": "peoples-daily"}
    return {**row, "language": "zh", **columns}


def test_checking_reads_only_and_opens_no_transaction(corpus, django_assert_num_queries):
    rows = [new_row(topics="great-leap-forward"), {"id": corpus["published"].pk, "text": "Changed."}]

    with CaptureQueriesContext(connection) as queries:
        importer = checked(*rows)

    assert importer.messages() == []
    assert (importer.totals.new, importer.totals.update) == (1, 1)
    assert [query["sql"].split()[0] for query in queries] == ["SELECT"] * len(queries)


def test_checking_costs_the_same_queries_for_ten_rows_and_fifty(corpus):
    def queries(count):
        rows = [new_row(text=f"Words {n}.", topics="great-leap-forward") for n in range(count)]
        with CaptureQueriesContext(connection) as captured:
            checked(*rows)
        return len(captured)

    assert queries(10) == queries(50)


def test_rows_are_checked_a_batch_at_a_time(corpus, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    reported = []
    importer = ExcerptImport()

    importer.check(enumerate([new_row(text=f"Words {n}.") for n in range(5)], 1), progress=reported.append)

    assert reported == [2, 4, 5]
    # Kept for the write a batch at a time, in a file, and read back in order.
    spooled = [values[0] for batch in importer.creates.batches() for _, _, values, _ in batch]
    assert spooled == [f"Words {n}." for n in range(5)]
    assert importer.creates.file is not None
    importer.close()


def test_a_speaker_deleted_after_the_check_stops_the_write_and_is_named(corpus):
    zhou = factories.speaker("zhou-enlai", "Zhou Enlai")
    importer = checked(new_row(speaker="zhou-enlai"), new_row(text="More words."))
    zhou.delete()
    count = Excerpt.objects.count()

    with pytest.raises(ImportConflict) as raised:
        importer.write()

    assert raised.value.problems == [
        "The speaker 'zhou-enlai' was deleted or given another slug after the file was checked."
    ]
    assert Excerpt.objects.count() == count


def test_an_excerpt_changed_after_the_check_is_not_overwritten(corpus):
    published = corpus["published"]
    importer = checked(new_row(), {"id": published.pk, "text": "From the file."})
    published.text = "From someone else."
    published.save()

    with pytest.raises(ImportConflict) as raised:
        importer.write()

    assert raised.value.problems == [
        f"row 2, column id: Excerpt {published.pk} was changed by someone else after the file was checked."
    ]
    published.refresh_from_db()
    assert published.text == "From someone else."
    assert not Excerpt.objects.filter(text="Words.").exists()


def test_new_rows_with_and_without_ids_are_written_with_their_topics(corpus):
    free = Excerpt.objects.order_by("-pk").first().pk + 100
    importer = checked(
        new_row(text="Without an id.", topics="great-leap-forward"), new_row(id=free, text="With an id.", topics="")
    )

    importer.write()

    given = Excerpt.objects.get(pk=free)
    made = Excerpt.objects.get(text="Without an id.")
    assert given.text == "With an id."
    assert made.pk not in {corpus["published"].pk, corpus["draft"].pk, free}
    assert (list(made.topics.all()), list(given.topics.all())) == ([corpus["topic"]], [])
    assert (made.date_start, made.date_end, made.date_display) == (
        datetime.date(1958, 1, 1),
        datetime.date(1958, 12, 31),
        "1958",
    )
    assert made.speaker_name == "Mao Zedong"


@settings(max_examples=150, deadline=None)
@given(
    year=st.integers(0, 9999),
    month=st.one_of(st.none(), st.integers(0, 13)),
    day=st.one_of(st.none(), st.integers(0, 32)),
)
def test_the_quick_reading_of_plain_dates_agrees_with_parse_bounds(year, month, day):
    text = f"{year:04d}" + (f"-{month:02d}" if month is not None else "")
    text += f"-{day:02d}" if month is not None and day is not None else ""

    def outcome(parse):
        try:
            return parse(text)
        except ValidationError as error:
            return error.messages

    assert outcome(cells.date_bounds) == outcome(parse_bounds)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's write lock keeps the data still meanwhile")
def test_a_speaker_deleted_after_the_last_check_is_refused_by_the_database_and_reported(corpus, monkeypatch):
    zhou = factories.speaker("zhou-enlai", "Zhou Enlai")
    importer = checked(new_row(speaker="zhou-enlai"))
    monkeypatch.setattr(checking.References, "changes", lambda self: [])  # as if it went just after the checks
    zhou.delete()

    with pytest.raises(ImportConflict) as raised:
        importer.write()

    assert raised.value.problems[0].startswith("The database refused the rows, as the data changed meanwhile:")
    assert not Excerpt.objects.filter(text="Words.").exists()


def test_an_import_keeps_the_search_index_the_facet_summary_and_the_speaker_copy_in_step(corpus, client):
    published = corpus["published"]
    changed = {"id": published.pk, "text": "Paper tigers everywhere.", "speaker": "mao-zedong"}
    importer = checked(
        {**changed, "topics": "great-leap-forward"},
        new_row(text="Imperialists are paper tigers.", status="published", date="1958-10"),
    )

    importer.write()

    found = client.get(reverse("excerpt-list"), {"q": "tigers"}).json()
    assert sorted(item["text"] for item in found["results"]) == [
        "Imperialists are paper tigers.",
        "Paper tigers everywhere.",
    ]
    assert facets.summary_counts([Excerpt.Status.PUBLISHED]) == facets.facet_counts(Excerpt.objects.published())
    assert set(Excerpt.objects.values_list("speaker_name", flat=True)) == {"Mao Zedong"}
