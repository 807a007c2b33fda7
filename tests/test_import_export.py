"""import_excerpts and export_excerpts: the same columns both ways, all-or-nothing, and a faithful round trip."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from excerpts.models import Event, Excerpt, Source, Speaker, Topic
from excerpts.resources import COLUMNS

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
    extra = Excerpt.objects.create(
        text='He said: "one, two; three"\nand more.',
        kind=Excerpt.Kind.EDITORIAL,
        attribution=Excerpt.Attribution.PARAPHRASE,
        speaker=corpus["mao"],
        date="1958-22",
        source=corpus["daily"],
        quoted_in=corpus["speech"],
        quoted_in_locator="pp. 321-322",
        language="zh-Hant",
        original_text="東風壓倒西風",
        translator="Foreign Languages Press",
        context="A note.",
        status=Excerpt.Status.PUBLISHED,
    )
    extra.topics.add(corpus["topic"], Topic.objects.create(slug="east-wind", name="East wind"))
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
    new = Excerpt.objects.create(
        text="New.",
        kind=Excerpt.Kind.SPEECH,
        speaker=Speaker.objects.get(slug="mao-zedong"),
        date="1960",
        source=Source.objects.get(slug="peoples-daily"),
        language="zh",
    )
    assert new.pk > max(before)
