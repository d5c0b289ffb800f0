"""Failed password attempts are throttled per username and client address (strictly)
and per address alone (generously), on the session login and on HTTP Basic alike."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from werkzeug.test import EnvironBuilder

from domain.errors import TooManyAttempts, Unauthenticated
from domain.services import login_throttle, users
from domain.services.login_throttle import Attempt, ThrottlePolicy
from entrypoints.config import Settings
from entrypoints.http.client_address import client_address
from tests.fakes.clock import FakeClock
from tests.fakes.credentials import FakePasswordHasher
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.fakes.web import FakeWeb, basic

PASSWORD = "alice-password"
HERE, ELSEWHERE = "203.0.113.5", "198.51.100.7"


@pytest.fixture
def web(tmp_path) -> FakeWeb:
    web = FakeWeb(tmp_path, login_failures_per_address=12)
    web.add_user("alice", PASSWORD)
    web.add_user("bob", "bob-password")
    return web


def login(web: FakeWeb, username: str, password: str, address: str = HERE):
    return web.client().post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(web: FakeWeb, times: int, username: str = "alice", address: str = HERE) -> None:
    for _ in range(times):
        assert login(web, username, "wrong-password", address).status_code == 401


def test_the_sixth_attempt_after_five_failures_is_refused_with_retry_after(web, caplog):
    fail(web, 5)
    with caplog.at_level(logging.WARNING, logger="orchard.security"):
        refused = login(web, "alice", PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Too many failed logins" in refused.get_json()["detail"]
    (record,) = [r for r in caplog.records if r.name == "orchard.security"]
    assert "alice" in record.getMessage() and HERE in record.getMessage()
    assert PASSWORD not in record.getMessage()


def test_a_refused_attempt_spends_no_verification(web):
    fail(web, 5)
    before = web.hasher.verifications
    assert login(web, "alice", PASSWORD).status_code == 429
    assert web.hasher.verifications == before


def test_the_same_user_from_another_address_and_another_user_are_not_throttled(web):
    fail(web, 5)
    assert login(web, "alice", PASSWORD, ELSEWHERE).status_code == 200
    assert login(web, "bob", "bob-password").status_code == 200


def test_the_lockout_ends_and_a_success_clears_the_count(web):
    fail(web, 5)
    web.clock.advance(seconds=61)
    assert login(web, "alice", PASSWORD).status_code == 200
    fail(web, 4)
    assert login(web, "alice", PASSWORD).status_code == 200


def test_lockouts_double_with_each_further_failure_up_to_the_ceiling(web):
    fail(web, 5)
    waits = []
    for _ in range(6):
        web.clock.advance(seconds=int(login(web, "alice", "x").headers["Retry-After"]))
        fail(web, 1)
        waits.append(int(login(web, "alice", PASSWORD).headers["Retry-After"]))
    assert waits == [120, 240, 480, 900, 900, 900]


def test_the_count_is_forgotten_after_the_window(web):
    fail(web, 4)
    web.clock.advance(minutes=16)
    fail(web, 4)
    assert login(web, "alice", PASSWORD).status_code == 200


def test_one_address_guessing_many_usernames_hits_the_generous_limit(web):
    for n in range(12):
        fail(web, 1, username=f"nobody{n}")
    assert login(web, "bob", "bob-password").status_code == 429
    assert login(web, "bob", "bob-password", ELSEWHERE).status_code == 200


def test_basic_on_the_api_and_the_upload_endpoint_is_throttled_too(web):
    client = web.client()
    wrong = basic("alice", "wrong-password")
    for path in ("/api/v1/auth/me",) * 3 + ("/",) * 2:
        method = client.post if path == "/" else client.get
        assert method(path, headers=wrong, environ_base={"REMOTE_ADDR": HERE}).status_code == 401
    refused = client.post("/", headers=basic("alice", PASSWORD), environ_base={"REMOTE_ADDR": HERE})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "Too many failed logins" in refused.status  # twine prints the reason phrase
    assert refused.mimetype == "application/problem+json"


def test_api_keys_are_never_throttled(web):
    fail(web, 5)
    response = web.client().get(
        "/api/v1/auth/me",
        headers=basic("__token__", "orch_wrong"),
        environ_base={"REMOTE_ADDR": HERE},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ("", "10.0.0.1", "1.2.3.4", "10.0.0.1"),  # no trusted proxy: the header is ignored
        ("10.0.0.0/8", "192.0.2.9", "1.2.3.4", "192.0.2.9"),  # the peer is no proxy of ours
        ("10.0.0.0/8", "10.0.0.1", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.0/8", "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),  # a forged start
        ("10.0.0.0/8,::1", "::1", "10.0.0.3", "10.0.0.3"),  # all trusted: the leftmost
        ("10.0.0.0/8", "10.0.0.1", "", "10.0.0.1"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(trusted, peer, forwarded, expected):
    networks = Settings(trusted_proxies=trusted).trusted_proxy_networks
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": peer}).get_request()
    assert client_address(request, networks) == expected


def test_the_policy_numbers():
    policy = ThrottlePolicy()
    assert [policy.lockout_after(n, 5) for n in (4, 5, 6)] == [
        None, timedelta(minutes=1), timedelta(minutes=2)
    ]  # fmt: skip
    assert policy.lockout_after(500, 5) == timedelta(minutes=15)
    assert policy.lockout_after(500, 0) is None


def test_a_bad_trusted_proxy_setting_is_one_clear_sentence():
    from entrypoints.config import load_settings

    with pytest.raises(ValueError, match="ORCHARD_TRUSTED_PROXIES"):
        load_settings({"ORCHARD_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"})
    assert load_settings({"ORCHARD_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}).trusted_proxy_networks


class InterleavingHasher(FakePasswordHasher):
    """Runs ``during`` while the first verification is under way: another request for
    the same key arriving at that moment, deterministically."""

    def __init__(self) -> None:
        super().__init__()
        self.during: Callable[[], object] | None = None

    def verify(self, password_hash: str, password: str) -> bool:
        during, self.during = self.during, None
        if during is not None:
            self.outcome = during()
        return super().verify(password_hash, password)


def test_attempts_arriving_together_after_a_lockout_get_one_verification(tmp_path):
    """Five failures, the lockout passes; two guesses then arrive at once. Only one is
    verified: the other is refused, so bursts of parallel guesses gain nothing."""
    db, clock, hasher = FakeDatabase(), FakeClock(), InterleavingHasher()
    users.add_user(FakeUnitOfWork(db), hasher, clock, username="alice", password=PASSWORD)
    attempt = Attempt("alice", HERE)

    def guess() -> object:
        try:
            return login_throttle.login(
                FakeUnitOfWork(db), FakeUnitOfWork(db), hasher, clock, ThrottlePolicy(),
                attempt=attempt, password="wrong-guess",
            )  # fmt: skip
        except (Unauthenticated, TooManyAttempts) as error:
            return error

    for _ in range(5):
        assert isinstance(guess(), Unauthenticated)
    clock.advance(seconds=61)
    hasher.during = guess
    assert isinstance(guess(), Unauthenticated)
    assert isinstance(hasher.outcome, TooManyAttempts)


def test_with_both_limits_off_nothing_is_counted_or_refused(tmp_path):
    web = FakeWeb(tmp_path, login_failures_per_user=0, login_failures_per_address=0)
    web.add_user("alice", PASSWORD)
    fail(web, 20)
    assert login(web, "alice", PASSWORD).status_code == 200
    with web.uow() as uow:
        assert uow.state.login_failures == {}
