"""PostgreSQL for the test run: a throwaway database on a real server.

Where the server comes from, first match wins:

1. ``ORCHARD_TEST_DATABASE_URL``: an admin URL of a server someone started for us (CI);
2. a testcontainers ``PostgresContainer``, when a Docker engine answers within 3 s;
3. the local server at 127.0.0.1:5432 (user ``postgres``, trust auth).

The ``postgres_url`` session fixture yields the URL of a database created for this run
under a random name and dropped at the end; ``fresh_database(admin_url)`` makes more.
When no server is reachable the fixture fails, unless ``ORCHARD_TEST_ALLOW_SKIP=1``, in
which case it skips: a PostgreSQL suite that skips silently would hide breakage.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

LOCAL_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_created: list[tuple[str, str]] = []  # (admin_url, database) to drop at session end
_run_database = f"orchard_test_{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Server:
    """A reachable server: how to administer it, and how to say where it came from."""

    admin_url: str | None
    source: str
    problem: str | None = None


def fresh_database(admin_url: str, name: str | None = None) -> str:
    """Create an empty database on that server; return its SQLAlchemy URL.

    It is dropped when the test session ends."""
    name = name or f"orchard_test_{secrets.token_hex(3)}"
    with _admin_connection(admin_url) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _created.append((admin_url, name))
    return (
        make_url(admin_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database, disconnecting whoever is still in it."""
    with _admin_connection(admin_url) as connection:
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        connection.execute(statement.format(sql.Identifier(name)))


def _admin_connection(admin_url: str) -> psycopg.Connection:
    url = make_url(admin_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True,
                           connect_timeout=3)  # fmt: skip


def _answers(admin_url: str) -> str | None:
    """None when the server accepts an admin connection, else why not."""
    try:
        with _admin_connection(admin_url) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]
    return None


def _docker_answers() -> bool:
    try:
        import docker  # the container path is optional
    except ImportError:
        return False
    try:
        docker.from_env(timeout=3).ping()
    except (docker.errors.DockerException, OSError):
        return False
    return True


_server: Server | None = None
_container = None


def _find_server() -> Server:
    """Pick the server once per session (the header and the fixtures agree)."""
    global _server
    if _server is None:
        _server = _probe()
    return _server


def _probe() -> Server:
    env_url = os.environ.get("ORCHARD_TEST_DATABASE_URL")
    if env_url:
        host = make_url(env_url).host
        return Server(env_url, f"ORCHARD_TEST_DATABASE_URL ({host})", _answers(env_url))
    if _docker_answers():
        return Server(None, "testcontainers PostgresContainer")
    problem = _answers(LOCAL_ADMIN_URL)
    return Server(LOCAL_ADMIN_URL, "local server 127.0.0.1:5432", problem)


def _start_container() -> str:
    global _container
    from testcontainers.postgres import PostgresContainer

    _container = PostgresContainer("postgres:16-alpine", driver="psycopg").start()
    return _container.get_connection_url()


def postgres_admin_url() -> str:
    """The admin URL of this session's server; fails (or skips, if allowed) without one."""
    server = _find_server()
    if server.admin_url is None:
        return _start_container()
    if server.problem is None:
        return server.admin_url
    reason = f"PostgreSQL unavailable: {server.source}: {server.problem}"
    if os.environ.get("ORCHARD_TEST_ALLOW_SKIP") == "1":
        pytest.skip(reason)
    pytest.fail(reason + " (set ORCHARD_TEST_ALLOW_SKIP=1 to skip instead)", pytrace=False)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """Admin URL of the server (to create more databases with ``fresh_database``)."""
    return postgres_admin_url()


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database created for this run, dropped at the end."""
    yield fresh_database(postgres_server_url, _run_database)


def pytest_report_header(config: pytest.Config) -> str:
    server = _find_server()
    status = f" UNREACHABLE: {server.problem}" if server.problem else ""
    return f"postgres: {server.source} (database {_run_database}){status}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _created:
        admin_url, name = _created.pop()
        if _answers(admin_url) is None:
            drop_database(admin_url, name)
    if _container is not None:
        _container.stop()
