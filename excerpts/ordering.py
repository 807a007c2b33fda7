"""
Ordering excerpts by speaker: each excerpt keeps a copy of its speaker's name, kept by triggers.

``ordering=speaker`` sorts by the speaker's name, then date and id. The name lives in another table,
so the database joined and sorted every excerpt for each page (seconds at a million). The copy in
``Excerpt.speaker_name`` lets an index on (speaker_name, date_start, id) answer a page directly.

Triggers keep the copy on every write path: an excerpt written with a new speaker (the ORM,
``QuerySet.update``, imports, ``loaddata``, raw SQL) and a speaker renamed or inserted after its
excerpts (``loaddata`` defers constraints) copy the current name. Django never has to set it.
"""

from .caching import run_statements

SPEAKER_NAME = "coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = {speaker_id}), '')"

SQLITE_TRIGGERS = {
    # SQLite's triggers cannot change the row being written: they update it right after.
    "excerpts_excerpt_speaker_name_insert": (
        "AFTER INSERT ON excerpts_excerpt",
        f"UPDATE excerpts_excerpt SET speaker_name = {SPEAKER_NAME.format(speaker_id='NEW.speaker_id')} "
        "WHERE id = NEW.id",
    ),
    "excerpts_excerpt_speaker_name_update": (
        "AFTER UPDATE OF speaker_id, speaker_name ON excerpts_excerpt",
        f"UPDATE excerpts_excerpt SET speaker_name = {SPEAKER_NAME.format(speaker_id='NEW.speaker_id')} "
        "WHERE id = NEW.id",
    ),
    "excerpts_speaker_name_copy_insert": (
        "AFTER INSERT ON excerpts_speaker",
        "UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id",
    ),
    "excerpts_speaker_name_copy_update": (
        "AFTER UPDATE OF name ON excerpts_speaker WHEN OLD.name IS NOT NEW.name",
        "UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id",
    ),
}
SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {name} {event} BEGIN {body}; END" for name, (event, body) in SQLITE_TRIGGERS.items()
]
SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION excerpts_excerpt_speaker_name_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.speaker_name := {SPEAKER_NAME.format(speaker_id="NEW.speaker_id")};
        RETURN NEW;
    END
    $$
    """,
    "CREATE OR REPLACE TRIGGER excerpts_excerpt_speaker_name BEFORE INSERT OR UPDATE OF speaker_id, speaker_name "
    "ON excerpts_excerpt FOR EACH ROW EXECUTE FUNCTION excerpts_excerpt_speaker_name_trigger()",
    """
    CREATE OR REPLACE FUNCTION excerpts_speaker_name_copy_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR OLD.name IS DISTINCT FROM NEW.name THEN
            UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE OR REPLACE TRIGGER excerpts_speaker_name_copy AFTER INSERT OR UPDATE OF name ON excerpts_speaker "
    "FOR EACH ROW EXECUTE FUNCTION excerpts_speaker_name_copy_trigger()",
]
POSTGRESQL_UNINSTALL = [
    "DROP TRIGGER IF EXISTS excerpts_excerpt_speaker_name ON excerpts_excerpt",
    "DROP TRIGGER IF EXISTS excerpts_speaker_name_copy ON excerpts_speaker",
    "DROP FUNCTION IF EXISTS excerpts_excerpt_speaker_name_trigger()",
    "DROP FUNCTION IF EXISTS excerpts_speaker_name_copy_trigger()",
]
STATEMENTS = {
    "sqlite": {"install": SQLITE_INSTALL, "uninstall": SQLITE_UNINSTALL},
    "postgresql": {"install": POSTGRESQL_INSTALL, "uninstall": POSTGRESQL_UNINSTALL},
}
COPY_ALL = "UPDATE excerpts_excerpt SET speaker_name = " + SPEAKER_NAME.format(
    speaker_id="excerpts_excerpt.speaker_id"
)


def install(connection):
    """Create the triggers (idempotent) and copy every excerpt's speaker name."""
    run_statements(connection, [*STATEMENTS[connection.vendor]["install"], COPY_ALL])


def uninstall(connection):
    run_statements(connection, STATEMENTS[connection.vendor]["uninstall"])
