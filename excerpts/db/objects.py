"""
The shape every database-kept object is declared in: its kind, its name, and how to create and drop it.

Each module of this package declares its objects once per engine as ``OBJECTS = {"sqlite": [...],
"postgresql": [...]}`` and the statements that compute their contents from the tables as
``FILL = {...}``. ``excerpts.db`` puts them in order for an install; migrations copy that SQL
into themselves (``excerpts.db.operations``), the system check compares the database with it, and
``manage.py repair_database`` runs it.
"""

import hashlib
from dataclasses import dataclass

# The order objects are created in: storage first, then what reads it (a fill runs between the two, so the
# index is built once over the filled rows and no trigger fires for the fill itself).
STORAGE_KINDS = ("table", "virtual table", "column", "function")
DERIVED_KINDS = ("index", "trigger")
MARK = "excerpts:"  # PostgreSQL: each object's comment is MARK + a digest of its definition


@dataclass(frozen=True)
class DatabaseObject:
    """
    One thing the database keeps for us.

    ``create`` is one or more statements. ``table`` is the table a trigger, an index or a column belongs to.
    ``signature`` names a PostgreSQL function with its argument types (``name(text, bigint)``).
    """

    kind: str
    name: str
    create: tuple[str, ...] | str  # one statement may be given alone; __post_init__ makes it a tuple
    table: str = ""
    signature: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.create, str):
            object.__setattr__(self, "create", (self.create,))

    @property
    def digest(self) -> str:
        """A short digest of the definition: PostgreSQL keeps it as the object's comment, the check compares it."""
        return hashlib.sha256("\n".join(" ".join(s.split()) for s in self.create).encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" + (f" on {self.table}" if self.table and self.kind != "column" else "")

    def drop(self, vendor: str) -> str:
        """The statement that drops the object if it exists."""
        if self.kind == "column":
            return f"ALTER TABLE {self.table} DROP COLUMN IF EXISTS {self.name}"
        if self.kind == "trigger" and vendor == "postgresql":
            return f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}"
        if self.kind == "function":
            return f"DROP FUNCTION IF EXISTS {self.signature or self.name + '()'}"
        kind = "TABLE" if self.kind == "virtual table" else self.kind.upper()
        return f"DROP {kind} IF EXISTS {self.name}"

    def comment_target(self) -> str:
        """What PostgreSQL's COMMENT ON names the object as."""
        if self.kind == "column":
            return f"COLUMN {self.table}.{self.name}"
        if self.kind == "trigger":
            return f"TRIGGER {self.name} ON {self.table}"
        if self.kind == "function":
            return f"FUNCTION {self.signature or self.name + '()'}"
        return f"{self.kind.upper()} {self.name}"

    def create_statements(self, vendor: str) -> list[str]:
        """The statements that create the object; on PostgreSQL the last one comments it with its digest."""
        if vendor == "postgresql":
            return [*self.create, f"COMMENT ON {self.comment_target()} IS '{MARK}{self.digest}'"]
        return list(self.create)
