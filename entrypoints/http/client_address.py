"""The client's address: the socket's peer, or what trusted proxies say it was.

``X-Forwarded-For`` is a list any client can start with lies; only the entries appended
by proxies the operator trusts (``ORCHARD_TRUSTED_PROXIES``) mean anything. Walking it
from the right, each hop that is a trusted proxy vouches for the one before it; the
first hop that is not trusted is the client. With no trusted proxies (the default) the
header is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from flask import Request

Networks = Sequence[IPv4Network | IPv6Network]


def client_address(req: Request, trusted: Networks) -> str:
    peer = req.remote_addr or "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = [hop.strip() for hop in ",".join(req.headers.getlist("X-Forwarded-For")).split(",")]
    hop = peer
    for hop in reversed([hop for hop in forwarded if hop]):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return hop[:64]


def _is_trusted(hop: str, trusted: Networks) -> bool:
    try:
        address = ip_address(hop)
    except ValueError:
        return False  # not an address (a name, "unknown"): not a proxy we know
    return any(address in network for network in trusted)
