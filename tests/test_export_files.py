"""Exports a researcher opens without surprises: a CSV Excel reads as UTF-8, and a file named after what it holds."""

import csv
import datetime
import gzip
import io
import re
from urllib.parse import unquote

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from excerpts.api import dumps, filenames
from excerpts.api.filters import EMPTY_VALUE, REPEATED_VALUE
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "excerpt-list"
BOM = b"\xef\xbb\xbf"
CHINESE = "帝国主义和一切反动派都是纸老虎。"
RUSSIAN = "Мы за мирное сосуществование."


@pytest.fixture
def two_languages():
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    khrushchev = factories.speaker("nikita-khrushchev", "Nikita Khrushchev")
    first = factories.excerpt("All reactionaries are paper tigers.", speaker=mao, language="zh", original_text=CHINESE)
    second = factories.excerpt(
        "We are for peaceful coexistence.", speaker=khrushchev, language="ru", original_text=RUSSIAN
    )
    return first, second


def body(response):
    return b"".join(response.streaming_content)


def today():
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def test_bom_true_starts_the_csv_with_the_utf8_byte_order_mark_once(client, two_languages):
    response = client.get(reverse(LIST), {"format": "csv", "bom": "true"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = body(response)
    assert content.startswith(BOM + b"id,url,text,")
    assert content.count(BOM) == 1


def test_a_csv_with_the_mark_reads_back_as_utf8_sig_with_chinese_and_russian_intact(client, two_languages):
    content = body(client.get(reverse(LIST), {"format": "csv", "bom": "true"}))
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row["original_text"] for row in rows] == [CHINESE, RUSSIAN]
    assert next(iter(rows[0])) == "id"  # the mark is not glued to the first column's name


def test_without_bom_or_with_bom_false_the_csv_has_no_mark_as_before(client, two_languages):
    plain = body(client.get(reverse(LIST), {"format": "csv"}))
    explicit = body(client.get(reverse(LIST), {"format": "csv", "bom": "false"}))
    assert plain.startswith(b"id,url,text,")
    assert explicit == plain


def test_bom_works_with_accept_text_csv_too(client, two_languages):
    response = client.get(reverse(LIST), {"bom": "1"}, HTTP_ACCEPT="text/csv")
    assert body(response).startswith(BOM)


def test_a_head_of_a_csv_with_bom_has_the_headers_and_no_body(client, two_languages):
    response = client.head(reverse(LIST), {"format": "csv", "bom": "true"})
    assert response.status_code == 200
    assert body(response) == b""
    assert response["Content-Disposition"] == f'attachment; filename="excerpts_{today()}.csv"'  # bom says how


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"format": "csv", "bom": "maybe"}, "Must be true or false, not 'maybe'."),
        ({"format": "csv", "bom": ""}, EMPTY_VALUE),  # the rule of every parameter
        ({"format": "csv", "bom": ["true", "false"]}, REPEATED_VALUE),
        ({"format": "jsonl", "bom": "true"}, "Only a CSV export has a byte-order mark"),
        ({"bom": "true"}, "Only a CSV export has a byte-order mark"),
    ],
)
def test_an_invalid_or_misplaced_bom_is_a_400_problem_naming_it(client, two_languages, params, reason):
    response = client.get(reverse(LIST), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [error["name"] for error in errors] == ["bom"]
    assert reason in errors[0]["reason"]


def test_bom_false_on_a_page_is_accepted_and_changes_nothing(client, two_languages):
    assert client.get(reverse(LIST), {"bom": "false"}).json()["results"] == client.get(reverse(LIST)).json()["results"]


def test_bom_is_not_a_parameter_of_the_detail_or_the_facets(client, two_languages):
    detail = client.get(reverse("excerpt-detail", kwargs={"pk": two_languages[0].pk}), {"bom": "false"})
    facets = client.get(reverse("excerpt-facets"), {"bom": "true"})
    assert (detail.status_code, facets.status_code) == (400, 400)
    assert detail.json()["errors"][0]["name"] == "bom"
    assert facets.json()["errors"][0]["name"] == "bom"


def test_the_csv_and_the_csv_with_bom_have_different_etags(client, two_languages):
    plain = client.get(reverse(LIST), {"format": "csv"})
    marked = client.get(reverse(LIST), {"format": "csv", "bom": "true"})
    assert plain["ETag"] and marked["ETag"] and plain["ETag"] != marked["ETag"]


def test_the_bulk_dumps_have_no_byte_order_mark(two_languages):
    entries = dumps.build()
    csv_entry = next(entry for entry in entries if entry["format"] == "csv")
    content = gzip.decompress((dumps.directory() / csv_entry["name"]).read_bytes())
    assert content.startswith(b"id,url,text,")


# The file's name.


def disposition(header):
    """The (filename, filename*) of a Content-Disposition header, the second decoded (or None)."""
    parts = dict(part.strip().split("=", 1) for part in header.split(";")[1:])
    extended = parts.get("filename*")
    return parts["filename"].strip('"'), None if extended is None else unquote(extended.removeprefix("UTF-8''"))


def test_the_export_is_named_after_its_filters_and_the_day(client, two_languages):
    response = client.get(
        reverse(LIST), {"speaker": "mao-zedong", "date_after": "1958", "format": "csv", "page_size": 5, "_": "1764"}
    )
    assert response["Content-Disposition"] == (
        f'attachment; filename="excerpts_speaker-mao-zedong_date_after-1958_{today()}.csv"'
    )


def test_a_repeated_filter_names_each_value_and_jsonl_gets_its_extension(client, two_languages):
    response = client.get(
        reverse(LIST), [("speaker", "mao-zedong"), ("speaker", "nikita-khrushchev"), ("format", "jsonl")]
    )
    assert disposition(response["Content-Disposition"]) == (
        f"excerpts_speaker-mao-zedong_speaker-nikita-khrushchev_{today()}.jsonl",
        None,
    )


def test_a_search_with_quotes_slashes_and_chinese_is_named_safely_in_both_forms(client, two_languages):
    query = '"paper tiger" 纸老虎 a/b\\c'
    response = client.get(reverse(LIST), {"q": query, "format": "csv"})
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert header.isascii()
    plain, extended = disposition(header)
    assert extended == f'excerpts_q-"paper tiger" 纸老虎 a_b_c_{today()}.csv'
    assert plain == f"excerpts_q-_paper_tiger_a_b_c_{today()}.csv"
    assert '"' not in plain and "/" not in extended and "\\" not in extended


def test_accents_fall_back_to_their_letters_in_the_ascii_filename(client, two_languages):
    plain, extended = disposition(
        client.get(reverse(LIST), {"q": "Khrushchëv", "format": "csv"})["Content-Disposition"]
    )
    assert plain == f"excerpts_q-Khrushchev_{today()}.csv"
    assert extended == f"excerpts_q-Khrushchëv_{today()}.csv"


def test_a_name_never_starts_with_a_dot_nor_holds_a_control_character():
    day = datetime.date(1958, 5, 5)
    name = filenames.export_name(".", [("q", "..\x00\n/etc/passwd")], "csv", day)
    assert name == "_q-.._etc_passwd_1958-05-05.csv"
    assert filenames.ascii_fallback("..hidden") == "hidden"


def test_a_very_long_query_is_cut_to_whole_characters_keeping_the_day_and_extension():
    day = datetime.date(1958, 5, 5)
    name = filenames.export_name("excerpts", [("q", "纸老虎" * 200)], "csv", day)
    assert len(name.encode()) <= filenames.MAX_NAME_BYTES
    assert name.startswith("excerpts_q-纸老虎纸老虎") and name.endswith("_1958-05-05.csv")
    assert len(name.encode()) > filenames.MAX_NAME_BYTES - 3  # cut at the last whole character that fits


def test_the_header_gives_filename_star_only_when_the_ascii_name_differs():
    assert filenames.content_disposition("excerpts_1958.csv") == 'attachment; filename="excerpts_1958.csv"'
    assert filenames.content_disposition("excerpts_q-a b.csv") == (
        "attachment; filename=\"excerpts_q-a_b.csv\"; filename*=UTF-8''excerpts_q-a%20b.csv"
    )


# The admin's export, for curators.

ADMIN_FIELDS = ("id", "text", "speaker", "language", "original_text")


def admin_export(client, format_label):
    url = reverse("admin:excerpts_excerpt_export")
    page = client.get(url).content.decode()
    options = {label: value for value, label in re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', page)}
    data = {"format": options[format_label], "resource": "0"}
    data.update({f"excerptresource_{name}": "on" for name in ADMIN_FIELDS})
    response = client.post(url, data)
    assert response.status_code == 200
    return response


def test_the_admin_exports_a_csv_for_excel_with_the_mark_and_its_plain_csv_without(client, two_languages):
    client.force_login(factories.admin())
    excel = admin_export(client, "csv for Excel (UTF-8 with a byte-order mark)")
    assert excel["Content-Type"].startswith("text/csv")
    assert excel.content.startswith(BOM + b"id,text,speaker,language,original_text")
    rows = list(csv.DictReader(io.StringIO(excel.content.decode("utf-8-sig"))))
    assert sorted(row["original_text"] for row in rows) == sorted([CHINESE, RUSSIAN])
    plain = admin_export(client, "csv")
    assert plain.content.startswith(b"id,text,speaker")
    assert plain.content == excel.content[len(BOM) :]


def test_the_excel_csv_is_not_offered_for_import(client, two_languages):
    client.force_login(factories.admin())
    page = client.get(reverse("admin:excerpts_excerpt_import")).content.decode()
    assert ">csv<" in page
    assert "csv for Excel" not in page


# export_excerpts, for curators at the shell.


def test_export_excerpts_with_bom_writes_the_mark_once_to_a_file_and_to_stdout(two_languages, tmp_path):
    path = tmp_path / "excerpts.csv"
    call_command("export_excerpts", "--bom", "--output", str(path), stderr=io.StringIO())
    content = path.read_bytes()
    assert content.startswith(BOM + b"id,text,") and content.count(BOM) == 1
    assert CHINESE in content.decode("utf-8-sig")
    out = io.StringIO()
    call_command("export_excerpts", "--bom", stdout=out)
    assert out.getvalue().encode() == content


def test_export_excerpts_writes_no_mark_by_default_and_refuses_bom_for_json(two_languages):
    out = io.StringIO()
    call_command("export_excerpts", stdout=out)
    assert out.getvalue().startswith("id,text,")
    with pytest.raises(CommandError, match="--bom is for a CSV"):
        call_command("export_excerpts", "--format", "json", "--bom", stdout=io.StringIO())
