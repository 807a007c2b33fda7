"""
The migration operation that installs the database-kept objects, with their SQL written into the migration.

Like ``RunSQL``, it carries its statements, so a migration means the same thing whatever the code
becomes; unlike it, it keeps one list per engine and runs the list of the engine migrated (none on
another engine). What it does is part of every migration that uses it: never change it, add a class.
"""

from django.db.migrations.operations.base import Operation


class InstallDatabaseObjects(Operation):
    """Run ``forwards[vendor]`` when migrating forwards and ``backwards[vendor]`` when migrating back."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, forwards, backwards=None, description="Install the database-kept objects"):
        self.forwards = forwards
        self.backwards = backwards or {}
        self.description = description

    def deconstruct(self):
        kwargs = {"forwards": self.forwards, "backwards": self.backwards, "description": self.description}
        return (self.__class__.__name__, [], kwargs)

    def state_forwards(self, app_label, state):
        pass  # nothing Django models

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, self.forwards)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, self.backwards)

    def _run(self, schema_editor, statements):
        for statement in statements.get(schema_editor.connection.vendor, ()):
            # No parameters: the SQL is executed as written, "%" and all.
            schema_editor.execute(statement, params=None)

    def describe(self):
        return self.description
