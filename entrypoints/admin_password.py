"""The generated password of the first administrator, kept until it is changed.

Printing it once lost it to any start that failed after the admin was created (the port
taken, a crash). It is written, readable by its owner only, to ``<data dir>/admin-password``
before the account is made, so every later start finds the same password, and several
instances sharing a data dir agree on one. Once the password no longer opens that
account (changed from the CLI, the API or the pages), the file is removed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from entrypoints.bootstrap import Services
from entrypoints.config import Settings

FILE_NAME = "admin-password"


def path_of(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / FILE_NAME


def generated_password(settings: Settings) -> str:
    """The password kept in the file, else a new one written there (mode 0600).

    Never replaces a file another process wrote: that one's password is used instead.
    """
    path = path_of(settings)
    if path.exists() and _read(path)[0] != settings.admin_user:
        path.unlink(missing_ok=True)  # left by a start under another ORCHARD_ADMIN_USER
    if not path.exists():
        draft = path.with_name(f".{FILE_NAME}.{secrets.token_hex(4)}")
        handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(f"username: {settings.admin_user}\npassword: {secrets.token_urlsafe(18)}\n")
        try:
            os.link(draft, path)  # atomic, and fails rather than replace
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return _read(path)[1]


def discard_if_changed(services: Services) -> bool:
    """Remove the file if its password no longer opens its account; True if removed."""
    path = path_of(services.settings)
    try:
        username, password = _read(path)
    except FileNotFoundError:
        return False
    with services.uow(read_only=True) as uow:
        user = uow.users.get(username)
    if user is not None and services.hasher.verify(user.password_hash, password):
        return False
    path.unlink(missing_ok=True)
    return True


def _read(path: Path) -> tuple[str, str]:
    values = dict(
        line.partition(": ")[::2] for line in path.read_text().splitlines() if ": " in line
    )
    return values.get("username", ""), values.get("password", "")
