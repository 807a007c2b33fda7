"""Citations: the Chicago note on every excerpt, and CSL-JSON, BibTeX and RIS read back by independent parsers."""

import json
import re

import bibtexparser
import pytest
import rispy
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from django.urls import reverse

from excerpts.research import citations, limits
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def speech():
    khrushchev = factories.speaker("nikita-khrushchev", "Nikita Khrushchev")
    congress = factories.event("twentieth-congress", "Twentieth Congress of the CPSU")
    record = factories.source(
        "cult-of-personality",
        "On the Cult of Personality & Its Consequences",
        kind="transcript",
        publisher="Gospolitizdat",
        place="Moscow",
        date="1959",
    )
    survey = factories.source(
        "taubman",
        "Khrushchev: The Man and His Era",
        author="William Taubman",
        place="New York",
        publisher="Norton",
        date="2003",
    )
    return factories.excerpt(
        "The cult of the individual brought grave harm.",
        speaker=khrushchev,
        source=record,
        date="1956-02-25",
        event=congress,
        locator="pp. 321-322",
        quoted_in=survey,
        quoted_in_locator="p. 283",
        language="ru",
    )


@pytest.fixture
def editorial(speech):
    board = factories.speaker("peoples-daily-editorial-board", "People's Daily Editorial Board", kind="organization")
    daily = factories.source("peoples-daily", "People's Daily", kind="newspaper", place="Beijing")
    return factories.excerpt(
        "Long live Leninism!", speaker=board, source=daily, kind="editorial", date="1960-04~", locator="p. 1"
    )


def cite(client, excerpt, style):
    response = client.get(reverse("excerpt-cite", kwargs={"pk": excerpt.pk}), {"style": style})
    assert response.status_code == 200, response.content
    return response


def test_every_excerpt_carries_a_chicago_note_with_speaker_source_imprint_page_and_quoted_in(client, speech):
    item = client.get(reverse("excerpt-detail", kwargs={"pk": speech.pk})).json()
    assert item["citation"] == (
        "Nikita Khrushchev, speech, 25 February 1956, Twentieth Congress of the CPSU, in On the Cult of "
        "Personality & Its Consequences (Moscow: Gospolitizdat, 1959), 321-322, quoted in William Taubman, "
        "Khrushchev: The Man and His Era (New York: Norton, 2003), 283."
    )


def test_the_chicago_style_is_the_same_note_as_plain_text(client, speech):
    response = cite(client, speech, "chicago")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == citations.chicago_note(speech) + "\n"


def test_csl_json_has_the_item_type_dates_and_pinpoint_page(client, speech, editorial):
    response = cite(client, speech, "csl-json")
    assert response["Content-Type"] == "application/vnd.citationstyles.csl+json"
    [item] = response.json()
    assert item["type"] == "speech"
    assert item["author"] == [{"literal": "Nikita Khrushchev"}]
    assert item["event-date"] == {"date-parts": [[1956, 2, 25]]}
    assert item["issued"] == {"date-parts": [[1959]]}
    assert (item["page"], item["publisher-place"], item["event-title"]) == (
        "321-322",
        "Moscow",
        "Twentieth Congress of the CPSU",
    )
    [news] = cite(client, editorial, "csl-json").json()
    assert news["type"] == "article-newspaper"
    assert news["container-title"] == "People's Daily"
    assert news["issued"] == {"date-parts": [[1960, 4]], "circa": True}


@pytest.mark.parametrize(
    ("edtf", "expected"),
    [
        ("1958", {"date-parts": [[1958]]}),
        ("1958-07?", {"date-parts": [[1958, 7]], "circa": True}),
        ("1958-22", {"date-parts": [[1958]], "season": 2}),
        ("1957/1958-03", {"date-parts": [[1957], [1958, 3]]}),
        ("1957~/1958", {"date-parts": [[1957], [1958]], "circa": True}),
    ],
)
def test_edtf_dates_become_csl_date_parts_at_their_precision(edtf, expected):
    assert citations.csl_date(edtf) == expected


def test_csl_json_is_rendered_by_citeproc_py(client, speech, editorial):
    items = json.loads(client.get(reverse("excerpt-cite-list"), {"style": "csl-json"}).content)
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    assert any("Nikita Khrushchev" in entry and "Gospolitizdat" in entry for entry in rendered)
    assert any("People's Daily Editorial Board" in entry for entry in rendered)


def test_bibtex_is_read_back_by_bibtexparser_with_its_values(client, speech):
    response = cite(client, speech, "bibtex")
    library = bibtexparser.parse_string(response.content.decode())
    assert library.failed_blocks == []
    [entry] = library.entries
    assert entry.key == f"nikita-khrushchev-1956-{speech.pk}"
    assert entry.entry_type == "misc"
    fields = {field.key: field.value for field in entry.fields}
    assert fields["author"] == "{Nikita Khrushchev}"
    assert fields["title"] == r"On the Cult of Personality \& Its Consequences"
    assert (fields["date"], fields["year"], fields["pages"]) == ("1956-02-25", "1956", "321--322")
    assert fields["note"].startswith("Quoted in William Taubman")


def test_ris_is_read_back_by_rispy_with_its_values(client, speech, editorial):
    response = cite(client, speech, "ris")
    [record] = rispy.loads(response.content.decode())
    assert record["type_of_reference"] == "GEN"
    assert record["authors"] == ["Nikita Khrushchev"]
    assert (record["start_page"], record["end_page"]) == ("321", "322")
    assert (record["year"], record["date"]) == ("1956", "1956/02/25/")
    assert record["publisher"] == "Gospolitizdat"
    [news] = rispy.loads(cite(client, editorial, "ris").content.decode())
    assert (news["type_of_reference"], news["date"]) == ("NEWS", "1960/04//")


def test_a_filtered_list_gives_a_whole_bibliography(client, speech, editorial):
    response = client.get(reverse("excerpt-cite-list"), {"style": "ris", "speaker": "nikita-khrushchev"})
    assert [record["id"] for record in rispy.loads(response.content.decode())] == [f"excerpt-{speech.pk}"]
    everything = bibtexparser.parse_string(
        client.get(reverse("excerpt-cite-list"), {"style": "bibtex"}).content.decode()
    )
    assert len(everything.entries) == 2


def test_a_bibliography_larger_than_the_bound_is_a_400(client, speech, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BIBLIOGRAPHY", 0)
    response = client.get(reverse("excerpt-cite-list"))
    assert response.status_code == 400
    assert "More than 0 excerpts match" in response.json()["detail"]
    assert limits.DEFAULTS["MAX_BIBLIOGRAPHY"] == 1000


@pytest.mark.parametrize("url_name", ["excerpt-cite", "excerpt-cite-list"])
def test_an_unknown_style_is_a_400_problem(client, speech, url_name):
    kwargs = {"pk": speech.pk} if url_name == "excerpt-cite" else {}
    response = client.get(reverse(url_name, kwargs=kwargs), {"style": "mla"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["name"] == "style"


# A source, a speaker and a publisher whose text tries to end its field and forge tags, records and entries
# (PostgreSQL keeps no NUL, so \x01 stands for it).
FORGED_TITLE = "Forged\nTY  - JOUR\nER  - \r\nTI  - A second record\x01\x1b\u2028} @misc{forged, title={x}"


@pytest.fixture
def forged(speech):
    source = factories.source(
        "forged", FORGED_TITLE, kind="newspaper", publisher="\tPress\x0b\x85", place="Moscow \r\n CY  - Elsewhere"
    )
    mao = factories.speaker("mao-zedong", "Mao\r\nAU  - Someone Else")
    return factories.excerpt(
        "Words.", speaker=mao, source=source, kind="editorial", date="1958-07", locator="p. 3\n\nSP  - 99"
    )


def test_control_characters_and_line_breaks_in_any_field_cannot_forge_a_ris_record_or_tag(client, forged):
    text = cite(client, forged, "ris").content.decode()
    [record] = rispy.loads(text)
    assert record["title"] == "Forged TY  - JOUR ER  - TI  - A second record } @misc{forged, title={x}"
    assert record["authors"] == ["Mao AU  - Someone Else"]
    assert (record["publisher"], record["place_published"]) == ("Press", "Moscow CY  - Elsewhere")
    assert (record["start_page"], "end_page" in record) == ("3 SP  - 99", False)
    # One line per tag, each tag once, and no control character but the line ends.
    assert [line[:6] for line in text.splitlines()] == [
        "TY  - ",
        "ID  - ",
        "AU  - ",
        "TI  - ",
        "T2  - ",
        "PY  - ",
        "DA  - ",
        "SP  - ",
        "PB  - ",
        "CY  - ",
        "LA  - ",
        "ER  - ",
    ]
    assert re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", text) == []


def test_a_bibliography_with_a_forged_title_has_one_ris_record_per_excerpt(client, speech, forged):
    response = client.get(reverse("excerpt-cite-list"), {"style": "ris"})
    records = rispy.loads(response.content.decode())
    assert sorted(record["id"] for record in records) == [f"excerpt-{speech.pk}", f"excerpt-{forged.pk}"]


def test_bibtex_fields_stay_one_line_with_their_braces_balanced_and_specials_escaped(client, forged):
    text = cite(client, forged, "bibtex").content.decode()
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    [entry] = library.entries
    assert (entry.key, entry.entry_type) == (f"mao-zedong-1958-{forged.pk}", "article")
    fields = {field.key: field.value for field in entry.fields}
    assert (
        fields["title"]
        == fields["journal"]
        == (
            r"Forged TY - JOUR ER - TI - A second record \textbraceright{} @misc\textbraceleft{}forged, "
            r"title=\textbraceleft{}x\textbraceright{}"
        ).replace(" - ", "  - ")
    )
    assert fields["author"] == "{Mao AU  - Someone Else}"
    assert (fields["publisher"], fields["address"]) == ("Press", "Moscow CY  - Elsewhere")
    assert fields["pages"] == "3 SP  - 99"
    # Each field is one line whose braces balance, as BibTeX counts them (a backslash does not escape a brace).
    body = text.splitlines()[1:-1]
    assert len(body) == len(fields)
    assert all(line.count("{") == line.count("}") for line in body)
    assert re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", text) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100% of $5 & #1_a ~b ^c", r"100\% of \$5 \& \#1\_a \textasciitilde{}b \textasciicircum{}c"),
        (r"C:\path {x}", r"C:\textbackslash{}path \textbraceleft{}x\textbraceright{}"),
        ("two\n\n  lines\t\x00end ", "two lines end"),
    ],
)
def test_bibtex_special_characters_are_escaped_and_control_characters_collapsed(value, expected):
    assert citations._bibtex_escape(value) == expected


def test_the_chicago_note_is_one_line_whatever_the_title(client, forged):
    assert cite(client, forged, "chicago").content.decode().count("\n") == 1
    assert citations.chicago_note(forged).startswith(
        "Mao AU  - Someone Else, editorial, July 1958, in Forged TY  - JOUR ER  - TI  - A second record }"
    )
