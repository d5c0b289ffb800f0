"""Users, API keys and authentication use cases."""

from __future__ import annotations

import pytest

from domain.errors import AlreadyExists, Forbidden, InvalidInput, Unauthenticated
from domain.services import users

PEPPER = b"test-pepper"


def test_passwords_are_stored_hashed_and_verified(world):
    world.add_user("alice")
    with world.uow() as uow:
        stored = uow.users.get("alice").password_hash
    assert "password-alice" not in stored
    principal = users.authenticate_password(
        world.uow(), world.hasher, username="alice", password="password-alice"
    )
    assert principal.username == "alice"
    with pytest.raises(Unauthenticated):
        users.authenticate_password(
            world.uow(), world.hasher, username="alice", password="wrong-password"
        )


def test_api_key_secret_is_returned_once_and_stored_only_as_a_hash(world):
    alice = world.add_user("alice")
    created = users.create_api_key(world.uow(), world.clock, actor=alice, name="ci", pepper=PEPPER)
    with world.uow() as uow:
        stored = uow.api_keys.list_for_user(alice.user_id)
    assert created.secret not in repr(stored)
    assert stored[0].key_hash == users.hash_api_key(created.secret, PEPPER)
    found = users.authenticate_api_key(
        world.uow(), world.clock, secret=created.secret, pepper=PEPPER
    )
    assert found.username == "alice"


def test_a_deleted_key_stops_working(world):
    alice = world.add_user("alice")
    created = users.create_api_key(world.uow(), world.clock, actor=alice, name="ci", pepper=PEPPER)
    users.delete_api_key(world.uow(), actor=alice, key_id=created.key.id)
    with pytest.raises(Unauthenticated):
        users.authenticate_api_key(world.uow(), world.clock, secret=created.secret, pepper=PEPPER)


def test_only_admins_manage_users(world):
    alice = world.add_user("alice")
    with pytest.raises(Forbidden):
        users.create_user(
            world.uow(),
            world.hasher,
            world.clock,
            actor=alice,
            username="bob",
            password="password-bob",
        )
    with pytest.raises(Unauthenticated):
        users.list_users(world.uow(), actor=None)
    users.create_user(
        world.uow(),
        world.hasher,
        world.clock,
        actor=world.admin,
        username="bob",
        password="password-bob",
    )
    with pytest.raises(AlreadyExists):
        world.add_user("bob")


@pytest.mark.parametrize("username", ["", "a b", "x" * 65, "__token__", "ü"])
def test_bad_usernames_are_refused(world, username):
    with pytest.raises(InvalidInput):
        world.add_user(username)


def test_key_use_is_recorded_at_most_every_few_minutes(world):
    alice = world.add_user("alice")
    created = users.create_api_key(world.uow(), world.clock, actor=alice, name="ci", pepper=PEPPER)

    def last_used():
        with world.uow() as uow:
            return uow.api_keys.find_by_hash(created.key.key_hash).last_used_at

    def use() -> None:
        users.authenticate_api_key(world.uow(), world.clock, secret=created.secret, pepper=PEPPER)

    use()
    first = last_used()
    assert first == world.clock.now()
    world.clock.advance(minutes=1)
    commits = world.db.commits
    use()
    assert last_used() == first and world.db.commits == commits
    world.clock.advance(minutes=5)
    use()
    assert last_used() == world.clock.now()
