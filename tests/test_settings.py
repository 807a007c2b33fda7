"""Settings come from the environment; production refuses to start without a secret key."""

import os
import subprocess
import sys
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


def run_python(code, env):
    """Run code in a fresh interpreter whose only settings environment is ``env``."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_off_without_a_secret_key_refuses_to_start_with_a_clear_message():
    result = run_python("import django; django.setup()", {"DJANGO_DEBUG": "false"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_debug_value_that_is_not_a_boolean_is_refused():
    result = run_python("import django; django.setup()", {"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_with_no_environment_at_all_the_project_runs_on_sqlite_in_debug():
    code = "from django.conf import settings; print(settings.DEBUG, settings.DATABASES['default']['ENGINE'])"
    result = run_python(code, {})
    assert result.stdout.split() == ["True", "excerpts.db.backends.sqlite3"], result.stderr


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


def test_production_defaults_to_https_only_cookies_redirects_and_hsts():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "example.org"}
    assert run_python(code, production).stdout.split() == ["True", "True", "True", "3600"]
    assert run_python(code, {}).stdout.split() == ["False", "False", "False", "0"]
