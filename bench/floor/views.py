"""
The floor of the throughput benchmark: the API's excerpt reads done with as little as Django allows, to show
what the same answer costs with nothing but a query and a JSON encoder.

One query for the page with the same joins as the API's excerpt representation (speaker, event, source,
quoted_in) and one for the page's topics, through ``django.db.connection`` on either engine; rows become dicts
by position and orjson writes them. Pages are the API's: ordered by ``(date_start, id)``, 20 a page, with the
API's own cursor format, so a cursor from one server works on the other. What the floor leaves out, because it
is not what is measured: the total count (the API caches it per data version), the previous link, content
negotiation, ETags and every other parameter. Unknown or malformed parameters are a 400, never a 500.
"""

import base64
import binascii
import datetime
import json

import orjson
from django.db import connection
from django.http import HttpResponse

PAGE_SIZE = 20  # excerpts/research/limits.py's PAGE_SIZE, the API's default
ORDER = ["date_start", "id"]  # excerpts/api/ordering.py's default ("date")

SELECT = """
SELECT e.id, e.text, e.kind, e.attribution, e.date, e.date_start, e.date_end, e.date_display, e.locator,
       e.quoted_in_locator, e.language, e.original_text, e.translator, e.context,
       sp.slug, sp.name,
       ev.slug, ev.name, ev.date,
       so.id, so.title, so.author, so.date, so.url,
       qi.id, qi.title, qi.author, qi.date, qi.url
FROM excerpts_excerpt e
JOIN excerpts_speaker sp ON sp.id = e.speaker_id
JOIN excerpts_source so ON so.id = e.source_id
LEFT JOIN excerpts_event ev ON ev.id = e.event_id
LEFT JOIN excerpts_source qi ON qi.id = e.quoted_in_id
WHERE e.status = 'published'
"""
TOPICS = """
SELECT et.excerpt_id, t.slug, t.name FROM excerpts_excerpt_topics et JOIN excerpts_topic t ON t.id = et.topic_id
WHERE et.excerpt_id IN ({ids}) ORDER BY t.name, t.id
"""


def problem(detail, status=400):
    body = {"type": "about:blank", "title": "Bad request" if status == 400 else "Not found", "status": status}
    return HttpResponse(
        orjson.dumps({**body, "detail": detail}), status=status, content_type="application/problem+json"
    )


def json_response(data):
    return HttpResponse(orjson.dumps(data), content_type="application/json")


def iso(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def represent(rows, base):
    """The API's public representation of each row, with its topics (one more query for the whole page)."""
    topics = {}
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(TOPICS.format(ids=", ".join(["%s"] * len(rows))), [row[0] for row in rows])
            for excerpt_id, slug, name in cursor.fetchall():
                topics.setdefault(excerpt_id, []).append({"slug": slug, "name": name})
    excerpts = []
    for row in rows:
        (pk, text, kind, attribution, date, date_start, date_end, date_display, locator, quoted_in_locator) = row[:10]
        language, original_text, translator, context, speaker_slug, speaker_name = row[10:16]
        event = row[16:19]
        source = row[19:24]
        quoted_in = row[24:29]
        excerpts.append(
            {
                "id": pk,
                "url": f"{base}/api/v1/excerpts/{pk}/",
                "text": text,
                "kind": kind,
                "attribution": attribution,
                "speaker": {
                    "slug": speaker_slug,
                    "name": speaker_name,
                    "url": f"{base}/api/v1/speakers/{speaker_slug}/",
                },
                "date": date,
                "date_start": date_start,
                "date_end": date_end,
                "date_display": date_display,
                "event": None
                if event[0] is None
                else {
                    "slug": event[0],
                    "name": event[1],
                    "date": event[2],
                    "url": f"{base}/api/v1/events/{event[0]}/",
                },
                "source": source_summary(source),
                "locator": locator,
                "quoted_in": None if quoted_in[0] is None else source_summary(quoted_in),
                "quoted_in_locator": quoted_in_locator,
                "topics": topics.get(pk, []),
                "language": language,
                "original_text": original_text,
                "translator": translator,
                "context": context,
                # A plain join of the parts the API's Chicago note is made of: the floor's share of that work.
                "citation": ", ".join(part for part in (speaker_name, kind, date_display, event[1]) if part)
                + f", in {source[1]}.",
                "highlight": None,
            }
        )
    return excerpts


def source_summary(source):
    pk, title, author, date, url = source
    return {"id": pk, "title": title, "author": author, "date": date, "url": url or None}


def decode_cursor(raw):
    """The (date_start, id) a cursor of the API's default order points after, or None if it is not one."""
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
        if data["o"] != ORDER or data["d"] != "n":
            return None
        date_start, pk = data["v"]
        return datetime.date.fromisoformat(date_start), int(pk)
    except (ValueError, UnicodeError, binascii.Error, KeyError, TypeError):
        return None


def encode_cursor(date_start, pk):
    """The API's cursor for the page after the row (date_start, pk) in the default order."""
    data = {"o": ORDER, "v": [iso(date_start), pk], "d": "n"}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def excerpt_list(request):
    """A page of published excerpts by (date_start, id), optionally of one speaker and overlapping a date range."""
    params = request.GET
    where, args = [], []
    if "cursor" in params:
        position = decode_cursor(params["cursor"])
        if position is None:
            return problem("Invalid cursor.")
        where.append("(e.date_start, e.id) > (%s, %s)")
        args.extend(position)
    if "speaker" in params:
        # The API's way (api/filters.py): the copied name lets the (status, speaker_name, date_start, id) index
        # give the page in order; by speaker_id alone, every excerpt of the speaker is read and sorted.
        where.append("e.speaker_name = (SELECT name FROM excerpts_speaker WHERE slug = %s) AND sp.slug = %s")
        args.extend([params["speaker"], params["speaker"]])
    try:
        if "date_after" in params:
            where.append("e.date_end >= %s")
            args.append(datetime.date.fromisoformat(params["date_after"]))
        if "date_before" in params:
            where.append("e.date_start <= %s")
            args.append(datetime.date.fromisoformat(params["date_before"]))
    except ValueError:
        return problem("date_after and date_before must be ISO dates (YYYY-MM-DD).")
    conditions = "".join(f" AND {condition}" for condition in where)
    with connection.cursor() as cursor:
        cursor.execute(f"{SELECT}{conditions} ORDER BY e.date_start, e.id LIMIT {PAGE_SIZE + 1}", args)
        rows = cursor.fetchall()
    base = f"{request.scheme}://{request.get_host()}"
    following = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        query = params.copy()
        query["cursor"] = encode_cursor(rows[-1][5], rows[-1][0])
        following = f"{base}{request.path}?{query.urlencode()}"
    return json_response({"next": following, "results": represent(rows, base)})


def excerpt_detail(request, pk):
    """One published excerpt."""
    with connection.cursor() as cursor:
        cursor.execute(f"{SELECT} AND e.id = %s", [pk])
        rows = cursor.fetchall()
    if not rows:
        return problem("No published excerpt has this id.", status=404)
    return json_response(represent(rows, f"{request.scheme}://{request.get_host()}")[0])
