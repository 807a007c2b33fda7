"""
Citations of excerpts: a Chicago-style note, and CSL-JSON, BibTeX and RIS for reference managers.

The cited work is the source (its title, publisher, place and date) with the speaker as author and
the excerpt's locator as the pinpoint page; when the excerpt is known through a secondary work, the
note says "quoted in" it. Dates come from the EDTF strings: CSL-JSON gets date-parts at the stated
precision, a range for an interval, ``season`` for a season and ``circa`` for an uncertain or
approximate date; BibTeX gets biblatex's ``date`` field, which is EDTF itself.

Every field of the text styles (BibTeX, RIS, the notes) is one line: control characters and line breaks in a
title or a name become a space, so no field can end itself and forge an RIS tag or record, and BibTeX's special
characters are escaped so that every field's braces balance.
"""

import datetime
import json
import re
from collections.abc import Iterable
from typing import Any, Protocol

from ..models import Excerpt, Source

STYLES = {
    "csl-json": "application/vnd.citationstyles.csl+json",
    "bibtex": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "chicago": "text/plain; charset=utf-8",
}
DEFAULT_STYLE = "csl-json"

EDTF_DAY = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2}))?(?:-(?P<day>\d{2}))?(?P<qualifier>[?~%])?$")
EDTF_SEASON = re.compile(r"^(?P<year>\d{4})-(?P<season>2[1-4])(?P<qualifier>[?~%])?$")
PAGE_PREFIX = re.compile(r"^\s*(?:pp?\.|pages?|s\.|стр\.)\s*", re.IGNORECASE)
PAGE_RANGE = re.compile(r"^\s*(\w+)\s*[-\u2013\u2014]\s*(\w+)\s*$")

CSL_TYPES: dict[str, str] = {
    Excerpt.Kind.SPEECH: "speech",
    Excerpt.Kind.LETTER: "letter",
    Excerpt.Kind.REPORT: "report",
}
CSL_TYPES_BY_SOURCE: dict[str, str] = {
    Source.Kind.NEWSPAPER: "article-newspaper",
    Source.Kind.ARTICLE: "article",
    Source.Kind.WEBSITE: "webpage",
    Source.Kind.ARCHIVAL: "manuscript",
    Source.Kind.BOOK: "chapter",
    Source.Kind.TRANSCRIPT: "speech",
}
RIS_TYPES = {
    "speech": "GEN",
    "letter": "PCOMM",
    "report": "RPRT",
    "article-newspaper": "NEWS",
    "article": "JOUR",
    "webpage": "ELEC",
    "manuscript": "UNPB",
    "chapter": "CHAP",
    "document": "GEN",
}
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


def csl_type(excerpt: Excerpt) -> str:
    """The CSL item type: from the kind of utterance where it decides, else from the kind of source."""
    return CSL_TYPES.get(excerpt.kind) or CSL_TYPES_BY_SOURCE.get(excerpt.source.kind, "document")


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


def _year(edtf: str) -> str:
    match = re.match(r"\d{4}", edtf or "")
    return match.group(0) if match else ""


class Publication(Protocol):
    """What a citation reads of a source: a Source, or a source read as a plain row (api/representations.py)."""

    title: str
    author: str
    place: str
    publisher: str
    date: str


def _publication(source: Publication, speaker_name: str = "") -> str:
    """'Author, Title (Place: Publisher, Year)' for a source, leaving out what is unknown."""
    head = source.title
    if source.author and source.author != speaker_name:
        head = f"{source.author}, {head}"
    imprint = ", ".join(filter(None, [": ".join(filter(None, [source.place, source.publisher])), _year(source.date)]))
    return f"{head} ({imprint})" if imprint else head


def chicago_note(excerpt: Excerpt) -> str:
    """A Chicago-style note for the excerpt: speaker, kind and date, source with imprint, page, quoted in."""
    return note(
        speaker=excerpt.speaker.name,
        kind=excerpt.get_kind_display(),
        date=excerpt.date_display,
        event=excerpt.event.name if excerpt.event is not None else None,
        source=excerpt.source,
        locator=excerpt.locator,
        quoted_in=excerpt.quoted_in,
        quoted_in_locator=excerpt.quoted_in_locator,
    )


def note(
    *,
    speaker: str,
    kind: str,
    date: str,
    event: str | None,
    source: Publication,
    locator: str,
    quoted_in: Publication | None,
    quoted_in_locator: str,
) -> str:
    """The Chicago-style note of ``chicago_note`` from the parts it cites (``kind`` is the kind's label)."""
    text = f"{speaker}, {kind.lower()}, {date}"
    if event is not None:
        text += f", {event}"
    text += f", in {_publication(source, speaker)}"
    if locator:
        text += f", {pages(locator)}"
    if quoted_in is not None:
        text += f", quoted in {_publication(quoted_in)}"
        if quoted_in_locator:
            text += f", {pages(quoted_in_locator)}"
    return one_line(text + ".")


def csl_item(excerpt: Excerpt) -> dict[str, Any]:
    """The excerpt as one CSL-JSON item."""
    source, kind = excerpt.source, csl_type(excerpt)
    item = {
        "id": f"excerpt-{excerpt.pk}",
        "type": kind,
        "title": source.title,
        "author": [{"literal": excerpt.speaker.name}],
        "issued": csl_date(source.date) or csl_date(excerpt.date, excerpt.date_start, excerpt.date_end),
        "event-date": csl_date(excerpt.date, excerpt.date_start, excerpt.date_end),
        "language": excerpt.language,
    }
    if kind in ("article-newspaper", "article", "chapter"):
        item["container-title"] = source.title
        if source.author and kind == "chapter":
            item["editor"] = [{"literal": source.author}]
    optional = {
        "publisher": source.publisher,
        "publisher-place": source.place,
        "page": pages(excerpt.locator),
        "locator": pages(excerpt.locator),
        "URL": source.url,
        "archive": source.archive,
        "event-title": excerpt.event.name if excerpt.event is not None else "",
        "translator": [{"literal": excerpt.translator}] if excerpt.translator else None,
        "note": f"Quoted in {_publication(excerpt.quoted_in)}"
        + (f", {pages(excerpt.quoted_in_locator)}" if excerpt.quoted_in_locator else "")
        if excerpt.quoted_in is not None
        else "",
    }
    item.update({key: value for key, value in optional.items() if value})
    return item


def one_line(value: str) -> str:
    """``value`` with each run of control characters and line breaks (and the spaces around it) as one space."""
    return LINE_BREAKING.sub(" ", value).strip(" ")


def _bibtex_escape(value: str) -> str:
    return BIBTEX_SPECIAL.sub(lambda match: BIBTEX_REPLACEMENTS.get(match[1], "\\" + match[1]), one_line(value))


def bibtex_entry(excerpt: Excerpt) -> str:
    """The excerpt as one BibTeX entry (biblatex fields where BibTeX has none, such as date)."""
    item = csl_item(excerpt)
    entry_type = "article" if item["type"] in ("article-newspaper", "article") else "misc"
    first, last = page_range(excerpt.locator)
    fields = {
        "author": "{" + _bibtex_escape(excerpt.speaker.name) + "}",  # a literal name, not First Last
        "title": excerpt.source.title,
        "journal": excerpt.source.title if entry_type == "article" else "",
        "howpublished": excerpt.get_kind_display() if entry_type == "misc" else "",
        "date": excerpt.date,
        "year": str(excerpt.date_start.year),
        "pages": f"{first}--{last}" if last else first,
        "publisher": excerpt.source.publisher,
        "address": excerpt.source.place,
        "url": excerpt.source.url,
        "language": excerpt.language,
        "note": item.get("note", ""),
    }
    key = f"{excerpt.speaker.slug}-{excerpt.date_start.year}-{excerpt.pk}"
    escaped = {name: value if name == "author" else _bibtex_escape(value) for name, value in fields.items()}
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in escaped.items() if value)
    return f"@{entry_type}{{{key},\n{body}\n}}\n"


def ris_record(excerpt: Excerpt) -> str:
    """The excerpt as one RIS record."""
    item = csl_item(excerpt)
    first, last = page_range(excerpt.locator)
    day = excerpt.date_start
    precise = EDTF_DAY.match(excerpt.date)
    date = f"{day.year}/" + (
        f"{day.month:02d}/" + (f"{day.day:02d}/" if precise["day"] else "/") if precise and precise["month"] else "//"
    )
    tags = [
        ("TY", RIS_TYPES.get(item["type"], "GEN")),
        ("ID", item["id"]),
        ("AU", excerpt.speaker.name),
        ("TI", excerpt.source.title),
        ("T2", item.get("container-title", "")),
        ("PY", str(day.year)),
        ("DA", date),
        ("SP", first),
        ("EP", last),
        ("PB", excerpt.source.publisher),
        ("CY", excerpt.source.place),
        ("UR", excerpt.source.url),
        ("LA", excerpt.language),
        ("N1", item.get("note", "")),
    ]
    lines = [f"{tag}  - {value}" for tag, value in ((tag, one_line(value)) for tag, value in tags) if value]
    return "\n".join([*lines, "ER  - ", ""])


def render(excerpts: Iterable[Excerpt], style: str) -> str:
    """The citations of ``excerpts`` in ``style`` (a key of STYLES), as one text."""
    if style == "csl-json":
        return json.dumps([csl_item(excerpt) for excerpt in excerpts], ensure_ascii=False, indent=2)
    if style == "bibtex":
        return "\n".join(bibtex_entry(excerpt) for excerpt in excerpts)
    if style == "ris":
        return "\n".join(ris_record(excerpt) for excerpt in excerpts)
    return "".join(chicago_note(excerpt) + "\n" for excerpt in excerpts)
