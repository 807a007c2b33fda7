"""
No lost writes on the embedded default: several processes write to one SQLite file at once.

Each writer runs transactions that read, then write, the pattern that fails at once with "database
is locked" under SQLite's default deferred transactions when another writer commits in between. The
settings' WAL mode, immediate transactions and busy timeout make every writer wait its turn instead.
The test runs on its own SQLite file whatever database the rest of the suite uses.
"""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 6
ROWS_PER_WRITER = 25

WRITER = """
import os, sys, time
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from django.db import transaction
from excerpts.models import Excerpt, Source, Speaker

writer, rows, start = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
for row in range(rows):
    with transaction.atomic():
        speaker = Speaker.objects.get(slug="mao-zedong")
        Excerpt.objects.create(
            text=f"writer {writer} row {row}", kind="speech", speaker=speaker, date="1958",
            source=Source.objects.get(slug="peoples-daily"), language="zh",
        )
"""

SETUP = """
from excerpts.models import Source, Speaker
Speaker.objects.create(slug="mao-zedong", name="Mao Zedong")
Source.objects.create(slug="peoples-daily", title="People's Daily", kind="newspaper")
"""


def test_concurrent_writers_on_a_sqlite_file_lose_no_rows(tmp_path):
    database = tmp_path / "concurrent.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "shell", "-v0", "-c", SETUP], env=env, cwd=ROOT, check=True)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)

    start = time.time() + 3  # every writer is set up and waiting before the first one writes
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(n), str(ROWS_PER_WRITER), str(start)],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    failures = [writer.communicate(timeout=120)[1] for writer in writers if writer.wait(timeout=120) != 0]

    assert failures == []
    with sqlite3.connect(database) as connection:
        texts = {row[0] for row in connection.execute("SELECT text FROM excerpts_excerpt")}
        history = connection.execute("SELECT count(*) FROM excerpts_historicalexcerpt").fetchone()[0]
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert texts == {f"writer {w} row {r}" for w in range(WRITERS) for r in range(ROWS_PER_WRITER)}
    assert history == WRITERS * ROWS_PER_WRITER
    assert journal == "wal"
