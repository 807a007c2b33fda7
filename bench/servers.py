"""
The environment the benchmarks serve with: production's settings over plain HTTP on loopback, as gunicorn runs
behind a TLS-terminating proxy (DEBUG off, a random secret key for the run, no redirect to HTTPS), and the rate
limits a measurement of the server itself lifts.
"""

import secrets


def loopback_production():
    """DJANGO_* variables for a server with production's settings answering plain HTTP on 127.0.0.1."""
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }


# Many requests a second from one address: a measurement of the server, not of its rate limits.
WITHOUT_RATE_LIMITS = {
    "DJANGO_RATE_LIMIT_ANON": "off",
    "DJANGO_RATE_LIMIT_HEAVY": "off",
    "DJANGO_RATE_LIMIT_USER": "off",
}
