"""Users, API keys, memberships and login sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import AlreadyExists
from domain.model import (
    ApiKey,
    LoginSession,
    Membership,
    Package,
    Project,
    Role,
    User,
)
from domain.ports import UnitOfWork
from tests.integration.metadata_contract.support import (
    T0,
    seed,
)


def test_users_keys_and_memberships(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        alice = uow.users.add(User("alice", "h1", created_at=T0))
        bob = uow.users.add(User("bob", "h2", is_admin=True, created_at=T0))
        with pytest.raises(AlreadyExists):
            uow.users.add(User("alice", "h3"))
        alice.password_hash, alice.is_admin = "h9", True
        uow.users.update(alice)
        old = uow.api_keys.add(ApiKey(alice.id, "ci", "hash-1", "orc_ab", T0))
        new = uow.api_keys.add(ApiKey(alice.id, "laptop", "hash-2", "orc_cd", T0 + timedelta(1)))
        uow.api_keys.mark_used(old.id, T0 + timedelta(2))
        for user, role in ((bob, Role.READ), (alice, Role.WRITE), (bob, Role.ADMIN)):
            uow.members.set(Membership(package.project_id, user.id, role, created_at=T0))
        uow.commit()
    with uow:
        assert (uow.users.get("alice").password_hash, uow.users.get_by_id(alice.id).is_admin) == (
            "h9",
            True,
        )
        assert [u.username for u in uow.users.list_all()] == ["alice", "bob"]
        assert uow.api_keys.find_by_hash("hash-1").last_used_at == T0 + timedelta(2)
        key, owner = uow.api_keys.find_with_owner("hash-2")
        assert (key.id, key.name, key.user_id) == (new.id, "laptop", alice.id)
        assert (owner.id, owner.username, owner.password_hash, owner.is_admin) == (
            alice.id,
            "alice",
            "h9",
            True,
        )
        assert owner.created_at == T0 and key.created_at == T0 + timedelta(1)
        assert uow.api_keys.find_with_owner("no-such-hash") is None
        assert [k.id for k in uow.api_keys.list_for_user(alice.id)] == [new.id, old.id]
        assert not uow.api_keys.delete(bob.id, old.id) and uow.api_keys.delete(alice.id, old.id)
        members = uow.members.list_for_project(package.project_id)
        assert [(m.username, m.role) for m in members] == [
            ("alice", Role.WRITE),
            ("bob", Role.ADMIN),
        ]
        assert uow.members.delete(package.project_id, bob.id)
        assert uow.members.get(package.project_id, bob.id) is None
        uow.users.delete(alice.id)
        uow.commit()
    with uow:
        assert uow.api_keys.find_by_hash("hash-2") is None
        assert uow.members.list_for_project(package.project_id) == []


def test_login_sessions_are_found_ended_and_expire(uow: UnitOfWork) -> None:
    with uow:
        alice = uow.users.add(User("alice", "h1", created_at=T0))
        for token, days in (("live", 2), ("old", -1), ("bye", 2)):
            uow.sessions.add(LoginSession(token, alice.id, T0, T0 + timedelta(days)))
        uow.commit()
    with uow:
        assert uow.sessions.get("live").expires_at == T0 + timedelta(2)
        assert uow.sessions.delete("bye") and not uow.sessions.delete("bye")
        assert uow.sessions.delete_expired(T0) == 1
        uow.commit()
    with uow:
        assert uow.sessions.get("old") is None and uow.sessions.get("bye") is None
        uow.users.delete(alice.id)
        uow.commit()
    with uow:
        assert uow.sessions.get("live") is None


def test_a_username_with_a_nul_is_not_found_on_every_backend(uow: UnitOfWork) -> None:
    # HTTP Basic carries any bytes; PostgreSQL cannot compare text holding NUL (a 500).
    with uow:
        uow.users.add(User("alice", "h1", created_at=T0))
        uow.commit()
    with uow:
        assert uow.users.get("alice\x00") is None and uow.users.get("\x00") is None
        assert uow.users.get("alice") is not None


def test_ids_of_deleted_rows_are_never_given_out_again(uow: UnitOfWork) -> None:
    """The newest user, key, project and package deleted, the next ones get new ids:
    anything that still names an old id can never name someone else's row."""

    def add_all(n: int) -> dict[str, int]:
        with uow:
            user = uow.users.add(User(f"user{n}", "h", created_at=T0))
            key = uow.api_keys.add(ApiKey(user.id, "k", f"hash{n}", "orch_x", T0))
            project = uow.projects.add(Project(f"proj{n}", created_at=T0, updated_at=T0))
            package = uow.packages.add(Package(project.id, "pkg", created_at=T0))
            uow.commit()
        return {"user": user.id, "key": key.id, "project": project.id, "package": package.id}

    first = add_all(1)
    with uow:
        uow.packages.delete(first["package"])
        uow.projects.delete(first["project"])
        uow.api_keys.delete(first["user"], first["key"])
        uow.users.delete(first["user"])
        uow.commit()
    again = add_all(2)
    assert all(again[name] > first[name] for name in first), (first, again)


def test_the_administrators_are_listed_by_name_for_locking(uow: UnitOfWork) -> None:
    with uow:
        for name, is_admin in (("zed", True), ("plain", False), ("ada", True)):
            uow.users.add(User(name, "h", is_admin=is_admin, created_at=T0))
        uow.commit()
    with uow:
        assert [u.username for u in uow.users.lock_admins()] == ["ada", "zed"]
