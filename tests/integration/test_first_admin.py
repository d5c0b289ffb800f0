"""The first administrator: a generated password is kept, readable by its owner only,
until it is changed; settings that no longer apply are said to be ignored.

Run against SQLite and the real password hasher, as ``orchard serve`` runs them."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

from domain.services import users
from entrypoints import admin_password
from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings
from entrypoints.startup import migrate, prepare


def start(tmp_path, **settings: object) -> tuple[Services, list[str]]:
    """One start's preparation; what it announced."""
    config = Settings(data_dir=str(tmp_path / "data"), secret_key="shared", **settings)
    migrate(config)
    services = bootstrap(config)
    said: list[str] = []
    prepare(services, announce=lambda message, **_: said.append(message))
    return services, said


def can_log_in(services: Services, username: str, password: str) -> bool:
    with services.uow(read_only=True) as uow:
        user = uow.users.get(username)
    return user is not None and services.hasher.verify(user.password_hash, password)


def kept_password(services: Services) -> str:
    path = admin_password.path_of(services.settings)
    return dict(line.split(": ", 1) for line in path.read_text().splitlines())["password"]


def test_a_generated_password_is_kept_in_a_private_file_and_announced(tmp_path) -> None:
    services, said = start(tmp_path)
    path = admin_password.path_of(services.settings)

    kept = kept_password(services)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert can_log_in(services, "admin", kept)
    assert any(str(path) in line and "set-password admin" in line for line in said)
    assert said[0] == f"Created the administrator 'admin' with the generated password: {kept}"


def test_the_password_is_printed_on_the_start_that_made_it_only(tmp_path) -> None:
    first, _ = start(tmp_path)

    _, said = start(tmp_path)

    assert not any(kept_password(first) in line for line in said)


def test_every_later_start_says_where_the_password_still_is(tmp_path) -> None:
    first, _ = start(tmp_path)
    password = kept_password(first)

    again, said = start(tmp_path)

    assert kept_password(again) == password
    assert any(str(admin_password.path_of(again.settings)) in line for line in said)


def test_the_file_goes_at_the_next_start_once_the_password_is_changed(tmp_path) -> None:
    services, _ = start(tmp_path)
    users.set_password(
        services.uow(), services.hasher, username="admin", password="changed-elsewhere"
    )

    again, said = start(tmp_path)

    assert not admin_password.path_of(again.settings).exists()
    assert any(line.startswith("Removed ") for line in said)


def test_a_password_from_the_environment_is_not_written_down(tmp_path) -> None:
    services, said = start(tmp_path, admin_password="from-the-environment")

    assert not admin_password.path_of(services.settings).exists()
    assert can_log_in(services, "admin", "from-the-environment")
    assert not any("from-the-environment" in line for line in said)


def test_a_changed_admin_password_setting_is_said_to_be_ignored(tmp_path) -> None:
    start(tmp_path, admin_password="the-first-password")

    services, said = start(tmp_path, admin_password="a-second-password")

    assert can_log_in(services, "admin", "the-first-password")
    (line,) = [line for line in said if "ORCHARD_ADMIN_PASSWORD is ignored" in line]
    assert "orchard admin users set-password admin" in line


def test_the_same_admin_password_setting_is_not_reported(tmp_path) -> None:
    start(tmp_path, admin_password="the-first-password")

    _, said = start(tmp_path, admin_password="the-first-password")

    assert not any("ignored" in line for line in said)


def test_instances_sharing_a_data_dir_generate_one_password(tmp_path) -> None:
    config = Settings(data_dir=str(tmp_path))
    (tmp_path).mkdir(exist_ok=True)
    with ThreadPoolExecutor(8) as pool:
        passwords = set(pool.map(lambda _: admin_password.generated_password(config), range(8)))
    assert len(passwords) == 1


def test_an_admin_user_setting_naming_nobody_is_said_to_be_ignored(tmp_path) -> None:
    start(tmp_path, admin_password="the-first-password")

    _, said = start(tmp_path, admin_user="root", admin_password="the-root-password")

    assert any("ORCHARD_ADMIN_USER and ORCHARD_ADMIN_PASSWORD are ignored" in s for s in said)
