"""
The layering holds: import-linter checks every contract of pyproject.toml (research/ imports no DRF or API
code, db/ nothing of the app, migrations only db/, models and dates, api above research above db).

`.ci/run` runs ``lint-imports`` too; this puts the same check in the README's test command.
"""

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
