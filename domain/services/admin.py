"""Use cases of the operator at the server's console (``orchard admin ...``).

Whoever can run the CLI with the server's configuration can read its database anyway, so
the console acts as ``OPERATOR``: an administrator without an account. The use cases that
take an actor are called with it; the few below exist because the web API only lets
users manage their *own* keys and has no way to promote a user.
"""

from __future__ import annotations

from domain.access import Principal
from domain.errors import NotFound
from domain.model import ApiKey, User
from domain.ports import UnitOfWork
from domain.services import users

OPERATOR = Principal(user_id=0, username="orchard-cli", is_admin=True)


def get_user(uow: UnitOfWork, username: str) -> User:
    with uow:
        return _user(uow, username)


def set_admin(uow: UnitOfWork, *, username: str, is_admin: bool) -> User:
    """Grant or take away the administrator flag."""
    with uow:
        user = _user(uow, username)
        if user.is_admin and not is_admin:
            users.refuse_losing_last_admin(uow, user)
        user.is_admin = is_admin
        uow.users.update(user)
        uow.commit()
        return user


def list_user_keys(uow: UnitOfWork, *, username: str) -> list[ApiKey]:
    """Any user's keys, newest first (never their secrets: only hashes are stored)."""
    with uow:
        return uow.api_keys.list_for_user(_user(uow, username).id)


def revoke_user_key(uow: UnitOfWork, *, username: str, key_id: int) -> None:
    """Delete one of the user's keys: requests carrying it fail from now on."""
    with uow:
        if not uow.api_keys.delete(_user(uow, username).id, key_id):
            raise NotFound(f"User '{username}' has no API key {key_id}.")
        uow.commit()


def _user(uow: UnitOfWork, username: str) -> User:
    user = uow.users.get(username)
    if user is None:
        raise NotFound(f"User '{username}' not found.")
    return user
