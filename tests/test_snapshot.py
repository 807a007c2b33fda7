"""
The read snapshot of exports and dump builds (excerpts/db/snapshot.py): what it reads stays as it was when it began,
and writers never wait for it.
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from excerpts.db.snapshot import ReadSnapshot, end_forgotten_snapshots
from excerpts.models import Speaker

ROOT = Path(__file__).resolve().parent.parent

READER = """
import os, subprocess, sys
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from excerpts.db.snapshot import ReadSnapshot, end_forgotten_snapshots
from excerpts.models import Speaker

with ReadSnapshot() as snapshot:
    before = Speaker.objects.count()
    # Another process writes and commits while the snapshot is open; it must not wait for the snapshot.
    writer = subprocess.run([sys.executable, sys.argv[1]], capture_output=True, text=True, timeout=120)
    during = Speaker.objects.count()
after = Speaker.objects.count()
print(before, during, after, writer.returncode, writer.stderr.strip().splitlines()[-1:] if writer.returncode else "")
"""

WRITER = """
import os
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from django.db import connection
from excerpts.models import Speaker

connection.settings_dict["OPTIONS"]["timeout"] = 2  # a writer kept waiting fails soon with "database is locked"
Speaker.objects.create(slug="written-meanwhile", name="Written Meanwhile")
"""


def test_a_snapshot_on_a_sqlite_file_reads_as_it_began_while_another_process_writes_and_commits(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'snapshot.sqlite3'}", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    (tmp_path / "reader.py").write_text(READER)
    (tmp_path / "writer.py").write_text(WRITER)

    done = subprocess.run(
        [sys.executable, str(tmp_path / "reader.py"), str(tmp_path / "writer.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0", "1", "0"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQLite snapshot is tested on a file above")
@pytest.mark.django_db(transaction=True)
def test_a_snapshot_on_postgresql_reads_as_it_began_while_another_connection_writes_and_commits():
    def write():
        try:
            Speaker.objects.create(slug="written-meanwhile", name="Written Meanwhile")
        finally:
            connections.close_all()

    with ReadSnapshot() as snapshot:
        assert snapshot.open
        before = Speaker.objects.count()
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(60)
        during = Speaker.objects.count()
    after = Speaker.objects.count()

    assert (before, during, after) == (0, 0, 1)
    assert connection.get_autocommit() and not connection.in_atomic_block


@pytest.mark.django_db
def test_inside_a_transaction_already_a_snapshot_shares_it_and_leaves_it_open():
    with ReadSnapshot() as snapshot:
        assert not snapshot.open
        Speaker.objects.count()
    assert connection.in_atomic_block


def in_database_transaction():
    """Whether the connection's database session is inside a transaction (Django may not know of it)."""
    if connection.vendor == "sqlite":
        return connection.connection.in_transaction
    return connection.connection.info.transaction_status != connection.connection.info.transaction_status.IDLE


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_its_request_forgot_to_end_is_ended_when_the_request_finishes():
    snapshot = ReadSnapshot().begin()
    Speaker.objects.count()
    assert snapshot.open and in_database_transaction()

    end_forgotten_snapshots()

    assert not snapshot.open
    assert not in_database_transaction()
    Speaker.objects.create(slug="written-after", name="Written After")  # not in a read-only transaction
    assert Speaker.objects.count() == 1
