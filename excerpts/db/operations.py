"""
The migration operation that installs the database-kept objects, with their SQL written into the migration.

Like ``RunSQL``, it carries its statements, so a migration means the same thing whatever the code
becomes; unlike it, it keeps one list per engine and runs the list of the engine migrated (none on
another engine). What it does is part of every migration that uses it: never change it, add a class.
"""

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

# Statements per database vendor ("sqlite", "postgresql"), in the order they run.
Statements = dict[str, list[str]]


class InstallDatabaseObjects(Operation):
    """Run ``forwards[vendor]`` when migrating forwards and ``backwards[vendor]`` when migrating back."""

    reduces_to_sql = True
    reversible = True

    def __init__(
        self,
        forwards: Statements,
        backwards: Statements | None = None,
        description: str = "Install the database-kept objects",
    ) -> None:
        self.forwards = forwards
        self.backwards = backwards or {}
        self.description = description

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        kwargs = {"forwards": self.forwards, "backwards": self.backwards, "description": self.description}
        return (self.__class__.__name__, [], kwargs)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass  # nothing Django models

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._run(schema_editor, self.forwards)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._run(schema_editor, self.backwards)

    def _run(self, schema_editor: BaseDatabaseSchemaEditor, statements: Statements) -> None:
        for statement in statements.get(schema_editor.connection.vendor, ()):
            # No parameters: the SQL is executed as written, "%" and all.
            schema_editor.execute(statement, params=None)

    def describe(self) -> str:
        return self.description
