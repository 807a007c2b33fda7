"""
On PostgreSQL search cuts words with [[:alnum:]], which the database's locale defines: a database made under the C
locale counts no Chinese or Cyrillic letter as a letter. Django's checks say so (excerpts.E002) rather than let
search silently find nothing in those scripts.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from excerpts.db import checks

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_the_test_database_counts_chinese_and_cyrillic_letters_as_letters():
    assert checks.check_postgresql_letters() == []


def test_a_postgresql_database_made_under_the_c_locale_fails_the_check_with_a_hint():
    if connection.vendor != "postgresql":
        pytest.skip("the locale check is PostgreSQL's; SQLite's FTS5 classifies letters itself")
    settings = connection.settings_dict
    name = f"excerpts_c_locale_{uuid.uuid4().hex[:8]}"
    server = f"host={settings['HOST']} port={settings['PORT'] or 5432} user={settings['USER']} dbname=postgres"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} LOCALE 'C' TEMPLATE template0")
    try:
        url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"
        done = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0
        assert "(excerpts.E002)" in done.stderr and "LC_CTYPE C)" in done.stderr
        assert "createdb --locale=C.UTF-8" in done.stderr
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
