"""
The objects the database keeps for us (excerpts/db/): the system check sees each one missing or changed,
the repair command restores it, migrations carry today's declarations, and schema changes keep them.
"""

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from excerpts import db
from excerpts.db.checks import check_database_objects, problems
from excerpts.db.operations import InstallDatabaseObjects
from excerpts.management.commands.makedbmigration import statements_source
from excerpts.models import Excerpt
from tests import factories

MIGRATIONS = Path(__file__).resolve().parent.parent / "excerpts" / "migrations"
OBJECTS = {vendor: db.declared(vendor) for vendor in db.VENDORS}
# The suite runs on one engine at a time (CI runs it on both): its objects are the ones to drop.
VENDOR = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


def reported():
    return {(obj.label, problem) for obj, problem in problems(connection)}


def repair():
    out = StringIO()
    call_command("repair_database", stdout=out)
    return out.getvalue()


def drop(obj):
    """Drop one object as an operator's mistake or a table remake would; PostgreSQL also drops what depends on it."""
    statement = obj.drop(connection.vendor)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending foreign-key checks
            if obj.kind in ("function", "column", "table"):
                statement += " CASCADE"
        cursor.execute(statement)


@pytest.fixture
def small_corpus(db):
    corpus = factories.paper_tiger()
    factories.excerpt("Let a hundred flowers bloom.", speaker=corpus["mao"], source=corpus["works"], date="1957-02-27")
    return corpus


def search_ids(client, q):
    return [item["id"] for item in client.get(reverse("excerpt-list"), {"q": q}).json()["results"]]


def test_a_migrated_database_has_every_declared_object(small_corpus):
    assert reported() == set()
    assert check_database_objects() == []


@pytest.mark.parametrize("name", [obj.name for obj in OBJECTS[VENDOR]])
def test_the_check_names_each_dropped_object_and_repair_restores_it(name, small_corpus, client):
    (obj,) = [obj for obj in OBJECTS[VENDOR] if obj.name == name]
    drop(obj)

    found = reported()
    assert (obj.label, "missing") in found
    if obj.kind not in ("function", "column", "table"):  # nothing else depends on it
        assert found == {(obj.label, "missing")}
    errors = check_database_objects()
    assert all(isinstance(error, Error) and "manage.py repair_database" in error.hint for error in errors)
    assert f"The database's {obj.label} is missing." in [error.msg for error in errors]

    output = repair()
    assert f"Re-created the {obj.label} (it was missing)." in output
    assert reported() == set()
    # What the object is for works again: a write reaches the search index, the summary and the copies.
    Excerpt.objects.filter(text__startswith="Let a hundred").update(text="Let a hundred schools contend.")
    assert len(search_ids(client, "schools contend")) == 1
    assert client.get(reverse("excerpt-facets")).json()["count"] == 2


def test_check_fails_manage_py_check_and_names_the_repair(small_corpus):
    (trigger,) = [obj for obj in OBJECTS[connection.vendor] if obj.kind == "trigger"][:1]
    drop(trigger)
    with pytest.raises(SystemCheckError, match=f"trigger {trigger.name} on {trigger.table} is missing"):
        call_command("check")
    repair()
    call_command("check", stdout=StringIO())


def test_check_reports_an_object_replaced_by_a_different_one(small_corpus):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER excerpts_excerpt_version_insert")
            cursor.execute(
                "CREATE TRIGGER excerpts_excerpt_version_insert AFTER INSERT ON excerpts_excerpt BEGIN SELECT 1; END"
            )
            label = "trigger excerpts_excerpt_version_insert on excerpts_excerpt"
        else:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION excerpts_data_version_trigger() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RETURN NULL; END $$"
            )
            label = "function excerpts_data_version_trigger"
    assert reported() == {(label, "different from its declaration")}
    repair()
    assert reported() == set()


def test_repair_counts_and_indexes_what_was_written_while_the_triggers_were_gone(small_corpus, client):
    db.run(connection, db.uninstall_statements(connection.vendor))
    factories.excerpt(
        "The east wind prevails over the west wind.", speaker=small_corpus["mao"], source=small_corpus["works"]
    )
    repair()
    assert len(search_ids(client, "east wind")) == 1
    facets = client.get(reverse("excerpt-facets")).json()
    assert facets["count"] == 3
    assert facets["speaker"] == [{"value": "mao-zedong", "label": "Mao Zedong", "count": 3}]


def latest_install_operation():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (leaf,) = [node for node in loader.graph.leaf_nodes() if node[0] == "excerpts"]
    for node in reversed(loader.graph.forwards_plan(leaf)):
        operations = [op for op in loader.graph.nodes[node].operations if isinstance(op, InstallDatabaseObjects)]
        if operations:
            return node, operations[-1]
    raise AssertionError("no migration installs the database objects")


def test_the_latest_install_migration_carries_todays_declarations():
    # A declaration changed without a new migration fails here: run `manage.py makedbmigration NAME`.
    node, operation = latest_install_operation()
    for vendor in db.VENDORS:
        assert operation.forwards[vendor] == db.install_statements(vendor), f"{node} is behind excerpts/db/"


def test_no_migration_imports_code_that_can_change_later():
    # Field validators are referenced by path (import excerpts.dates), as Django writes them; nothing else is.
    for path in sorted(MIGRATIONS.glob("0*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("excerpts"):
                assert node.module == "excerpts.db.operations", f"{path.name} imports from {node.module}"
            if isinstance(node, ast.FunctionDef):  # a RunPython function that imports runs today's code
                imported = [a.name for inner in ast.walk(node) if isinstance(inner, ast.Import) for a in inner.names]
                assert not [name for name in imported if name.startswith("excerpts")], path.name


SCHEMA_CHANGE = [
    migrations.AddField("excerpt", "reviewed_by", models.CharField(max_length=100, null=True)),
    # On PostgreSQL context is named by the search trigger's UPDATE OF list, which blocks a change of its type.
    migrations.AlterField("excerpt", "context", models.CharField(max_length=5000, blank=True)),
    migrations.AlterField("excerpt", "locator", models.CharField(max_length=150, blank=True)),
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_ordinary_add_field_and_alter_field_on_excerpt_keep_every_object(client):
    loader = MigrationLoader(connection)
    (leaf,) = [node for node in loader.graph.leaf_nodes() if node[0] == "excerpts"]
    before = loader.project_state(leaf)
    migration = migrations.Migration("9999_schema_change", "excerpts")
    migration.operations = SCHEMA_CHANGE
    with connection.schema_editor() as editor:
        migration.apply(before.clone(), editor)
    try:
        assert reported() == set()
        made = factories.paper_tiger()["tiger"]
        assert search_ids(client, "paper tiger tse-tung") == [made.pk]
        facets = client.get(reverse("excerpt-facets")).json()
        assert facets["topic"] == [{"value": "great-leap", "label": "Great Leap Forward", "count": 1}]
        assert client.get(reverse("excerpt-list"), {"ordering": "speaker"}).json()["results"][0]["id"] == made.pk
        assert Excerpt.objects.values_list("speaker_name", flat=True).get() == "Mao Zedong"
    finally:
        with connection.schema_editor() as editor:
            migration.unapply(before.clone(), editor)
    assert reported() == set()


def test_makedbmigration_writes_the_declared_sql_back_exactly():
    # The migration it writes must run exactly the statements declared: multi-line SQL, quotes and all.
    statements = {vendor: db.install_statements(vendor) for vendor in db.VENDORS}
    assert ast.literal_eval(statements_source(statements)) == statements
