"""``orchard serve``: check, prepare, then become gunicorn.

The order is what makes a failed start lose nothing: every check that can fail on a
setting (the data dir, the address) runs before the first admin is created, and
"listening" is printed by gunicorn's ``when_ready`` hook, once the socket is bound and
listening (``entrypoints/gunicorn_config.py``).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from entrypoints.bootstrap import bootstrap
from entrypoints.config import load_settings, unknown_variables
from entrypoints.http.metrics import prepare_multiprocess_dir
from entrypoints.preflight import bind_listener, check_directories, database_errors
from entrypoints.startup import migrate, prepare


def run_server(workers: int | None = None) -> NoReturn:
    """Serve until stopped; a setting that cannot work raises ConfigError first."""
    settings = load_settings()
    for sentence in unknown_variables():
        click.echo(sentence, err=True)
    listener = bind_listener(settings)  # kept open: gunicorn inherits it
    check_directories(settings)
    with database_errors(settings):
        migrate(settings)
        prepare(bootstrap(settings), announce=click.echo)
    prepare_multiprocess_dir(settings.data_dir)  # fresh metrics files for this run
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:entrypoints.gunicorn_config",
        "--bind",
        f"fd://{listener.fileno()}",
        "entrypoints.wsgi:create_app()",
    ]
    if workers:
        argv[-1:-1] = ["--workers", str(workers)]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
