"""A database router for the models that only read what the database keeps (unmanaged models)."""

from typing import Any


class UnmanagedModelsRouter:
    """
    Keep unmanaged models (``SearchEntry``, a window on SQLite's FTS5 index) out of migrations, ``dumpdata``
    and test-database serialization. Django's own ``can_migrate`` already says so, but ``dumpdata`` and
    ``serialized_rollback`` ask the routers: without this they read the index as if it were data, and on
    PostgreSQL, which has no such table, fail.
    """

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        model = hints.get("model")
        if model is not None and not model._meta.managed:
            return False
        return None
