"""Fixtures shared by the test files: the corpora and the roles of tests/factories.py, and clients acting as them."""

import shutil
import tempfile

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.views import APIView

from excerpts.api.pagination import CompiledPages
from excerpts.research import caching
from tests import factories


def pytest_configure():
    # The live server's worker threads would otherwise keep PostgreSQL connections open for a minute,
    # and the test database could not be dropped at the end of the run.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The suite runs with production's settings (DEBUG off), except two things a test run has not: HTTPS (the
    # test client and the live server speak plain HTTP, so no redirect to https://) and collectstatic's manifest
    # (static files are found by the finders). tests/test_settings.py serves production's own in a subprocess.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The run's cache (rate-limit counters, login failures, cached facets) is a directory of its own, shared with
    # the servers a test starts and removed at the end: nothing from an earlier run, or from a REDIS_URL in the
    # environment, is seen.
    settings.CACHES = {
        "default": {
            "BACKEND": "project.caches.LockingFileBasedCache",
            "LOCATION": tempfile.mkdtemp(prefix="excerpts-test-cache-"),
        }
    }


def pytest_unconfigure():
    shutil.rmtree(settings.CACHES["default"]["LOCATION"], ignore_errors=True)


@pytest.fixture
def corpus(db):
    return factories.corpus()


@pytest.fixture
def facet_corpus(db):
    return factories.facet_corpus()


@pytest.fixture
def curator(db):
    return factories.curator()


@pytest.fixture
def superuser(db):
    return factories.admin()


@pytest.fixture
def users(curator, superuser):
    """Each role by name: anonymous (None), a reader without permissions, a curator and an admin."""
    return {"anonymous": None, "reader": factories.reader(), "curator": curator, "admin": superuser}


@pytest.fixture
def client_as(db):
    """client_as(None) is anonymous; client_as(user) is authenticated as that user."""

    return factories.api_client


@pytest.fixture
def curator_client(client, curator):
    """Django's test client, logged in as the curator (for the admin)."""
    client.force_login(curator)
    return client


@pytest.fixture(autouse=True)
def empty_cache():
    """
    Each test starts with an empty cache: no rate-limit counts or login failures of earlier tests, and no entries
    left by rolled-back writes under a data version that the next test's data reaches again (the version lives in
    the rolled-back transaction too). The same goes for what the process keeps per data version: the objects slugs
    named, the longest date span, filtered querysets, the statements compiled for their pages, the excerpts'
    representations and the answers kept in the process.
    """
    cache.clear()
    caching.ProcessMemo.clear_every()
    CompiledPages.statements.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests make many users; a deliberately slow hasher would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def dumps_directory(settings, tmp_path):
    """
    Bulk dumps go to the test's own directory, and no request starts a build process: that process would read the
    database the environment names, not the test database.
    """
    settings.EXCERPTS_DUMPS_DIR = tmp_path / "dumps"
    settings.EXCERPTS_DUMPS_AUTO_REBUILD = False
    return settings.EXCERPTS_DUMPS_DIR


@pytest.fixture
def drf_runs(monkeypatch):
    """
    The paths of the requests DRF's view ran for (its initial(): authentication, throttles, the ETag); a
    request answered before DRF (response_cache.py, plain_reads.py) is not among them.
    """
    paths = []
    original = APIView.initial

    def initial(self, request, *args, **kwargs):
        paths.append(request.path)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", initial)
    return paths
