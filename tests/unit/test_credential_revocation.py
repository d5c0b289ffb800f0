"""A credential counts only while the database says it is valid: the user row is read on
every request, and only the slow hash's verdict is remembered, keyed by the stored hash."""

from __future__ import annotations

import pytest

from adapters.passwords import RememberingPasswordHasher
from domain.errors import Unauthenticated
from domain.services import admin, users
from tests.fakes.credentials import FakePasswordHasher
from tests.fakes.web import FakeWeb, basic

PASSWORD = "the-password-1"


@pytest.fixture
def web(tmp_path) -> FakeWeb:
    web = FakeWeb(tmp_path)
    web.add_user("root", "root-password", admin=True)
    web.add_user("carol", PASSWORD, admin=True)
    return web


def me(web: FakeWeb, username: str, password: str):
    return web.client().get("/api/v1/auth/me", headers=basic(username, password))


def test_a_deleted_users_password_stops_working_at_the_next_request(web):
    assert me(web, "carol", PASSWORD).status_code == 200
    users.delete_user(web.uow(), actor=users.principal_of(_user(web, "root")), username="carol")
    assert me(web, "carol", PASSWORD).status_code == 401


def test_a_changed_password_replaces_the_old_one_at_once(web):
    assert me(web, "carol", PASSWORD).status_code == 200
    users.set_password(web.uow(), web.hasher, username="carol", password="a-new-password")
    assert me(web, "carol", PASSWORD).status_code == 401
    assert me(web, "carol", "a-new-password").status_code == 200


def test_a_revoked_admin_flag_counts_from_the_next_request(web):
    assert me(web, "carol", PASSWORD).get_json()["is_admin"] is True
    admin.set_admin(web.uow(), username="carol", is_admin=False)
    assert me(web, "carol", PASSWORD).get_json()["is_admin"] is False
    listing = web.client().get("/api/v1/users", headers=basic("carol", PASSWORD))
    assert listing.status_code == 403


def test_an_unknown_username_costs_the_same_verification_as_a_wrong_password(web):
    before = web.hasher.verifications
    for username, password in (("carol", "wrong-password"), ("nobody", "wrong-password")):
        with pytest.raises(Unauthenticated):
            users.authenticate_password(web.uow(), web.hasher, username=username, password=password)
    assert web.hasher.verifications == before + 2


def test_the_memory_spares_the_slow_hash_only_for_the_same_stored_hash():
    inner = FakePasswordHasher()
    hasher = RememberingPasswordHasher(inner, ttl=60)
    stored = inner.hash(PASSWORD)
    assert hasher.verify(stored, PASSWORD) and hasher.verify(stored, PASSWORD)
    assert inner.verifications == 1
    salted_differently = stored + "-other-salt"  # another row, same password
    assert not hasher.verify(salted_differently, PASSWORD)
    for _ in range(2):
        assert not hasher.verify(stored, "wrong-password")
    assert inner.verifications == 4  # mismatches are never remembered


def test_a_zero_ttl_remembers_nothing():
    inner = FakePasswordHasher()
    hasher = RememberingPasswordHasher(inner, ttl=0)
    stored = inner.hash(PASSWORD)
    assert hasher.verify(stored, PASSWORD) and hasher.verify(stored, PASSWORD)
    assert inner.verifications == 2


def _user(web: FakeWeb, name: str):
    with web.uow() as uow:
        return uow.users.get(name)
