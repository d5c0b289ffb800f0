"""Users, API keys and authentication.

API keys are 256-bit random secrets, so a fast keyed hash (HMAC-SHA256 with a server
secret) is as safe to store as a slow password hash and costs microseconds per request:
twine sends credentials with every file. Passwords get the slow hash of the
``PasswordHasher`` port.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from domain.access import Principal, require_admin, require_authenticated
from domain.errors import (
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from domain.model import ApiKey, User
from domain.ports import Clock, PasswordHasher, UnitOfWork

KEY_PREFIX = "orch_"
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``secret`` is shown once and never stored."""

    key: ApiKey
    secret: str


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, username=user.username, is_admin=user.is_admin)


def create_user(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    *,
    actor: Principal | None,
    username: str,
    password: str,
    is_admin: bool = False,
) -> User:
    require_admin(actor)
    return add_user(uow, hasher, clock, username=username, password=password, is_admin=is_admin)


def add_user(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    *,
    username: str,
    password: str,
    is_admin: bool = False,
) -> User:
    """Create a user without a permission check (bootstrap and the admin CLI)."""
    _check_username(username)
    _check_password(password)
    with uow:
        if uow.users.get(username) is not None:
            raise AlreadyExists(f"User '{username}' already exists.")
        user = uow.users.add(
            User(
                username=username,
                password_hash=hasher.hash(password),
                is_admin=is_admin,
                created_at=clock.now(),
            )
        )
        uow.commit()
        return user


def list_users(uow: UnitOfWork, *, actor: Principal | None) -> list[User]:
    require_admin(actor)
    with uow:
        return uow.users.list_all()


def delete_user(uow: UnitOfWork, *, actor: Principal | None, username: str) -> None:
    admin = require_admin(actor)
    with uow:
        user = uow.users.get(username)
        if user is None:
            raise NotFound(f"User '{username}' not found.")
        if user.id == admin.user_id:
            raise InvalidInput("You cannot delete your own account.")
        if user.is_admin:
            refuse_losing_last_admin(uow, user)
        uow.users.delete(user.id)
        uow.commit()


def refuse_losing_last_admin(uow: UnitOfWork, user: User) -> None:
    """Nobody could administer Orchard again but from the server's console: refuse to
    delete or demote the only administrator (the rows are locked until the commit)."""
    if [a.id for a in uow.users.lock_admins()] == [user.id]:
        raise Conflict(
            f"'{user.username}' is the last administrator: make another user an "
            "administrator first."
        )


def set_password(uow: UnitOfWork, hasher: PasswordHasher, *, username: str, password: str) -> None:
    _check_password(password)
    with uow:
        user = uow.users.get(username)
        if user is None:
            raise NotFound(f"User '{username}' not found.")
        user.password_hash = hasher.hash(password)
        uow.users.update(user)
        uow.commit()


def authenticate_password(
    uow: UnitOfWork, hasher: PasswordHasher, *, username: str, password: str
) -> Principal:
    """The user whose password this is, read from the database now: who they are and
    whether they are an administrator come from the row, never from an earlier request."""
    with uow:
        user = uow.users.get(username)
    return verify_password(hasher, user, password)


def verify_password(hasher: PasswordHasher, user: User | None, password: str) -> Principal:
    """``user`` (just read) if the password is theirs, else ``Unauthenticated``.

    An unknown username costs the same slow verification as a wrong password (against a
    hash of a random password), so the response time does not tell which names exist."""
    if user is None:
        hasher.verify(_unmatchable_hash(hasher), password)
        raise Unauthenticated("Invalid username or password.")
    if not hasher.verify(user.password_hash, password):
        raise Unauthenticated("Invalid username or password.")
    return principal_of(user)


@functools.lru_cache(maxsize=4)
def _unmatchable_hash(hasher: PasswordHasher) -> str:
    """A hash made by this hasher (same cost parameters) that no password matches."""
    return hasher.hash(secrets.token_urlsafe(32))


KEY_USE_RESOLUTION = timedelta(minutes=5)


def authenticate_api_key(uow: UnitOfWork, clock: Clock, *, secret: str, pepper: bytes) -> Principal:
    """The key's owner. Works in a read-only unit of work: ``last_used_at`` is recorded
    only when it is older than ``KEY_USE_RESOLUTION``, so a pip install with a token
    costs a write at most every few minutes, not one per file."""
    with uow:
        found = uow.api_keys.find_with_owner(hash_api_key(secret, pepper))
        if found is None:
            raise Unauthenticated("Invalid API key.")
        key, user = found
        now = clock.now()
        if key.last_used_at is None or now - key.last_used_at >= KEY_USE_RESOLUTION:
            # Best effort: a busy database must not turn a valid key into an error.
            with contextlib.suppress(BackendUnavailable, Conflict):
                uow.api_keys.mark_used(key.id, now)
                uow.commit()
    return principal_of(user)


def create_api_key(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    name: str,
    pepper: bytes,
    for_username: str | None = None,
) -> CreatedKey:
    actor = require_authenticated(actor)
    if not name or len(name) > 128:
        raise InvalidInput("An API key needs a name of 1 to 128 characters.")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with uow:
        user_id = _key_owner(uow, actor, for_username)
        key = uow.api_keys.add(
            ApiKey(
                user_id=user_id,
                name=name,
                key_hash=hash_api_key(secret, pepper),
                prefix=secret[: len(KEY_PREFIX) + 6],
                created_at=clock.now(),
            )
        )
        uow.commit()
    return CreatedKey(key=key, secret=secret)


def list_api_keys(uow: UnitOfWork, *, actor: Principal | None) -> list[ApiKey]:
    actor = require_authenticated(actor)
    with uow:
        return uow.api_keys.list_for_user(actor.user_id)


def delete_api_key(uow: UnitOfWork, *, actor: Principal | None, key_id: int) -> None:
    actor = require_authenticated(actor)
    with uow:
        if not uow.api_keys.delete(actor.user_id, key_id):
            raise NotFound(f"API key {key_id} not found.")
        uow.commit()


def hash_api_key(secret: str, pepper: bytes) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def _key_owner(uow: UnitOfWork, actor: Principal, for_username: str | None) -> int:
    if for_username is None or for_username == actor.username:
        return actor.user_id
    require_admin(actor)
    user = uow.users.get(for_username)
    if user is None:
        raise NotFound(f"User '{for_username}' not found.")
    return user.id


def _check_username(username: str) -> None:
    if not _USERNAME.match(username or "") or username == "__token__":
        raise InvalidInput("A username is 1-64 characters of letters, digits, '.', '_', '-'.")


def _check_password(password: str) -> None:
    if not password or len(password) < 8 or len(password) > 1024:
        raise InvalidInput("A password must be 8 to 1024 characters long.")
