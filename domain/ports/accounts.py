"""The account ports: users, their API keys and login sessions, project memberships.

Part of the metadata the unit of work (``metadata.py``) spans; the SQL adapters are in
``adapters/sql/accounts.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from domain.model import ApiKey, LoginFailures, LoginSession, Membership, User


class UserRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, username: str) -> User | None:
        """The user, or None."""

    @abc.abstractmethod
    def get_by_id(self, user_id: int) -> User | None:
        """The user, or None."""

    @abc.abstractmethod
    def add(self, user: User) -> User:
        """Insert; raises ``AlreadyExists``."""

    @abc.abstractmethod
    def update(self, user: User) -> None:
        """Store password_hash and is_admin."""

    @abc.abstractmethod
    def delete(self, user_id: int) -> None:
        """Delete the user with their keys and memberships."""

    @abc.abstractmethod
    def list_all(self) -> list[User]:
        """All users by name."""

    @abc.abstractmethod
    def lock_admins(self) -> list[User]:
        """The administrators by name, locked until the transaction ends, so that two
        transactions each taking away one of the last two cannot both commit."""


class ApiKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: ApiKey) -> ApiKey:
        """Insert; returns it with ``id`` set."""

    @abc.abstractmethod
    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose keyed hash this is, or None."""

    @abc.abstractmethod
    def find_with_owner(self, key_hash: str) -> tuple[ApiKey, User] | None:
        """The key whose keyed hash this is with the user who owns it, in one read (every
        request with a token asks), or None."""

    @abc.abstractmethod
    def list_for_user(self, user_id: int) -> list[ApiKey]:
        """The user's keys, newest first."""

    @abc.abstractmethod
    def delete(self, user_id: int, key_id: int) -> bool:
        """Delete the user's key; False when absent."""

    @abc.abstractmethod
    def mark_used(self, key_id: int, at: datetime) -> None:
        """Record a use."""


class SessionRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, login: LoginSession) -> None:
        """Record a new session."""

    @abc.abstractmethod
    def get(self, token_hash: str) -> LoginSession | None:
        """The session with that token hash, or None (expired ones included)."""

    @abc.abstractmethod
    def delete(self, token_hash: str) -> bool:
        """End the session; False when absent."""

    @abc.abstractmethod
    def delete_expired(self, before: datetime) -> int:
        """Remove sessions that expired before that time; return how many."""


class MembershipRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, project_id: int, user_id: int) -> Membership | None:
        """The membership, or None."""

    @abc.abstractmethod
    def set(self, membership: Membership) -> None:
        """Insert or change the role."""

    @abc.abstractmethod
    def delete(self, project_id: int, user_id: int) -> bool:
        """Remove; False when absent."""

    @abc.abstractmethod
    def list_for_project(self, project_id: int) -> list[Membership]:
        """Members of the project, by username."""


class LoginFailureRepository(abc.ABC):
    """Failed password attempts per throttling key, shared by every worker and instance."""

    @abc.abstractmethod
    def get_many(self, key_hashes: Sequence[str]) -> list[LoginFailures]:
        """The records of those keys that exist."""

    @abc.abstractmethod
    def add_failure(self, key_hash: str, at: datetime, restart_before: datetime) -> int:
        """Count one more failure under the key at ``at``; return the count. When the
        key's last failure and its lockout both ended before ``restart_before``, the
        count starts again at 1 and the lockout is lifted. Atomic: failures recorded at
        once by several processes each count."""

    @abc.abstractmethod
    def block(self, key_hash: str, until: datetime) -> None:
        """Lock the (existing) key out until that time."""

    @abc.abstractmethod
    def claim(self, key_hash: str, at: datetime, blocked_until: datetime) -> int | None:
        """Count a failure in advance (at ``at``) and lock the key out until
        ``blocked_until``, unless the key is absent or locked out at ``at``; return the
        new count, or None. Of attempts claiming at once exactly one wins, and the others
        find its lockout."""

    @abc.abstractmethod
    def clear(self, key_hash: str) -> None:
        """Forget the key's failures (a successful login)."""

    @abc.abstractmethod
    def delete_stale(self, before: datetime) -> int:
        """Forget keys whose last failure and lockout both ended before that time;
        return how many."""
