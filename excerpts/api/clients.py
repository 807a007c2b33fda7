"""
Which address a request comes from, for rate limits and admin login throttling.

The peer's address (``REMOTE_ADDR``) is the client's unless the peer is one of ``settings.TRUSTED_PROXIES``.
Behind such a proxy, ``X-Forwarded-For`` is read from the right: each proxy appends the address it received the
request from, so the right-most address that is not one of our proxies is the first one that no proxy of ours
vouches for, the client. Anything to its left was written by the client and may be forged.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def trusted_networks(proxies):
    """The configured proxies as networks (a single address is a network of one)."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def parse_address(text):
    """An IP address from a header item (``1.2.3.4``, ``2001:db8::1``, ``[2001:db8::1]``), or None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket counts as the IPv4 address it is.
    return getattr(address, "ipv4_mapped", None) or address


def client_ip(request):
    """The client's IP address as text: REMOTE_ADDR, or behind trusted proxies the address they report."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    peer = parse_address(remote)
    if peer is None or not networks:
        return remote

    def trusted(address):
        return any(address in network for network in networks)

    if not trusted(peer):
        return str(peer)
    client = peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for item in reversed(forwarded.split(",")):
        address = parse_address(item)
        if address is None:
            # A trusted proxy writes addresses; anything else to the left of it is the client's word, not evidence.
            break
        client = address
        if not trusted(address):
            break
    return str(client)
