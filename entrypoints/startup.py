"""What happens once before serving: schema migrations, the first admin, the default index.

Idempotent, so ``orchard serve`` runs it on every start and several instances may run it
at once against one database.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import AlreadyExists, BackendUnavailable
from domain.services import projects, users
from entrypoints import admin_password
from entrypoints.bootstrap import Services
from entrypoints.config import Settings

if TYPE_CHECKING:
    from adapters.migrations import Upgrade

Announce = Callable[..., object]  # print or click.echo: called with the text and file=stderr


def migrate(settings: Settings) -> Upgrade:
    """Create or upgrade the schema; the revisions before and after say which it did."""
    from adapters.migrations import upgrade

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return upgrade(settings.resolved_database_url)


def prepare(services: Services, *, announce=print) -> None:
    """Create the admin user on first start and the default index project."""
    ensure_admin(services, announce=announce)
    projects.ensure_project(services.uow(), services.clock, name=services.settings.default_index)
    sweep_stale_uploads(services, announce=announce)


def ensure_admin(services: Services, *, announce: Announce = print) -> None:
    """The first administrator, on the first start only; later starts say what of
    ORCHARD_ADMIN_USER/ORCHARD_ADMIN_PASSWORD they ignore, and where a generated
    password still is."""
    settings = services.settings
    with services.uow(read_only=True) as uow:
        admin = uow.users.get(settings.admin_user)
        anyone = admin is not None or bool(uow.users.list_all())
    if not anyone:
        _create_admin(services, announce)
    elif admin is None:
        if settings.admin_password or settings.admin_user != Settings().admin_user:
            _say(
                announce,
                f"{_IGNORED}: users exist already, and no user is named '{settings.admin_user}'.",
            )
    elif settings.admin_password and not services.hasher.verify(
        admin.password_hash, settings.admin_password
    ):
        _say(
            announce,
            f"ORCHARD_ADMIN_PASSWORD is ignored: it sets the password of '{admin.username}' "
            "only when that account is first created. To change the password: "
            f"orchard admin users set-password {admin.username}",
        )
    _remind_or_forget(services, announce)


_IGNORED = (
    "ORCHARD_ADMIN_USER and ORCHARD_ADMIN_PASSWORD are ignored (they create the first user only)"
)


def _create_admin(services: Services, announce: Announce) -> None:
    settings = services.settings
    # Written to the data dir before the account exists: a start that fails later
    # (port taken, crash) leaves it there for the next one.
    password = settings.admin_password or admin_password.generated_password(settings)
    try:
        users.add_user(
            services.uow(),
            services.hasher,
            services.clock,
            username=settings.admin_user,
            password=password,
            is_admin=True,
        )
    except AlreadyExists:
        return  # another instance created it first
    # Shown once, on the start that made it (SPEC: "generated and printed once"); the file
    # keeps it for the starts after, and says so on each.
    source = (
        "the password from ORCHARD_ADMIN_PASSWORD"
        if settings.admin_password
        else f"the generated password: {password}"
    )
    _say(announce, f"Created the administrator '{settings.admin_user}' with {source}")


def _remind_or_forget(services: Services, announce: Announce) -> None:
    path = admin_password.path_of(services.settings)
    if admin_password.discard_if_changed(services):
        _say(announce, f"Removed {path}: the password it held has been changed.")
    elif path.exists():
        name = services.settings.admin_user
        _say(
            announce,
            f"The password of '{name}' is in {path} (readable only by its owner) until it "
            f"is changed: orchard admin users set-password {name}",
        )


def sweep_stale_uploads(services: Services, *, announce=print) -> None:
    """Remove the temporary objects of uploads that a killed worker (or a crashed
    instance) never finished, once untouched for the gc grace period: an upload still
    arriving at another instance writes to its object and so is never that old. A blob
    store that does not answer now only skips the sweep; ``/health`` reports it."""
    cutoff = services.clock.now() - timedelta(seconds=services.settings.gc_grace)
    try:
        removed = services.blobs.sweep_temporary(cutoff)
    except BackendUnavailable as error:
        announce(f"Skipped the sweep of stale temporary uploads: {error}", file=sys.stderr)
        return
    if removed:
        announce(
            f"Removed {removed} stale temporary upload(s) left by a worker stopped mid-upload.",
            file=sys.stderr,
        )


def _say(announce: Announce, message: str) -> None:
    announce(message, file=sys.stderr)
