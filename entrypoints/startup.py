"""What happens once before serving: schema migrations, the first admin, the default index.

Idempotent, so ``orchard serve`` runs it on every start and several instances may run it
at once against one database.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import AlreadyExists
from domain.services import projects, users
from entrypoints.bootstrap import Services
from entrypoints.config import Settings

if TYPE_CHECKING:
    from adapters.migrations import Upgrade


def migrate(settings: Settings) -> Upgrade:
    """Create or upgrade the schema; the revisions before and after say which it did."""
    from adapters.migrations import upgrade

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return upgrade(settings.resolved_database_url)


def prepare(services: Services, *, announce=print) -> None:
    """Create the admin user on first start and the default index project."""
    ensure_admin(services, announce=announce)
    projects.ensure_project(services.uow(), services.clock, name=services.settings.default_index)


def ensure_admin(services: Services, *, announce=print) -> None:
    settings = services.settings
    with services.uow() as uow:
        if uow.users.get(settings.admin_user) is not None or uow.users.list():
            return
    password = settings.admin_password or secrets.token_urlsafe(18)
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
    if not settings.admin_password:
        announce(
            f"Created admin user '{settings.admin_user}' with password: {password}\n"
            "It is shown only once: store it, or set ORCHARD_ADMIN_PASSWORD.",
            file=sys.stderr,
        )
