"""
A copy of each excerpt's speaker name in ``Excerpt.speaker_name``, kept by triggers, for ``ordering=speaker``.

An index on (speaker_name, date_start, id) answers a page sorted by speaker directly, where a join sorted
every excerpt. The triggers copy the current name on every write path: an excerpt written with a new
speaker (the ORM, ``QuerySet.update``, imports, ``loaddata``, raw SQL), and a speaker renamed or inserted
after its excerpts (``loaddata`` defers constraints). Django never sets the copy.
"""

from .objects import DatabaseObject

SPEAKER_NAME = "coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = {speaker_id}), '')"

# SQLite's triggers cannot change the row being written: they update it right after.
SQLITE_TRIGGERS = {
    "excerpts_excerpt_speaker_name_insert": (
        "excerpts_excerpt",
        "AFTER INSERT ON excerpts_excerpt",
        f"UPDATE excerpts_excerpt SET speaker_name = {SPEAKER_NAME.format(speaker_id='NEW.speaker_id')} "
        "WHERE id = NEW.id",
    ),
    "excerpts_excerpt_speaker_name_update": (
        "excerpts_excerpt",
        "AFTER UPDATE OF speaker_id, speaker_name ON excerpts_excerpt",
        f"UPDATE excerpts_excerpt SET speaker_name = {SPEAKER_NAME.format(speaker_id='NEW.speaker_id')} "
        "WHERE id = NEW.id",
    ),
    "excerpts_speaker_name_copy_insert": (
        "excerpts_speaker",
        "AFTER INSERT ON excerpts_speaker",
        "UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id",
    ),
    "excerpts_speaker_name_copy_update": (
        "excerpts_speaker",
        "AFTER UPDATE OF name ON excerpts_speaker WHEN OLD.name IS NOT NEW.name",
        "UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id",
    ),
}

OBJECTS = {
    "sqlite": [
        DatabaseObject("trigger", name, f"CREATE TRIGGER {name} {event} BEGIN {body}; END", table=table)
        for name, (table, event, body) in SQLITE_TRIGGERS.items()
    ],
    "postgresql": [
        DatabaseObject(
            "function",
            "excerpts_excerpt_speaker_name_trigger",
            f"""
    CREATE FUNCTION excerpts_excerpt_speaker_name_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.speaker_name := {SPEAKER_NAME.format(speaker_id="NEW.speaker_id")};
        RETURN NEW;
    END
    $$
    """,
        ),
        DatabaseObject(
            "function",
            "excerpts_speaker_name_copy_trigger",
            """
    CREATE FUNCTION excerpts_speaker_name_copy_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR OLD.name IS DISTINCT FROM NEW.name THEN
            UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
        ),
        DatabaseObject(
            "trigger",
            "excerpts_excerpt_speaker_name",
            "CREATE TRIGGER excerpts_excerpt_speaker_name BEFORE INSERT OR UPDATE OF speaker_id, speaker_name "
            "ON excerpts_excerpt FOR EACH ROW EXECUTE FUNCTION excerpts_excerpt_speaker_name_trigger()",
            table="excerpts_excerpt",
        ),
        DatabaseObject(
            "trigger",
            "excerpts_speaker_name_copy",
            "CREATE TRIGGER excerpts_speaker_name_copy AFTER INSERT OR UPDATE OF name ON excerpts_speaker "
            "FOR EACH ROW EXECUTE FUNCTION excerpts_speaker_name_copy_trigger()",
            table="excerpts_speaker",
        ),
    ],
}
COPY_ALL = "UPDATE excerpts_excerpt SET speaker_name = " + SPEAKER_NAME.format(
    speaker_id="excerpts_excerpt.speaker_id"
)
FILL = {"sqlite": [COPY_ALL], "postgresql": [COPY_ALL]}
