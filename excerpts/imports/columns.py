"""The columns an import file may have, and the excerpt fields an import writes, all read from excerpt_fields."""

import functools

from ..excerpt_fields import CSV_COLUMNS, DATE_BOUNDS, FLATTENED, WRITABLE_FIELDS
from ..models import Excerpt

FORMATS = ("csv", "json")

# The import's own columns: the fields a writer gives, after the id that names the excerpt a row updates (which in
# the API is the URL's).
COLUMNS = ["id", *WRITABLE_FIELDS]

# Each related field, its model and the columns that may name it: the import's own, by slug, and the column of the
# API's CSV export that names the object (speaker_slug, event_slug, source_id, quoted_in_id).
RELATED = {
    name: (Excerpt._meta.get_field(name).related_model, {name: "slug", f"{name}_{key}": key})
    for name, (key, *_) in FLATTENED.items()
}
# The columns read as they are, text (the rest are the id, the related objects and the topics).
TEXT_COLUMNS = [column for column in COLUMNS if column not in ("id", "topics", *RELATED)]
READ_COLUMNS = {*COLUMNS, *(column for _, columns in RELATED.values() for column in columns)}
# Columns of the API's CSV export derived from the others (the url, names and titles, the date's bounds, the
# citation): read and ignored, so that the export imports as it is.
DERIVED_COLUMNS = set(CSV_COLUMNS) - READ_COLUMNS
KNOWN_COLUMNS = READ_COLUMNS | DERIVED_COLUMNS

# What an import writes of each excerpt: its writable fields (the topics apart, in their own table) and the date's
# bounds. created and updated are the database's; speaker_name its triggers'.
WRITTEN_FIELDS = [
    *(field.attname for field in map(Excerpt._meta.get_field, WRITABLE_FIELDS) if not field.many_to_many),
    *DATE_BOUNDS,
]


def check_columns(columns):
    """Raise ValueError naming repeated or unknown columns, or two columns that give one field."""
    columns = list(columns)
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise ValueError(f"Column(s) {', '.join(repeated)} appear more than once.")
    unknown = sorted(set(columns) - KNOWN_COLUMNS, key=str)
    if unknown:
        raise ValueError(
            f"Unknown column(s) {', '.join(map(str, unknown))}. The columns are: {', '.join(COLUMNS)} "
            "(or those of the API's CSV export)."
        )
    for name, (_, names) in RELATED.items():
        given = [column for column in names if column in columns]
        if len(given) > 1:
            raise ValueError(f"Columns {' and '.join(given)} both give the {name}: keep one.")


@functools.lru_cache(maxsize=64)
def columns_problem(columns):
    """What check_columns says of a tuple of columns, or None; remembered, since every row of a file repeats it."""
    try:
        check_columns(columns)
    except ValueError as error:
        return str(error)
    return None
