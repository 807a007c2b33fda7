"""
Every tuning knob of the excerpts API, each documented once: what it bounds, its default and why.

Any knob can be set in ``settings.EXCERPTS_LIMITS``, a dict of name to value merged over the defaults
below (``EXCERPTS_LIMITS = {"COUNT_LIMIT": 50_000}``); a name that is not a knob, or a value that is
not a whole number, is refused when the settings load. ``SCAN_LIMIT`` follows ``COUNT_LIMIT`` unless
it is set itself.

Code reads a knob as ``limits.NAME`` when it needs it, never ``from limits import NAME``, so that a
changed setting (``override_settings``) or a test's ``monkeypatch.setattr(limits, "NAME", ...)``
reaches it. Text written when a module is imported (OpenAPI descriptions quoting a bound) shows the
value of that moment.
"""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

# Lists and their pages (api/pagination.py).

# Rows in a list page when the request gives no page_size.
PAGE_SIZE: int = 20
# The largest page_size a request may ask for: a page's queries and its response stay small.
MAX_PAGE_SIZE: int = 100
# Characters in a cursor; a longer one is refused before it is decoded (a real cursor is far shorter).
MAX_CURSOR_LENGTH: int = 1000
# A list's total is counted exactly up to this many matches; beyond, count is this and count_exact false.
# An exact count of a million matches would cost more than the page it comes with.
COUNT_LIMIT: int = 10_000

# Search (research/search.py, api/filters.py).

# Characters in q: a longer query is a 400 before it reaches the database.
MAX_Q_LENGTH: int = 200
# Words or phrases in q: each is one more condition in the index lookup.
MAX_TERMS: int = 12
# Only the newest RANK_WINDOW matches of a query are ranked by relevance (older ones follow, newest first),
# so a term found in half the corpus costs the ranking work of a rare one.
RANK_WINDOW: int = 2000
# Words in a result's highlighted passage (each Chinese or Japanese character a word), computed in Python.
HIGHLIGHT_WORDS: int = 32
# On PostgreSQL a phrase found in fewer than 1 in RARE_PHRASE of the newest PHRASE_SAMPLE excerpts is looked
# up first, as a list of ids: the planner takes a phrase of two common words for fifty times as common as it is.
RARE_PHRASE: int = 100
PHRASE_SAMPLE: int = 4000
# On SQLite a term found in at least 1 in COMMON_TERM of the newest COMMON_SAMPLE excerpts is "common": a list
# sorted by date or speaker then tests each excerpt for it instead of sorting every match. A page of 20 then tests
# about 20 * COMMON_TERM excerpts; sorting the matches of a phrase in 4% of a million took a second.
COMMON_TERM: int = 50
COMMON_SAMPLE: int = 4000

# Facets and random draws (research/facets.py, research/sampling.py).

# A filtered facets request counts at most this many matches, the most recently added. The same bound as a
# list's count by default, so that a list and its facets agree on when a count stops being exact.
SCAN_LIMIT: int = COUNT_LIMIT
# Change rows of the PostgreSQL facet summary a reader tolerates beyond one per value before it folds them:
# folding costs a rewrite of the table, too many change rows slow every read.
FOLD_AFTER: int = 2000
# On SQLite a filtered set with at least 1 in DENSE of the newest DENSITY_SAMPLE excerpts is read by walking the
# table in id order, which meets a match every few rows, instead of sorting every match of a wide filter.
DENSE: int = 20
DENSITY_SAMPLE: int = 4000
# A random draw reads at most SAMPLE_ALL ids: a set that small is sampled exactly, a larger one from STRETCHES
# stretches of consecutive matches, so a draw costs the same at any size.
SAMPLE_ALL: int = 1000
STRETCHES: int = 5
# A draw from a larger set with fewer than 1 in SPARSE of the newest DENSITY_SAMPLE excerpts (a source, a speaker)
# reads all its ids, up to SAMPLE_IDS, and cuts the stretches from that list: a walk of the table between two of a
# source's matches read a thousand rows. A denser set (a topic) is read faster by stretches.
SPARSE: int = 100
SAMPLE_IDS: int = 100_000

# Exports, bibliographies and the cache.

# Excerpts fetched per query of a streamed CSV or JSON Lines export: memory stays flat, round trips few.
EXPORT_CHUNK_SIZE: int = 2000
# Excerpts in one bibliography (the cite list); a larger set is a 400 that points to the export.
MAX_BIBLIOGRAPHY: int = 1000
# Seconds a cached count or facet result is kept. Entries of an old data version are never read again; this
# only bounds the memory they hold.
CACHE_TIMEOUT: int = 3600

# Failures and hostile requests (api/problems.py, api/parsers.py, api/serializers.py).

# Milliseconds each statement of a public read (GET or HEAD outside the admin) may run before the database cancels
# it and the request is a 503 query-timeout problem. The slowest request of the benchmark's sweep takes 0.3 s at
# a million excerpts; one statement far past that is a pathological query, and a worker it held would be lost to
# every other client. Writes, the admin, imports and management commands have no budget, nor do the rows a
# streamed export reads after its view has returned.
PUBLIC_STATEMENT_TIMEOUT_MS: int = 5000
# Bytes in a request body: a larger one is a 413 before it is read. An excerpt with a long speech is a few
# dozen KB.
MAX_BODY_BYTES: int = 1_048_576
# Levels of nesting of the JSON in a request body (an object, a list in it, ...): a write needs 2; a deeper
# body is a 400 before it is parsed.
MAX_JSON_DEPTH: int = 32
# Topics of one excerpt in a write: each one is looked up, so a longer list is a 400 before any is.
MAX_TOPICS: int = 100

DEFAULTS: dict[str, int] = {name: value for name, value in globals().items() if name.isupper()}
# Zero is a meaningful value only where it means "always" (fold at every read).
MINIMUM: dict[str, int] = {name: 0 if name == "FOLD_AFTER" else 1 for name in DEFAULTS}


def configure(overrides: Mapping[str, int]) -> None:
    """Set every knob to its default, then to ``overrides``; raise ImproperlyConfigured for a bad name or value."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"EXCERPTS_LIMITS names unknown limits: {', '.join(unknown)}. Known: {', '.join(sorted(DEFAULTS))}."
        )
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < MINIMUM[name]:
            raise ImproperlyConfigured(
                f"EXCERPTS_LIMITS[{name!r}] must be a whole number of at least {MINIMUM[name]}, not {value!r}."
            )
    scan_limit = overrides.get("COUNT_LIMIT", DEFAULTS["SCAN_LIMIT"])
    globals().update({**DEFAULTS, "SCAN_LIMIT": scan_limit, **overrides})


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "EXCERPTS_LIMITS":
        configure(getattr(settings, "EXCERPTS_LIMITS", {}))


configure(getattr(settings, "EXCERPTS_LIMITS", {}))
