"""Access to the wired services from inside a request."""

from __future__ import annotations

from flask import current_app, request

from domain.ports import UnitOfWork
from entrypoints.bootstrap import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services() -> Services:
    return current_app.extensions["orchard"]


def request_uow() -> UnitOfWork:
    """A unit of work for this request: read-only for safe methods.

    A read-only unit of work runs in autocommit: on SQLite in WAL mode it neither waits
    for the write lock nor holds up writers, on PostgreSQL it spends no round trip on
    BEGIN and ROLLBACK.
    """
    return services().uow(read_only=request.method in SAFE_METHODS)
