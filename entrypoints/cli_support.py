"""What every ``orchard`` command shares: services, error sentences, confirmation, output."""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from domain.errors import DomainError
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import load_settings
from entrypoints.schema_check import database_problem


def services(*, hashes_keys: bool = False) -> Services:
    """The services over an existing, current database, or one sentence and exit 1.

    Nothing is created on the way: a command run where no Orchard lives leaves no data
    directory behind. Only a command that hashes API keys (``hashes_keys``) may generate
    the secret key into the data directory, as the server would on its first start.
    """
    settings = load_settings()
    problem = database_problem(settings)
    if problem:
        raise click.ClickException(problem)
    keyed = settings.secret_key or (Path(settings.data_dir) / "secret_key").exists()
    if keyed or hashes_keys:
        return bootstrap(settings)
    return bootstrap(settings, pepper=secrets.token_bytes(32))  # never used to hash a key


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """A domain failure is a sentence for the operator and a non-zero exit, not a trace."""
    try:
        yield
    except DomainError as error:
        raise click.ClickException(error.detail) from None


def destructive(question: str | Callable[..., str]) -> Callable[[Callable], Callable]:
    """``--yes``, else ask ``question`` (formatted with, or called with, the command's
    arguments) on a terminal; with no terminal to ask, refuse in one sentence: a script that forgot
    ``--yes`` must not delete what it meant to keep."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def confirmed(*args: Any, yes: bool, **kwargs: Any) -> Any:
            if not yes:
                if not sys.stdin.isatty():
                    raise click.ClickException(
                        "Not confirmed: standard input is not a terminal, so pass --yes "
                        "to go ahead."
                    )
                text = question(**kwargs) if callable(question) else question.format(**kwargs)
                click.confirm(text, abort=True)
            return command(*args, **kwargs)

        return click.option(
            "--yes", "-y", is_flag=True, help="do it without asking (needed without a terminal)"
        )(confirmed)

    return decorate


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    """JSON on stdout for scripts, or one readable paragraph for people."""
    click.echo(json.dumps(payload, indent=2, sort_keys=True) if as_json else text)


def table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """Plain aligned columns: readable in a terminal, greppable in a script."""
    cells = [tuple(str(c) for c in headers)] + [
        tuple("-" if c is None else str(c) for c in r) for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
