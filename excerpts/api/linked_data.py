"""
An excerpt as JSON-LD: a schema.org ``Quotation`` (``application/ld+json``, or ``?format=jsonld`` on the detail).

Built from the excerpt as the API shows it (api/representations.py, or the curator's serializer) and the few things
that representation leaves out (whether the speaker is a person or a body, the speaker's other names, what kind of
work each source is, its publisher), read in one more query. Every node that the API serves has its URL as ``@id``,
so the quotation links into the API: ``creator`` is the speaker, ``isBasedOn`` the work the words are printed in,
``isPartOf`` the work that quotes them (the same work when nothing else does), ``about`` the topics, ``recordedAt``
the occasion.

``text`` is the English text, so ``inLanguage`` is ``en``; the words in the language first spoken or written are a
``translationOfWork`` with that ``inLanguage`` (and their ``text`` when the curators have it), and the translator,
when known, is the ``translator``.

``dateCreated``: an EDTF date that is a plain calendar date, month or year (``1956-02-25``, ``1958-07``, ``1958``) is
given as it is, which is ISO 8601 and what schema.org's Date expects; its earliest and latest possible days agree
for a day. Any other date (a season, ``1958?`` or ``1958~``, an interval such as ``1958/1971``, the second half of a
year) has no ISO 8601 date to give without claiming a precision the evidence lacks: it is given as the curators
entered it, a literal typed as EDTF (``http://id.loc.gov/datatypes/edtf/EDTF``, the Library of Congress datatype),
from which its bounds follow. ``date_start`` and ``date_end`` in the JSON representation state those bounds.
"""

import re

from django.urls import reverse

from ..models import Excerpt, Source, Speaker

MEDIA_TYPE = "application/ld+json"
CONTEXT = "https://schema.org"
EDTF_DATATYPE = "http://id.loc.gov/datatypes/edtf/EDTF"
# A date ISO 8601 and schema.org's Date take as it is: a day, a month or a year, without a qualifier. (EDTF writes a
# season or a part of a year as a "month" of 21 to 41: those are not months.)
PLAIN_DATE = re.compile(r"[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-[0-9]{2})?)?")

SPEAKER_TYPES = {Speaker.Kind.PERSON: "Person", Speaker.Kind.ORGANIZATION: "Organization"}
SOURCE_TYPES = {
    Source.Kind.BOOK: "Book",
    Source.Kind.NEWSPAPER: "PublicationIssue",
    Source.Kind.ARCHIVAL: "ArchiveComponent",
    Source.Kind.TRANSCRIPT: "CreativeWork",
    Source.Kind.ARTICLE: "Article",
    Source.Kind.WEBSITE: "WebPage",
}
KIND_LABELS = {value: str(label) for value, label in Excerpt.Kind.choices}
ATTRIBUTION_LABELS = {value: str(label) for value, label in Excerpt.Attribution.choices}
# What the representation leaves out, read for one excerpt.
DETAILS = (
    "speaker__kind",
    "speaker__aliases",
    "source__kind",
    "source__publisher",
    "quoted_in__kind",
    "quoted_in__publisher",
)


def details(pk):
    """The speaker's kind and aliases and each source's kind and publisher, of the excerpt ``pk``."""
    return Excerpt.objects.filter(pk=pk).values(*DETAILS).get()


def date_created(edtf):
    """``dateCreated`` of an EDTF date: the date itself if ISO 8601 has it, else a literal typed as EDTF."""
    if PLAIN_DATE.fullmatch(edtf):
        return edtf
    return {"@type": EDTF_DATATYPE, "@value": edtf}


def work(summary, kind, publisher, absolute):
    """A source as a schema.org creative work, identified by its URL in the API."""
    node = {
        "@type": SOURCE_TYPES.get(kind, "CreativeWork"),
        "@id": absolute(reverse("source-detail", kwargs={"pk": summary["id"]})),
        "name": summary["title"],
    }
    if summary["author"]:
        node["author"] = summary["author"]  # as cited: a person, several or a body (schema.org takes text)
    if summary["date"]:
        node["datePublished"] = date_created(summary["date"])
    if publisher:
        node["publisher"] = {"@type": "Organization", "name": publisher}
    if summary["url"]:
        node["url"] = summary["url"]  # where the work itself can be read
    return node


def quotation(excerpt, extra, absolute):
    """
    The JSON-LD document of ``excerpt`` (as the API shows it), with ``extra`` from ``details()``; ``absolute`` makes
    a path an absolute URL.
    """
    speaker = {
        "@type": SPEAKER_TYPES.get(extra["speaker__kind"], "Person"),
        "@id": excerpt["speaker"]["url"],
        "name": excerpt["speaker"]["name"],
    }
    if extra["speaker__aliases"]:
        speaker["alternateName"] = list(extra["speaker__aliases"])
    source = work(excerpt["source"], extra["source__kind"], extra["source__publisher"], absolute)
    quoted_in = excerpt["quoted_in"]
    document = {
        "@context": CONTEXT,
        "@type": "Quotation",
        "@id": excerpt["url"],
        "url": excerpt["url"],
        "identifier": excerpt["id"],
        "text": excerpt["text"],
        "inLanguage": "en",
        "creator": speaker,
        "dateCreated": date_created(excerpt["date"]),
        "genre": [KIND_LABELS.get(excerpt["kind"], excerpt["kind"]), ATTRIBUTION_LABELS[excerpt["attribution"]]],
        "isBasedOn": source,
        "isPartOf": source
        if quoted_in is None
        else work(quoted_in, extra["quoted_in__kind"], extra["quoted_in__publisher"], absolute),
        "about": [
            {
                "@type": "DefinedTerm",
                "@id": absolute(reverse("topic-detail", kwargs={"slug": topic["slug"]})),
                "name": topic["name"],
                "termCode": topic["slug"],
            }
            for topic in excerpt["topics"]
        ],
        "citation": excerpt["citation"],
    }
    if excerpt["language"] != "en":
        original = {"@type": "Quotation", "inLanguage": excerpt["language"], "creator": {"@id": speaker["@id"]}}
        if excerpt["original_text"]:
            original["text"] = excerpt["original_text"]
        document["translationOfWork"] = original
        if excerpt["translator"]:
            document["translator"] = excerpt["translator"]  # as printed: a person, several or a body
    if excerpt["event"] is not None:
        document["recordedAt"] = {
            "@type": "Event",
            "@id": excerpt["event"]["url"],
            "name": excerpt["event"]["name"],
        }
    return document
