"""
Datasette as an ASGI application for gunicorn, for `manage.py benchmark --throughput`. Imported only by the
gunicorn of .bench/datasette-venv (bench/requirements-datasette.txt), never by the project, which does not
install Datasette. The benchmark passes the database file, metadata and settings in the environment.
"""

import json
import os

from datasette.app import Datasette

application = Datasette(
    immutables=[os.environ["BENCH_DATASETTE_DATABASE"]],
    metadata=json.loads(os.environ["BENCH_DATASETTE_METADATA"]),
    settings=json.loads(os.environ["BENCH_DATASETTE_SETTINGS"]),
).app()
