"""
Migrations load no HTTP code: importing them after Django's set-up brings in no DRF, django-filter,
drf-spectacular, ``excerpts.api`` or ``excerpts.research`` module.

``lint-imports`` (pyproject.toml) checks the same layering statically; this runs the imports for real, in a
fresh interpreter, so it sees what the migrations pull in through every module they load.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted(f"excerpts.migrations.{path.stem}" for path in (ROOT / "excerpts/migrations").glob("[0-9]*.py"))
HTTP_PACKAGES = ("rest_framework", "django_filters", "drf_spectacular", "excerpts.api", "excerpts.research")

# Prints {module: [modules its import added to sys.modules]} for each module named in argv, in order.
PROBE = """
import importlib, json, sys
import django

django.setup()
added = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    added[name] = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""


def newly_imported(modules):
    """What importing each of ``modules`` in turn adds to ``sys.modules``, in a fresh, set-up Django."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *modules], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def http_modules(names):
    return [name for name in names if any(name == p or name.startswith(f"{p}.") for p in HTTP_PACKAGES)]


def test_importing_every_migration_loads_no_drf_api_or_research_module():
    added = newly_imported(MIGRATIONS)

    assert sorted(added) == MIGRATIONS
    assert {migration: http_modules(names) for migration, names in added.items() if http_modules(names)} == {}


def test_the_probe_names_the_drf_modules_an_api_module_brings_in():
    # The same probe on a module that does load DRF: the check above would fail for a migration that did so.
    added = newly_imported(["excerpts.api.pagination"])["excerpts.api.pagination"]

    assert "excerpts.api.pagination" in http_modules(added)
    assert "rest_framework.pagination" in http_modules(added)
