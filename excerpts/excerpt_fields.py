"""
The excerpt's fields, declared once, in the order every representation lists them: the API's read and write
serializers, its CSV export, the import's columns and the admin's form. Each list other than ``FIELDS`` is
``FIELDS`` less some names, or flattened, for the reason its comment gives.
"""

# Everything the API shows of an excerpt to a curator, in order: the model's fields (less speaker_name, a copy of
# the speaker's name kept for ordering) and the API's own url, citation and highlight.
FIELDS = (
    "id",
    "url",
    "text",
    "kind",
    "attribution",
    "speaker",
    "date",
    "date_start",
    "date_end",
    "date_display",
    "event",
    "source",
    "locator",
    "quoted_in",
    "quoted_in_locator",
    "topics",
    "language",
    "original_text",
    "translator",
    "context",
    "citation",
    "highlight",
    "status",
    "created",
    "updated",
)
# Shown to curators alone: the status (the public reads published excerpts only) and the record's timestamps.
CURATOR_ONLY = ("status", "created", "updated")
# What Excerpt.save() derives from the date.
DATE_BOUNDS = ("date_start", "date_end", "date_display")
# Given by the database, the model or the API, never by a writer.
READ_ONLY = ("id", "url", *DATE_BOUNDS, "citation", "highlight", "created", "updated")

PUBLIC_FIELDS = tuple(name for name in FIELDS if name not in CURATOR_ONLY)
WRITABLE_FIELDS = tuple(name for name in FIELDS if name not in READ_ONLY)

# The related objects in a flat file: each as columns named <field>_<part>, of which the first part names the object
# (the import reads that column back); the topics as their slugs, joined with TOPIC_SEPARATOR.
FLATTENED = {
    "speaker": ("slug", "name"),
    "event": ("slug", "name"),
    "source": ("id", "title", "author"),
    "quoted_in": ("id", "title"),
}
TOPIC_SEPARATOR = ";"

# The API's CSV export: the public fields less the highlight (a search's passage, which no export has), each related
# object flattened into its columns.
CSV_FIELDS = tuple(name for name in PUBLIC_FIELDS if name != "highlight")
CSV_COLUMNS = tuple(
    column
    for name in CSV_FIELDS
    for column in ([f"{name}_{part}" for part in FLATTENED[name]] if name in FLATTENED else [name])
)
