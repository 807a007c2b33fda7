"""
Settings for the excerpts API, driven by environment variables.

With no environment at all the project runs on SQLite with DEBUG off, answering on loopback names only;
development asks for DJANGO_DEBUG=true. Production sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL
(PostgreSQL).
"""

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path

import csp.constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project import secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    """Read a boolean environment variable; refuse values that are not clearly true or false."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


# Hardening: DEBUG only when asked for, no secret key in the code, HTTPS-only and HSTS in production.
# DEBUG is off unless DJANGO_DEBUG says otherwise (the README's run command asks for it).
DEBUG = env_bool("DJANGO_DEBUG", False)

# DJANGO_SECRET_KEY, or else a random key made once and kept, readable by its owner only, in DJANGO_SECRET_KEY_FILE
# (project/secret_key.py says why a file: every process of the installation must sign with the same key).
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "") or secret_key.read_or_create(
    Path(os.environ.get("DJANGO_SECRET_KEY_FILE", BASE_DIR / ".secret_key"))
)

# Loopback names when none are configured: a local server answers, nothing else does (and in development the
# test client's "testserver", for scripts that use it outside the test runner).
ALLOWED_HOSTS = [host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host.strip()]
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", *(["testserver"] if DEBUG else [])]

# HTTPS only in production. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER=true. HSTS covers
# subdomains too; preloading (DJANGO_SECURE_HSTS_PRELOAD=true) asks browsers to hard-code HTTPS for the whole
# domain, a commitment only its owner can make (at hstspreload.org), so check --deploy's reminder of it is
# silenced rather than the commitment made for every deployment.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else "3600"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes: /healthz and /readyz answer over plain HTTP too, not with a redirect, since a load balancer probes
# the server itself, behind the TLS it terminates (excerpts/api/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "simple_history",
    "import_export",
    "corsheaders",
    "axes",
    "excerpts",
    # Development tools: seed_synthetic, benchmark, benchmark_import (they write no tables of their own).
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below; the admin's in excerpts/csp.py).
    "excerpts.csp.CSPMiddleware",
    # Gzips API bodies (JSON, problems, exports, citations, the schema) for clients that accept it; never HTML
    # (BREACH) nor files already compressed. Early in the list, so it sees every other middleware's response.
    "excerpts.api.compression.APIGZipMiddleware",
    # CORS headers on every /api/ answer, preflights answered before anything else runs (excerpts/api/cors.py).
    "excerpts.api.cors.ApiCorsMiddleware",
    # RateLimit-* headers on every answer a throttle counted, 429s included (excerpts/api/throttling.py).
    "excerpts.api.throttling.RateLimitHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A public read (GET/HEAD without credentials or a recent write of the caller's) reads a replica, when there are
    # any (DATABASE_REPLICA_URLS). Before every middleware that may read the database.
    "excerpts.api.replicas.ReplicaReadsMiddleware",
    # Each statement of a GET or HEAD outside the admin runs under limits.PUBLIC_STATEMENT_TIMEOUT_MS; one past it
    # is cancelled (a 503 query-timeout problem). Outside every middleware that may read the database.
    "excerpts.api.statement_budget.StatementBudgetMiddleware",
    # An anonymous read made before is answered here from the answers kept per data version, before the session,
    # authentication and DRF run (excerpts/api/response_cache.py). Inside the two above: it reads the version.
    "excerpts.api.response_cache.RepeatedReadsMiddleware",
    # A plain anonymous read of one excerpt (no query, credentials, cookie or condition; JSON) is answered here as
    # DRF would answer it, without DRF (excerpts/api/plain_reads.py); inside the one above, which keeps its answer.
    "excerpts.api.plain_reads.PlainExcerptReadsMiddleware",
    # Django's session, authentication and messages middleware, which let a read of the API without a cookie
    # through without building a session it does not have (excerpts/api/sessionless.py).
    "excerpts.api.sessionless.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "excerpts.api.sessionless.AuthenticationMiddleware",
    "excerpts.api.sessionless.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the request's user on every history entry written while it is served (admin and API).
    "simple_history.middleware.HistoryRequestMiddleware",
    # A database failure (the database down, a lock held past the wait, a statement past its budget, a read-only
    # database) is a 503 with Retry-After, not a 500: the admin's views here; DRF's exception handler for the API.
    "excerpts.api.problems.DatabaseFailureMiddleware",
    # Admin login throttling: answers a locked-out login (django-axes wants it last).
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp) on every response: scripts, styles, fonts and connections to this site only,
# images from it or inline data, no plugins, no <base>, never framed, forms posted here only. The documentation
# pages add what their viewers need (excerpts/api/docs.py). nosniff, Referrer-Policy same-origin and
# X-Frame-Options DENY are Django's defaults (SecurityMiddleware, XFrameOptionsMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "img-src": [csp.constants.SELF, "data:"],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.NONE],
        "frame-ancestors": [csp.constants.NONE],
        "form-action": [csp.constants.SELF],
    }
}

ROOT_URLCONF = "project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

# SQLite needs no configuration; DATABASE_URL (postgres://...) switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

# Django's backends, with schema changes that keep the triggers and indexes of excerpts.db (see each base.py).
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.sqlite3": "excerpts.db.backends.sqlite3",
    "django.db.backends.postgresql": "excerpts.db.backends.postgresql",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])

if DATABASES["default"]["ENGINE"] == "excerpts.db.backends.sqlite3":
    # Concurrent curators on the embedded default: WAL lets readers run beside the writer, IMMEDIATE takes
    # the write lock when a transaction begins (a deferred one that reads, then writes, fails at once with
    # "database is locked" when another writer got in between), and the timeout waits for the lock.
    # (The backend turns WAL on when it can: a read-only file still opens, see excerpts/db/backends/sqlite3.)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA synchronous=NORMAL;",
    }
    # A read-only copy (a read-only mount, a published snapshot): DATABASE_READ_ONLY=true opens the file immutable,
    # which reads it without its -wal and -shm files or any lock. Nothing may write to it while it is served;
    # the API's writes are 503 database-read-only problems.
    if env_bool("DATABASE_READ_ONLY", False):
        DATABASES["default"]["NAME"] = f"file:{DATABASES['default']['NAME']}?immutable=1"
elif DATABASES["default"]["ENGINE"] == "excerpts.db.backends.postgresql":
    # A lock another transaction holds is waited for as long as SQLite's busy timeout, not forever: past it a write
    # is a 503 database-busy problem, and an import or a migration gives up with an error instead of queueing
    # every other client behind it.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c lock_timeout=20s".strip()

# Read replicas: DATABASE_REPLICA_URLS (comma-separated database URLs, streaming replicas of DATABASE_URL) adds the
# read-only aliases "replica_0", "replica_1", ... with the primary's engine and options. Public reads go to one of
# them, writes, curators' requests and a caller's reads just after its own write to the primary (ReplicaRouter,
# excerpts/api/replicas.py). Tests read the test database through them (MIRROR); tests/test_replicas.py starts a real
# replica.
replica_urls = [url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()]
for index, url in enumerate(replica_urls):
    replica = dj_database_url.parse(url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True)
    DATABASES[f"replica_{index}"] = {
        **replica,
        "ENGINE": DATABASES["default"]["ENGINE"],
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), **replica.get("OPTIONS", {})},
        "TEST": {"MIRROR": "default"},
    }
# Seconds a caller's reads stay on the primary after its own write (a cookie the write's answer sets).
REPLICA_READ_YOUR_WRITES_SECONDS = int(os.environ.get("DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS", "10"))

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Unmanaged models (the search index's) are neither migrated nor dumped; reads may go to replicas, writes never
# (excerpts/db/routers.py).
DATABASE_ROUTERS = ["excerpts.db.routers.UnmanagedModelsRouter", "excerpts.db.routers.ReplicaRouter"]

# Database sessions stored under a digest of their key (excerpts/api/authentication.py says why).
SESSION_ENGINE = "excerpts.api.authentication"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Without collectstatic (development, tests) whitenoise finds files through the finders.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["excerpts.api.renderers.FastJSONRenderer"],
    # JSON in UTF-8 only, uncompressed, bounded in size and depth (limits.MAX_BODY_BYTES, MAX_JSON_DEPTH).
    "DEFAULT_PARSER_CLASSES": ["excerpts.api.parsers.StrictJSONParser"],
    # Token first, so an anonymous write is a 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "excerpts.api.authentication.StrictTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["excerpts.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "excerpts.api.pagination.KeysetPagination",
    "EXCEPTION_HANDLER": "excerpts.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "excerpts.api.openapi.ExcerptsAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# API tokens (django-rest-knox): stored as digests, sent as `Authorization: Token <key>`, without an expiry unless
# `create_curator --expires-in DAYS` gives one, never extended by use. Revoked with `manage.py revoke_tokens` or in
# the admin.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": None,
    "AUTO_REFRESH": False,
}

# --- The shared cache, rate limits, client IP, CORS and admin login throttling (README: "Rate limits and CORS") ---


def env_list(name):
    """A comma-separated environment variable as a list of its non-empty items."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.")
    return int(value)


def env_rate(name, default):
    """A rate limit such as "120/minute" ("N/second", "N/minute", "N/hour", "N/day"); "off" lifts the limit."""
    value = os.environ.get(name, "").strip() or default
    if value.lower() == "off":
        return None
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f'{name} must be a rate such as "120/minute" or "off", not {value!r}.')
    return value


# Rate-limit counters, admin login failures and the results cached per data version (excerpts/research/caching.py)
# live in the default cache, which every worker and every server must share: Redis at REDIS_URL
# (redis://host:6379/0) when it is set, otherwise files under DJANGO_CACHE_DIR, shared by the processes of one
# machine. DJANGO_CACHE_KEY_PREFIX keeps deployments that share one Redis database apart.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_KEY_PREFIX = os.environ.get("DJANGO_CACHE_KEY_PREFIX", "excerpts")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, with a rate-limit counter raised in one round trip (project/caches.py).
            "BACKEND": "project.caches.CountingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # A Redis that stops answering delays a request by a second, then the request goes on without it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            # Django's file cache, with counters that concurrent processes cannot lose (project/caches.py).
            "BACKEND": "project.caches.LockingFileBasedCache",
            "LOCATION": os.environ.get("DJANGO_CACHE_DIR", str(BASE_DIR / ".cache")),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # One file per entry; past this many, a third are dropped (each write lists the directory, so not more).
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# API rate limits (DRF throttles, excerpts/api/throttling.py), in fixed windows counted in the shared cache:
# anonymous clients per IP address; of those requests, the heavy ones (a CSV or JSON Lines export, a bibliography,
# filtered facets) also count against a stricter limit; authenticated users (curators, by token or session) per
# user, generously. Each answer says where the client stands in RateLimit-Limit, -Remaining and -Reset headers.
REST_FRAMEWORK |= {
    "DEFAULT_THROTTLE_CLASSES": [
        "excerpts.api.throttling.AnonymousRateThrottle",
        "excerpts.api.throttling.HeavyRequestThrottle",
        "excerpts.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("DJANGO_RATE_LIMIT_ANON", "120/minute"),
        "heavy": env_rate("DJANGO_RATE_LIMIT_HEAVY", "20/minute"),
        "user": env_rate("DJANGO_RATE_LIMIT_USER", "600/minute"),
    },
}

# The client's address is the peer's (REMOTE_ADDR) unless the peer is one of these proxies (IPs or CIDR networks,
# comma-separated): then it is the right-most address of X-Forwarded-For that is not one of them
# (excerpts/api/clients.py). With none configured X-Forwarded-For is ignored, so a client cannot pick its address.
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES")
for proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {proxy!r} is not an IP address or network.") from None

# CORS on /api/ only (django-cors-headers, excerpts/api/cors.py): any origin may read anonymously
# (Access-Control-Allow-Origin: *, no credentials); only the origins in DJANGO_CORS_CREDENTIALED_ORIGINS
# (comma-separated, such as https://app.example.org) may send cookies and read the answer.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_CREDENTIALED_ORIGINS = env_list("DJANGO_CORS_CREDENTIALED_ORIGINS")
for origin in CORS_CREDENTIALED_ORIGINS:
    if not re.fullmatch(r"https?://[^/?#\s]+", origin):
        raise ImproperlyConfigured(
            f"DJANGO_CORS_CREDENTIALED_ORIGINS: {origin!r} is not an origin such as https://app.example.org."
        )
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "if-none-match"]
CORS_EXPOSE_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "ETag",
    "Content-Disposition",
    "Link",
]

# Admin login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords from one IP address, or for one
# username, every login from it is refused (429) for the cool-off, before any password is hashed. Failures are
# counted in the shared cache, so a login flood writes nothing to the database.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Axes' cache handler, going on without the lockout while the cache is down (excerpts/logins.py).
AXES_HANDLER = "excerpts.logins.FailOpenCacheHandler"
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("DJANGO_LOGIN_COOLOFF_SECONDS", 900))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "excerpts.api.clients.client_ip"
AXES_LOCKOUT_CALLABLE = "excerpts.logins.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The cache handler keeps no attempts in the database, so the admin pages that would list them stay out.
AXES_ENABLE_ADMIN = False

SPECTACULAR_SETTINGS = {
    "TITLE": "Historical Excerpts API",
    "DESCRIPTION": (
        "Primary-source historical excerpts (speeches, editorials, letters, declarations, quotations) with "
        "their speaker, EDTF date, source, page, topics and occasion. Errors are RFC 9457 problem details "
        "(`application/problem+json`). An empty value of any query parameter is a 400, like an unknown parameter: "
        "leave a parameter out to not use it. So is a parameter that takes one value given twice (a list parameter, "
        "such as speaker, takes several). A GET or HEAD of a path without its trailing slash is redirected "
        "(301) to the path with it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's validator badge would send the schema's address to validator.swagger.io: the docs stay local.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Every query parameter says (and its schema enforces) that an empty value is a 400, as the API answers.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "excerpts.api.openapi.refuse_empty_query_values",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SpeakerKindEnum": "excerpts.models.Speaker.Kind",
        "SourceKindEnum": "excerpts.models.Source.Kind",
        "ExcerptKindEnum": "excerpts.models.Excerpt.Kind",
        "AttributionEnum": "excerpts.models.Excerpt.Attribution",
        "StatusEnum": "excerpts.models.Excerpt.Status",
    },
    "TAGS": [
        {"name": "excerpts", "description": "The quoted words themselves, with their metadata."},
        {"name": "speakers", "description": "People and bodies (editorial boards, party committees) quoted."},
        {"name": "sources", "description": "Citable works where the excerpts are printed."},
        {"name": "topics", "description": "A shallow subject taxonomy."},
        {"name": "events", "description": "Occasions the words belong to: congresses, visits, conferences."},
        {"name": "dumps", "description": "The whole public corpus as gzipped CSV and JSON Lines files, versioned."},
    ],
}

# HTTP caching and compression of API reads (excerpts/api/conditional.py, excerpts/api/compression.py).
# Seconds browsers and shared caches may keep an anonymous read before revalidating it with its ETag (a 304 costs
# one small query): anonymous readers see a write at most this late. Curators' reads are never kept unchecked.
API_CACHE_MAX_AGE = 60
# Successful reads kept whole in the default cache per data version and sent again without running their view
# (excerpts/api/response_cache.py), up to this many bytes each. DJANGO_RESPONSE_CACHE=false turns it off.
API_RESPONSE_CACHE = env_bool("DJANGO_RESPONSE_CACHE", True)
API_RESPONSE_CACHE_MAX_BYTES = 512 * 1024
# Of those, the ones each process has lately kept or read, up to this many bytes of bodies, are looked up in its own
# memory first: the same keys, so the same answers, without the shared cache's file or round trip.
API_RESPONSE_CACHE_PROCESS_BYTES = 8 * 1024 * 1024
# A plain anonymous read of one excerpt answered without DRF, as DRF would answer it (excerpts/api/plain_reads.py).
# DJANGO_PLAIN_READS=false sends it through DRF (a benchmark of DRF's path does).
API_PLAIN_READS = env_bool("DJANGO_PLAIN_READS", True)
# Excerpts' representations each process keeps per data version for pages and single reads, at most this many
# (excerpts/api/representations.py FRAGMENTS): about 4 KB each, so some 18 MB a worker. 0 keeps none (a benchmark of
# representations made anew does).
API_FRAGMENTS = env_int("DJANGO_FRAGMENTS", 4096)
# API bodies shorter than this many bytes go uncompressed: gzip saves little on them (Django's own floor is 200).
API_GZIP_MIN_LENGTH = 512

# Tuning knobs (page sizes, count and scan bounds, search windows, cache lifetime), each documented in
# excerpts/research/limits.py. Name a knob here to override its default, e.g. {"COUNT_LIMIT": 50_000}.
EXCERPTS_LIMITS = {}

# Bulk dumps of the public corpus (excerpts/api/dumps.py, manage.py build_dumps): where the gzipped CSV and JSON
# Lines files and their manifest are kept, the address their excerpt links start with (its host must be in
# ALLOWED_HOSTS), and whether the API starts a rebuild in the background when it finds the dump older than the data.
EXCERPTS_DUMPS_DIR = Path(os.environ.get("EXCERPTS_DUMPS_DIR", BASE_DIR / "dumps"))
EXCERPTS_DUMPS_BASE_URL = os.environ.get("EXCERPTS_DUMPS_BASE_URL", "http://127.0.0.1:8000")
EXCERPTS_DUMPS_AUTO_REBUILD = env_bool("EXCERPTS_DUMPS_AUTO_REBUILD", True)

# Imports are all-or-nothing: one bad row and the whole transaction is rolled back.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# CSV formula neutralisation: the admin's CSV format (excerpts.resources.SpreadsheetSafeCSV) quotes a cell that
# starts with =, +, -, @, tab or CR, as the API's CSV does, and its import takes the quote off again. The library's
# own escaping stays off: it only deletes a leading "=" (the text is lost, and +, -, @ pass), and it turns every cell
# of every format into text, the JSON export's numbers included.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
