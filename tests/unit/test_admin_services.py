"""The console's use cases: promote users, manage anyone's API keys."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, NotFound
from domain.services import admin, users
from domain.services.admin import OPERATOR
from domain.services.projects import create_project, list_projects


def test_set_admin_grants_and_revokes_the_flag(world):
    world.add_user("alice")
    assert admin.set_admin(world.uow(), username="alice", is_admin=True).is_admin
    assert admin.get_user(world.uow(), "alice").is_admin
    admin.set_admin(world.uow(), username="alice", is_admin=False)
    assert not admin.get_user(world.uow(), "alice").is_admin


def test_the_operator_lists_and_revokes_any_users_keys(world):
    world.add_user("bob")
    created = users.create_api_key(
        world.uow(), world.clock, actor=OPERATOR, name="ci", pepper=b"p", for_username="bob"
    )
    assert [k.id for k in admin.list_user_keys(world.uow(), username="bob")] == [created.key.id]
    admin.revoke_user_key(world.uow(), username="bob", key_id=created.key.id)
    assert admin.list_user_keys(world.uow(), username="bob") == []
    with pytest.raises(NotFound, match="no API key"):
        admin.revoke_user_key(world.uow(), username="bob", key_id=created.key.id)


@pytest.mark.parametrize(
    "call",
    [
        lambda w: admin.get_user(w.uow(), "ghost"),
        lambda w: admin.set_admin(w.uow(), username="ghost", is_admin=True),
        lambda w: admin.list_user_keys(w.uow(), username="ghost"),
    ],
)
def test_an_unknown_user_is_not_found(world, call):
    with pytest.raises(NotFound, match="ghost"):
        call(world)


def test_a_project_made_by_the_operator_has_no_member_yet_is_listed(world):
    create_project(world.uow(), world.clock, actor=OPERATOR, name="ops", is_public=False)
    with world.uow() as uow:
        assert uow.members.list_for_project(uow.projects.get("ops").id) == []
    assert [p.name for p in list_projects(world.uow(), actor=OPERATOR).items] == ["ops"]


def test_the_last_administrator_cannot_be_demoted(world):  # the world starts with 'root'
    with pytest.raises(Conflict, match="'root' is the last administrator"):
        admin.set_admin(world.uow(), username="root", is_admin=False)
    assert admin.get_user(world.uow(), "root").is_admin


def test_the_last_administrator_cannot_be_deleted_even_by_the_console(world):
    with pytest.raises(Conflict, match="last administrator"):
        users.delete_user(world.uow(), actor=OPERATOR, username="root")
    assert admin.get_user(world.uow(), "root").is_admin


def test_one_of_two_administrators_may_go(world):
    world.add_user("second", admin=True)
    admin.set_admin(world.uow(), username="second", is_admin=False)
    admin.set_admin(world.uow(), username="second", is_admin=True)
    users.delete_user(world.uow(), actor=OPERATOR, username="root")
    assert [u.username for u in users.list_users(world.uow(), actor=OPERATOR)] == ["second"]


def test_plain_users_come_and_go_whatever_the_administrators(world):
    world.add_user("plain")
    users.delete_user(world.uow(), actor=OPERATOR, username="plain")
    admin.set_admin(world.uow(), username="root", is_admin=True)
