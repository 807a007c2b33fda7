"""What identifies a read request's answer, for the results cached per data version (research/caching.py)."""

from .permissions import is_curator


def request_parts(request, ignore=()):
    """The request's path, whether a curator asks, and its query parameters (less those in ``ignore``)."""
    params = sorted((name, sorted(values)) for name, values in request.query_params.lists() if name not in ignore)
    return (request.path, is_curator(request.user), params)
