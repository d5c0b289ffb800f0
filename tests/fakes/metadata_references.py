"""Tags, versions, distributions and accounts of ``FakeUnitOfWork``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion
from packaging.version import Version as ParsedVersion

from domain import ports
from domain.errors import AlreadyExists, FileExists
from domain.model import (
    ApiKey,
    Artifact,
    Distribution,
    LoginSession,
    Membership,
    Project,
    Tag,
    TagChange,
    User,
    Version,
)
from tests.fakes.metadata_repositories import FakeRepository, matches, page, utc_copy


class FakeTagRepository(FakeRepository, ports.TagRepository):
    def get(self, package_id: int, name: str) -> Tag | None:
        return utc_copy(self._db.tags.get((package_id, name)))

    def set(
        self, package_id: int, name: str, artifact_id: str, at: datetime, by: str | None
    ) -> TagChange | None:
        current = self._db.tags.get((package_id, name))
        if current is not None and current.artifact_id == artifact_id:
            return None
        old = current.artifact_id if current else None
        if current is None:
            current = Tag(package_id, name, artifact_id, at, at, id=self._db.next_id())
            self._db.tags[(package_id, name)] = current
        current.artifact_id, current.updated_at = artifact_id, at
        change = TagChange(name, old, artifact_id, at, by)
        self._db.tag_history.append((package_id, utc_copy(change)))
        return change

    def delete(self, package_id: int, name: str) -> bool:
        return self._db.tags.pop((package_id, name), None) is not None

    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        keys = [
            k
            for k, t in self._db.tags.items()
            if k[0] == package_id and t.artifact_id == artifact_id
        ]
        for key in keys:
            del self._db.tags[key]
        return len(keys)

    def list_page(
        self, package_id: int, *, search: str | None, limit: int, offset: int
    ) -> tuple[list[Tag], int]:
        found = [
            utc_copy(t)
            for k, t in sorted(self._db.tags.items())
            if k[0] == package_id and matches(t.name, search)
        ]
        return page(found, limit, offset)

    def history(self, package_id: int, name: str) -> list[TagChange]:
        found = [
            utc_copy(c) for p, c in self._db.tag_history if p == package_id and c.tag_name == name
        ]
        return sorted(found, key=lambda change: change.changed_at)


class FakeVersionRepository(FakeRepository, ports.VersionRepository):
    def get(self, package_id: int, version: str) -> Version | None:
        return utc_copy(self._db.versions.get((package_id, version)))

    def add_if_absent(self, version: Version) -> Version:
        key = (version.package_id, version.version)
        if key not in self._db.versions:
            self._db.versions[key] = replace(version, id=self._db.next_id())
        return utc_copy(self._db.versions[key])

    def delete(self, package_id: int, version: str) -> bool:
        return self._db.versions.pop((package_id, version), None) is not None

    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        keys = [
            k
            for k, v in self._db.versions.items()
            if k[0] == package_id and v.artifact_id == artifact_id
        ]
        for key in keys:
            del self._db.versions[key]
        return len(keys)

    def list_page(
        self, package_id: int, *, search: str | None, limit: int, offset: int
    ) -> tuple[list[Version], int]:
        found = [
            utc_copy(v)
            for k, v in self._db.versions.items()
            if k[0] == package_id and matches(v.version, search)
        ]
        found.sort(key=lambda v: (v.created_at, v.id), reverse=True)
        return page(found, limit, offset)


class FakeDistributionRepository(FakeRepository, ports.DistributionRepository):
    def get(self, package_id: int, filename: str) -> Distribution | None:
        return utc_copy(self._db.distributions.get((package_id, filename)))

    def add(self, distribution: Distribution) -> Distribution:
        key = (distribution.package_id, distribution.filename)
        if key in self._db.distributions:
            raise FileExists(f"File already exists: {distribution.filename}")
        distribution.id = self._db.next_id()
        self._db.distributions[key] = utc_copy(distribution)
        return distribution

    def update(self, distribution: Distribution) -> None:
        for key, stored in self._db.distributions.items():
            if stored.id == distribution.id:
                self._db.distributions[key] = replace(
                    distribution, package_id=stored.package_id, filename=stored.filename,
                    created_at=stored.created_at,
                )  # fmt: skip
                return

    def list_live(self, package_id: int, *, with_metadata: bool = True) -> list[Distribution]:
        found = [
            utc_copy(d) if with_metadata else replace(utc_copy(d), core_metadata=None)
            for k, d in self._db.distributions.items()
            if k[0] == package_id and d.deleted_at is None
        ]
        return sorted(found, key=_release_order)

    def list_tombstones(self, package_id: int) -> list[Distribution]:
        found = [
            utc_copy(d)
            for k, d in self._db.distributions.items()
            if k[0] == package_id and d.deleted_at is not None
        ]
        return sorted(found, key=lambda d: d.id)

    def find_in_project(
        self, project_name: str, artifact_id: str, filename: str, *, with_metadata: bool = True
    ) -> tuple[Project, Distribution | None, Artifact | None] | None:
        owners = [p for p in self._db.projects.values() if p.name == project_name]
        if not owners:
            return None
        owner = owners[0]
        for distribution in sorted(self._db.distributions.values(), key=lambda d: d.id):
            package = self._db.packages[distribution.package_id]
            if (
                package.project_id == owner.id
                and distribution.artifact_id == artifact_id
                and distribution.filename == filename
                and distribution.deleted_at is None
            ):
                found = utc_copy(distribution)
                if not with_metadata:
                    found = replace(found, core_metadata=None)
                artifact = utc_copy(self._db.artifacts[distribution.artifact_id])
                return utc_copy(owner), found, artifact
        return utc_copy(owner), None, None


def _release_order(distribution: Distribution) -> tuple[Any, ...]:
    # The same order as adapters/sql/distributions.release_order: PEP 440, then filename.
    try:
        return (1, ParsedVersion(distribution.version), "", distribution.filename)
    except InvalidVersion:
        return (0, ParsedVersion("0"), distribution.version, distribution.filename)


class FakeUserRepository(FakeRepository, ports.UserRepository):
    def get(self, username: str) -> User | None:
        found = [u for u in self._db.users.values() if u.username == username]
        return utc_copy(found[0]) if found else None

    def get_by_id(self, user_id: int) -> User | None:
        return utc_copy(self._db.users.get(user_id))

    def add(self, user: User) -> User:
        if self.get(user.username) is not None:
            raise AlreadyExists(f"User '{user.username}' already exists.")
        user.id = self._db.next_id()
        self._db.users[user.id] = utc_copy(user)
        return user

    def update(self, user: User) -> None:
        stored = self._db.users.get(user.id)
        if stored is not None:
            stored.password_hash, stored.is_admin = user.password_hash, user.is_admin

    def delete(self, user_id: int) -> None:
        self._db.delete_user(user_id)

    def list_all(self) -> list[User]:
        return [utc_copy(u) for u in sorted(self._db.users.values(), key=lambda u: u.username)]

    def lock_admins(self) -> list[User]:
        return [u for u in self.list_all() if u.is_admin]  # one thread: nothing to lock


class FakeApiKeyRepository(FakeRepository, ports.ApiKeyRepository):
    def add(self, key: ApiKey) -> ApiKey:
        if self.find_by_hash(key.key_hash) is not None:
            raise AlreadyExists("It exists already.")
        key.id = self._db.next_id()
        self._db.api_keys[key.id] = utc_copy(key)
        return key

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        found = [k for k in self._db.api_keys.values() if k.key_hash == key_hash]
        return utc_copy(found[0]) if found else None

    def find_with_owner(self, key_hash: str) -> tuple[ApiKey, User] | None:
        key = self.find_by_hash(key_hash)
        owner = self._db.users.get(key.user_id) if key else None
        return (key, utc_copy(owner)) if key and owner else None

    def list_for_user(self, user_id: int) -> list[ApiKey]:
        found = [utc_copy(k) for k in self._db.api_keys.values() if k.user_id == user_id]
        return sorted(found, key=lambda k: (k.created_at, k.id), reverse=True)

    def delete(self, user_id: int, key_id: int) -> bool:
        key = self._db.api_keys.get(key_id)
        if key is None or key.user_id != user_id:
            return False
        del self._db.api_keys[key_id]
        return True

    def mark_used(self, key_id: int, at: datetime) -> None:
        if key_id in self._db.api_keys:
            self._db.api_keys[key_id].last_used_at = at


class FakeSessionRepository(FakeRepository, ports.SessionRepository):
    def add(self, login: LoginSession) -> None:
        self._db.sessions[login.token_hash] = utc_copy(login)

    def get(self, token_hash: str) -> LoginSession | None:
        found = self._db.sessions.get(token_hash)
        return utc_copy(found) if found else None

    def delete(self, token_hash: str) -> bool:
        return self._db.sessions.pop(token_hash, None) is not None

    def delete_expired(self, before: datetime) -> int:
        expired = [k for k, v in self._db.sessions.items() if v.expires_at < before]
        for key in expired:
            del self._db.sessions[key]
        return len(expired)


class FakeMembershipRepository(FakeRepository, ports.MembershipRepository):
    def get(self, project_id: int, user_id: int) -> Membership | None:
        stored = self._db.members.get((project_id, user_id))
        return self._out(stored) if stored else None

    def _out(self, membership: Membership) -> Membership:
        return replace(membership, username=self._db.users[membership.user_id].username)

    def set(self, membership: Membership) -> None:
        stored = self._db.members.get((membership.project_id, membership.user_id))
        if stored is not None:
            stored.role = membership.role
        else:
            self._db.members[(membership.project_id, membership.user_id)] = utc_copy(membership)

    def delete(self, project_id: int, user_id: int) -> bool:
        return self._db.members.pop((project_id, user_id), None) is not None

    def list_for_project(self, project_id: int) -> list[Membership]:
        found = [self._out(m) for k, m in self._db.members.items() if k[0] == project_id]
        return sorted(found, key=lambda m: m.username)
