"""The client's address and scheme: the socket's, or what trusted proxies say they were.

``X-Forwarded-For`` is a list any client can start with lies; only the entries appended
by proxies the operator trusts (``ORCHARD_TRUSTED_PROXIES``) mean anything. Walking it
from the right, each hop that is a trusted proxy vouches for the one before it; the
first hop that is not trusted is the client. With no trusted proxies (the default) the
header is ignored. ``X-Forwarded-Proto`` is believed likewise, from a trusted peer only.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from flask import Request, current_app

Networks = Sequence[IPv4Network | IPv6Network]
TRUSTED_PROXIES = "orchard.trusted_proxies"  # the app's networks (ORCHARD_TRUSTED_PROXIES)


def trusted_proxies() -> Networks:
    return current_app.extensions.get(TRUSTED_PROXIES, ())


def client_address(req: Request, trusted: Networks) -> str:
    peer = req.remote_addr or "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    listed = ",".join(req.headers.getlist("X-Forwarded-For")).split(",")
    client = peer
    for hop in reversed([hop.strip() for hop in listed if hop.strip()]):
        client = hop  # vouched for by the trusted hop to its right
        if not _is_trusted(hop, trusted):
            break
    return _canonical(client)


def client_scheme(req: Request, trusted: Networks) -> str:
    """``http`` or ``https`` as the client used it: a trusted proxy's
    ``X-Forwarded-Proto`` (its last entry), else the request's own scheme."""
    forwarded = req.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    if forwarded in ("http", "https") and _is_trusted(req.remote_addr or "", trusted):
        return forwarded
    return req.scheme


def _canonical(hop: str) -> str:
    try:
        return str(ip_address(hop))
    except ValueError:
        return hop[:64]  # not an address; bounded, as it becomes a key and a log field


def _is_trusted(hop: str, trusted: Networks) -> bool:
    try:
        address = ip_address(hop)
    except ValueError:
        return False  # not an address (a name, "unknown"): not a proxy we know
    return any(address in network for network in trusted)
