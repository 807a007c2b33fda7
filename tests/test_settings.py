"""Settings come from the environment: DEBUG only when asked for, a secret key never fixed in the code, HTTPS."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVE_WITH_DEBUG_OFF = """
import django
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
from django.templatetags.static import static
from django.urls import reverse
client = Client()
login = client.get(reverse("admin:login"))
assert login.status_code == 200, login.status_code
css = static("admin/css/base.css")
assert css != "/static/admin/css/base.css", "manifest storage should fingerprint the name"
assert client.get(css).status_code == 200
docs = client.get(reverse("swagger-ui")).content.decode()
bundle = static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
assert bundle in docs
assert client.get(bundle).status_code == 200
print("static ok")
"""


def run_environment(env):
    """The process environment, less every setting, plus ``env``."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "DATABASE_REPLICA_URLS", "REDIS_URL"}
    }
    return {**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env}


def run_python(code, env):
    """Run code in a fresh interpreter whose only settings environment is ``env``."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=run_environment(env), capture_output=True, text=True, timeout=120
    )


PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def test_without_a_secret_key_a_random_one_is_made_once_kept_private_and_used_by_every_later_start(tmp_path):
    key_file = tmp_path / "secret_key"
    first = run_python(PRINT_KEY, {"DJANGO_SECRET_KEY_FILE": str(key_file)})
    again = run_python(PRINT_KEY, {"DJANGO_SECRET_KEY_FILE": str(key_file)})
    elsewhere = run_python(PRINT_KEY, {"DJANGO_SECRET_KEY_FILE": str(tmp_path / "another")})

    key = first.stdout.strip()
    assert len(key) >= 50, first.stderr
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert again.stdout.strip() == key
    assert elsewhere.stdout.strip() not in {key, ""}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["another", "secret_key"]  # no temporary file left


def test_processes_starting_together_without_a_key_all_sign_with_the_same_one(tmp_path):
    key_file = tmp_path / "secret_key"
    code = f"import time; time.sleep({time.time() + 2} - time.time()); {PRINT_KEY}"  # all reach the file at once
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_SECRET_KEY_FILE": str(key_file),
    }
    starts = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {start.communicate(timeout=120)[0].strip() for start in starts}
    assert keys == {key_file.read_text().strip()}


def test_a_secret_key_in_the_environment_is_used_and_no_key_file_is_made(tmp_path):
    key = "k" * 30 + "-environment-" + "y" * 30
    result = run_python(PRINT_KEY, {"DJANGO_SECRET_KEY": key, "DJANGO_SECRET_KEY_FILE": str(tmp_path / "unused")})
    assert result.stdout.strip() == key
    assert not (tmp_path / "unused").exists()


def test_a_key_file_that_cannot_be_made_stops_start_up_with_a_message_naming_the_fix(tmp_path):
    result = run_python(PRINT_KEY, {"DJANGO_SECRET_KEY_FILE": str(tmp_path / "missing-directory" / "secret_key")})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Set DJANGO_SECRET_KEY, or DJANGO_SECRET_KEY_FILE" in result.stderr


def test_a_key_file_holding_a_short_key_is_refused(tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    result = run_python(PRINT_KEY, {"DJANGO_SECRET_KEY_FILE": str(tmp_path / "secret_key")})
    assert result.returncode != 0
    assert "is shorter than 50 characters" in result.stderr


def test_a_debug_value_that_is_not_a_boolean_is_refused():
    result = run_python("import django; django.setup()", {"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_with_no_environment_at_all_the_project_runs_on_sqlite_with_debug_off_answering_loopback_names():
    code = "from django.conf import settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'], *s.ALLOWED_HOSTS)"
    result = run_python(code, {})
    assert result.stdout.split() == ["False", "excerpts.db.backends.sqlite3", "localhost", "127.0.0.1", "[::1]"], (
        result.stderr
    )
    development = run_python(code, {"DJANGO_DEBUG": "true"}).stdout.split()
    assert development[:2] == ["True", "excerpts.db.backends.sqlite3"]
    assert development[-1] == "testserver"


def test_with_debug_off_the_admin_and_the_docs_still_load_their_css_and_javascript(tmp_path):
    result = run_python(
        SERVE_WITH_DEBUG_OFF,
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "test-secret-key-that-is-long-enough-for-the-test",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            # The test client speaks plain HTTP; production's redirect to HTTPS is checked separately.
            "DJANGO_SECURE_SSL_REDIRECT": "false",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "static ok" in result.stdout


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-only-" + "z" * 20,
    "DJANGO_ALLOWED_HOSTS": "api.example.org",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
}


def test_replica_urls_add_read_only_aliases_with_the_primarys_engine_and_options_mirroring_it_in_tests():
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({a: [d['ENGINE'], d['HOST'], d['PORT'], d['NAME'], d['OPTIONS'], "
        "d.get('TEST', {}).get('MIRROR')] for a, d in s.DATABASES.items()})); print(s.DATABASE_ROUTERS[-1])"
    )
    env = {
        "DATABASE_URL": "postgres://app@primary:5432/excerpts",
        "DATABASE_REPLICA_URLS": "postgres://app@replica-a:5432/excerpts, postgres://app@replica-b:6432/excerpts",
    }
    result = run_python(code, env)
    databases, router = result.stdout.splitlines() or [result.stderr, ""]
    options = {"options": "-c lock_timeout=20s"}
    assert json.loads(databases) == {
        "default": ["excerpts.db.backends.postgresql", "primary", 5432, "excerpts", options, None],
        "replica_0": ["excerpts.db.backends.postgresql", "replica-a", 5432, "excerpts", options, "default"],
        "replica_1": ["excerpts.db.backends.postgresql", "replica-b", 6432, "excerpts", options, "default"],
    }
    assert router == "excerpts.db.routers.ReplicaRouter"


def test_production_defaults_to_https_only_cookies_redirects_and_hsts_including_subdomains():
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    assert run_python(code, PRODUCTION).stdout.split() == ["True", "True", "True", "3600", "True", "False"]
    assert run_python(code, {}).stdout.split() == ["True", "True", "True", "3600", "True", "False"]
    development = run_python(code, {"DJANGO_DEBUG": "true"}).stdout.split()
    assert development == ["False", "False", "False", "0", "True", "False"]


def test_check_deploy_finds_nothing_to_warn_about_in_the_documented_production_environment(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**run_environment(PRODUCTION), "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout
