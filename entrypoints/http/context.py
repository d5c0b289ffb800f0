"""Access to the wired services from inside a request."""

from __future__ import annotations

from flask import current_app, request

from domain.ports import UnitOfWork
from entrypoints.bootstrap import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services() -> Services:
    return current_app.extensions["orchard"]


def read_uow() -> UnitOfWork:
    """A read-only unit of work, whatever the method: for authentication and the
    permission checks made before an upload's body is read. On SQLite a read-write one
    takes the writers' lock (``flock`` and ``BEGIN IMMEDIATE``) even to read, so a POST
    that authenticated and pre-checked with ``request_uow()`` took it three times."""
    return services().uow(read_only=True)


def request_uow() -> UnitOfWork:
    """The unit of work for the request's own use case: read-only for safe methods.

    A read-only unit of work runs in autocommit: on SQLite in WAL mode it neither waits
    for the write lock nor holds up writers, on PostgreSQL it spends no round trip on
    BEGIN and ROLLBACK.
    """
    return services().uow(read_only=request.method in SAFE_METHODS)
