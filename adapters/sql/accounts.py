"""Users, their API keys, and their project memberships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update

from adapters.sql import rows
from adapters.sql.base import SqlRepository
from adapters.tables import api_keys, login_sessions, memberships, users
from domain.errors import AlreadyExists
from domain.model import ApiKey, LoginSession, Membership, User
from domain.ports import (
    ApiKeyRepository,
    MembershipRepository,
    SessionRepository,
    UserRepository,
)

# Looked up on every authenticated request: built once, with bound parameters.
_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_KEY_BY_HASH = select(api_keys).where(api_keys.c.key_hash == bindparam("key_hash"))
_KEY_WITH_OWNER = (
    select(api_keys, *(column.label(f"owner_{column.name}") for column in users.c))
    .join(users, users.c.id == api_keys.c.user_id)
    .where(api_keys.c.key_hash == bindparam("key_hash"))
)


class SqlUserRepository(SqlRepository, UserRepository):
    def get(self, username: str) -> User | None:
        if "\x00" in username:  # from an HTTP Basic header; PostgreSQL cannot compare it
            return None  # and no username holds one
        row = self._execute(select(users).where(users.c.username == username)).first()
        return rows.user(row) if row else None

    def get_by_id(self, user_id: int) -> User | None:
        row = self._execute(_USER_BY_ID, {"user_id": user_id}).first()
        return rows.user(row) if row else None

    def add(self, user: User) -> User:
        values = {
            "username": user.username,
            "password_hash": user.password_hash,
            "is_admin": user.is_admin,
            "created_at": user.created_at,
        }
        statement = self._insert(users).values(values).on_conflict_do_nothing()
        new_id = self._execute(statement.returning(users.c.id)).scalar()
        if new_id is None:
            raise AlreadyExists(f"User '{user.username}' already exists.")
        user.id = new_id
        return user

    def update(self, user: User) -> None:
        statement = update(users).where(users.c.id == user.id)
        self._execute(statement.values(password_hash=user.password_hash, is_admin=user.is_admin))

    def delete(self, user_id: int) -> None:
        self._execute(delete(users).where(users.c.id == user_id))

    def list_all(self) -> list[User]:
        return [rows.user(row) for row in self._execute(select(users).order_by(users.c.username))]

    def lock_admins(self) -> list[User]:
        # FOR UPDATE on PostgreSQL; SQLite ignores it, its writers queue on BEGIN IMMEDIATE.
        query = select(users).where(users.c.is_admin).order_by(users.c.username).with_for_update()
        return [rows.user(row) for row in self._execute(query)]


class SqlApiKeyRepository(SqlRepository, ApiKeyRepository):
    def add(self, key: ApiKey) -> ApiKey:
        values = {
            "user_id": key.user_id,
            "name": key.name,
            "key_hash": key.key_hash,
            "prefix": key.prefix,
            "created_at": key.created_at,
            "last_used_at": key.last_used_at,
        }
        key.id = self._execute(
            self._insert(api_keys).values(values).returning(api_keys.c.id)
        ).scalar_one()
        return key

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        row = self._execute(_KEY_BY_HASH, {"key_hash": key_hash}).first()
        return rows.api_key(row) if row else None

    def find_with_owner(self, key_hash: str) -> tuple[ApiKey, User] | None:
        row = self._execute(_KEY_WITH_OWNER, {"key_hash": key_hash}).first()
        if row is None:
            return None
        return rows.api_key(row), rows.user(row, prefix="owner_")

    def list_for_user(self, user_id: int) -> list[ApiKey]:
        query = (
            select(api_keys)
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        )
        return [rows.api_key(row) for row in self._execute(query)]

    def delete(self, user_id: int, key_id: int) -> bool:
        statement = delete(api_keys).where(api_keys.c.user_id == user_id, api_keys.c.id == key_id)
        return self._execute(statement).rowcount > 0

    def mark_used(self, key_id: int, at: datetime) -> None:
        self._execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))


class SqlSessionRepository(SqlRepository, SessionRepository):
    def add(self, login: LoginSession) -> None:
        values = {
            "token_hash": login.token_hash,
            "user_id": login.user_id,
            "created_at": login.created_at,
            "expires_at": login.expires_at,
        }
        self._execute(self._insert(login_sessions).values(values))

    def get(self, token_hash: str) -> LoginSession | None:
        query = select(login_sessions).where(login_sessions.c.token_hash == token_hash)
        row = self._execute(query).first()
        return (
            LoginSession(row.token_hash, row.user_id, row.created_at, row.expires_at)
            if row
            else None
        )

    def delete(self, token_hash: str) -> bool:
        statement = delete(login_sessions).where(login_sessions.c.token_hash == token_hash)
        return self._execute(statement).rowcount > 0

    def delete_expired(self, before: datetime) -> int:
        statement = delete(login_sessions).where(login_sessions.c.expires_at < before)
        return self._execute(statement).rowcount


_MEMBERS = select(memberships, users.c.username).join(users, users.c.id == memberships.c.user_id)


class SqlMembershipRepository(SqlRepository, MembershipRepository):
    def get(self, project_id: int, user_id: int) -> Membership | None:
        query = _MEMBERS.where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
        row = self._execute(query).first()
        return rows.membership(row) if row else None

    def set(self, membership: Membership) -> None:
        values = {
            "project_id": membership.project_id,
            "user_id": membership.user_id,
            "role": membership.role.value,
            "created_at": membership.created_at,
        }
        statement = self._insert(memberships).values(values)
        self._execute(
            statement.on_conflict_do_update(
                index_elements=[memberships.c.project_id, memberships.c.user_id],
                set_={"role": statement.excluded.role},
            )
        )

    def delete(self, project_id: int, user_id: int) -> bool:
        statement = delete(memberships).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
        return self._execute(statement).rowcount > 0

    def list_for_project(self, project_id: int) -> list[Membership]:
        query = _MEMBERS.where(memberships.c.project_id == project_id).order_by(users.c.username)
        return [rows.membership(row) for row in self._execute(query)]
