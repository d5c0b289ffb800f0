"""Checks ``orchard serve`` makes before it creates or announces anything.

A start that cannot serve must stop before the first admin is created or "listening" is
printed, with one sentence naming the setting. The listening socket is bound here and
handed to gunicorn (``--bind fd://N``), so the check is the bind itself: no other process
can take the port between the two.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from entrypoints.config import ConfigError, Settings


def check_directories(settings: Settings) -> None:
    """The data dir (and the blob dir of the filesystem store) exist or can be made,
    are directories, and take a new file."""
    check_directory("ORCHARD_DATA_DIR", settings.data_dir)
    if settings.blob_store == "filesystem":
        check_directory("ORCHARD_BLOB_DIR", str(settings.resolved_blob_dir))


def check_directory(name: str, path: str) -> None:
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(
            f"{name}={path} is a file, not a directory: name a directory "
            "(it is created if missing)."
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".orchard-write-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ConfigError(
            f"{name}={path} cannot be written to ({error.strerror}): make it writable "
            f"by the user '{_user()}', or name another directory."
        ) from None


BACKLOG = 2048


def bind_listener(settings: Settings) -> socket.socket:
    """A socket listening on the configured address, inheritable by gunicorn."""
    host, port = settings.host, settings.port
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as error:
        raise ConfigError(
            f"ORCHARD_HOST={host} is not an address Orchard can listen on "
            f"({getattr(error, 'strerror', None) or error}): use an address of this "
            "machine, such as 127.0.0.1, or 0.0.0.0 for all of them."
        ) from None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
    try:
        listener.bind(address)
        # Listening at once: with SO_REUSEADDR, Linux lets a second socket bind a port
        # nobody listens on yet, so two starts on one port would both pass the bind.
        # Connections wait in the backlog (gunicorn's default size) until workers accept.
        listener.listen(BACKLOG)
    except OSError as error:
        listener.close()
        raise ConfigError(_bind_failure(host, port, error)) from None
    listener.set_inheritable(True)
    return listener


def _bind_failure(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is already in use (ORCHARD_PORT={port}): stop what "
            "listens there, or choose another ORCHARD_PORT."
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            f"ORCHARD_HOST={host} is not an address of this machine: use one of its "
            "addresses, such as 127.0.0.1, or 0.0.0.0 for all of them."
        )
    if error.errno == errno.EACCES:
        return (
            f"ORCHARD_PORT={port} needs privileges the user '{_user()}' does not have: "
            "use a port above 1023."
        )
    return (
        f"Cannot listen on {host}:{port} ({error.strerror}): check ORCHARD_HOST and ORCHARD_PORT."
    )


@contextlib.contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """A database that cannot be reached or opened is a sentence (its password hidden)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError) as error:
        shown = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        reason = " ".join(str(error.orig or error).split())
        raise ConfigError(
            f"The database ORCHARD_DATABASE_URL={shown} cannot be used ({reason}): start "
            "or create it, or correct ORCHARD_DATABASE_URL."
        ) from None


def url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
