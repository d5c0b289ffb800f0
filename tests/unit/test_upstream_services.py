"""The upstream cache's use cases against the fakes: which requests reach the upstream,
and what is served when it fails."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from domain.errors import NotFound, UpstreamTimeout, UpstreamUnavailable
from domain.services.upstream.pages import merged_page
from domain.services.upstream.plan import UpstreamContext, plan_for_name
from domain.upstream import PageFetch, UpstreamFile, UpstreamPage, UpstreamSettings
from tests.fakes.upstream import FakeUpstreamClient
from tests.unit.conftest import World

URL = "https://upstream.example/simple/"


def _page(name: str, *versions: str) -> UpstreamPage:
    files = tuple(
        UpstreamFile(f"{name}-{v}.tar.gz", f"https://files/{name}-{v}.tar.gz", f"{i:064x}")
        for i, v in enumerate(versions, 1)
    )
    return UpstreamPage(name, files)


@pytest.fixture
def client() -> FakeUpstreamClient:
    return FakeUpstreamClient()


def _context(world: World, client: FakeUpstreamClient, url: str = URL) -> UpstreamContext:
    return UpstreamContext(
        uow=lambda read_only=False, snapshot=False: world.uow(),
        blobs=world.blobs,
        clock=world.clock,
        client=client,
        default_project="pypi",
        default_settings=UpstreamSettings(url=url, ttl=600, stale_max_age=3600),
    )


def _versions(world, context, name="demo") -> tuple[tuple[str, ...], str]:
    plan = plan_for_name(world.uow(), context, None, "pypi", name)
    assert plan is not None
    merged = merged_page(context, plan, None)
    return merged.page.versions, merged.outcome


def test_without_an_upstream_url_nothing_is_ever_asked(world: World, client) -> None:
    world.project("pypi")
    context = _context(world, client, url="")
    assert plan_for_name(world.uow(), context, None, "pypi", "anything") is None
    assert client.asked == []


def test_the_environment_names_the_default_projects_upstream_only(world: World, client) -> None:
    world.project("pypi")
    world.project("other")
    context = _context(world, client)
    assert plan_for_name(world.uow(), context, None, "pypi", "demo") is not None
    assert plan_for_name(world.uow(), context, None, "other", "demo") is None


def test_a_local_name_is_not_asked_for_unless_merged(world: World, client) -> None:
    world.project("pypi")
    world.package("pypi", "demo", fmt="pypi")
    context = _context(world, client)
    assert plan_for_name(world.uow(), context, None, "pypi", "Demo") is None
    with world.uow() as uow:
        uow.upstream.set_merge(uow.projects.get("pypi").id, "demo", True)
    assert plan_for_name(world.uow(), context, None, "pypi", "demo") is not None


def test_a_fresh_page_is_served_without_asking_and_revalidated_after_the_ttl(
    world: World, client
) -> None:
    world.project("pypi")
    context = _context(world, client)
    client.pages["demo"] = _page("demo", "1.0")
    assert _versions(world, context) == (("1.0",), "miss")
    client.pages["demo"] = _page("demo", "1.0", "2.0")
    assert _versions(world, context) == (("1.0",), "hit")
    world.clock.advance(seconds=600)
    assert _versions(world, context) == (("1.0", "2.0"), "miss")
    assert client.asked == ["demo", "demo"]


@pytest.mark.parametrize("failure", [UpstreamUnavailable("down"), UpstreamTimeout("slow")])
def test_a_failing_upstream_serves_the_cache_stale_until_the_max_age(
    world: World, client, failure
) -> None:
    world.project("pypi")
    context = _context(world, client)
    client.pages["demo"] = _page("demo", "1.0")
    _versions(world, context)
    client.failure = failure
    world.clock.advance(seconds=601)
    assert _versions(world, context) == (("1.0",), "stale")
    world.clock.advance(seconds=3600)  # past the stale max age
    with pytest.raises(type(failure)):
        _versions(world, context)


def test_a_404_after_a_200_keeps_the_cache_and_a_cold_404_is_remembered(
    world: World, client
) -> None:
    world.project("pypi")
    context = _context(world, client)
    client.pages["demo"] = _page("demo", "1.0")
    _versions(world, context)
    client.pages["demo"] = PageFetch.MISSING
    world.clock.advance(seconds=601)
    assert _versions(world, context) == (("1.0",), "stale")
    with pytest.raises(NotFound):
        _versions(world, context, "nothing")
    with pytest.raises(NotFound):
        _versions(world, context, "nothing")
    assert client.asked.count("nothing") == 1  # remembered for the negative-cache time
    world.clock.advance(seconds=60)
    with pytest.raises(NotFound):
        _versions(world, context, "nothing")
    assert client.asked.count("nothing") == 2


def test_a_cold_miss_while_the_upstream_is_down_raises(world: World, client) -> None:
    world.project("pypi")
    context = _context(world, client)
    client.failure = UpstreamTimeout("slow")
    with pytest.raises(UpstreamTimeout):
        _versions(world, context)


def test_the_page_key_changes_with_the_upstream_content_and_the_cooldown_minute(
    world: World, client
) -> None:
    world.project("pypi")
    context = _context(world, client)
    client.pages["demo"] = _page("demo", "1.0")
    plan = plan_for_name(world.uow(), context, None, "pypi", "demo")
    first = merged_page(context, plan, None, have=lambda key: True)
    assert first.page is None  # the caller holds it: no files read
    assert merged_page(context, plan, None, have=lambda key: True).key == first.key
    client.pages["demo"] = _page("demo", "1.0", "2.0")
    world.clock.advance(seconds=600)
    changed = merged_page(context, plan, None)
    assert changed.key != first.key and changed.page.versions == ("1.0", "2.0")
    cooling = replace(plan, settings=replace(plan.settings, cooldown=10))
    before = merged_page(context, cooling, None, have=lambda key: True).key
    world.clock.advance(seconds=60)
    assert merged_page(context, cooling, None, have=lambda key: True).key != before


def test_a_project_without_an_upstream_is_remembered_for_a_second(world: World, client) -> None:
    world.project("other")
    context = _context(world, client)
    assert plan_for_name(world.uow(), context, None, "other", "demo") is None
    with world.uow() as uow:
        uow.upstream.set_settings(uow.projects.get("other").id, UpstreamSettings(url=URL))
    assert plan_for_name(world.uow(), context, None, "other", "demo") is None  # remembered
    world.clock.advance(seconds=1)
    assert plan_for_name(world.uow(), context, None, "other", "demo") is not None


@pytest.mark.parametrize("name", ["-lead", "trail-", "sp ace", "a" * 201, "..", "x?y"])
def test_only_valid_project_names_are_ever_asked_for(world: World, client, name) -> None:
    world.project("pypi")
    assert plan_for_name(world.uow(), _context(world, client), None, "pypi", name) is None


def test_a_hanging_upstream_is_waited_for_briefly_then_the_copy_served_and_refreshed_later(
    world: World, client
) -> None:
    world.project("pypi")
    context = replace(_context(world, client), revalidate_wait=0.05)
    client.pages["demo"] = _page("demo", "1.0")
    _versions(world, context)
    client.pages["demo"] = _page("demo", "1.0", "2.0")
    client.gate = threading.Event()  # the upstream hangs
    world.clock.advance(seconds=601)
    assert _versions(world, context) == (("1.0",), "stale")
    assert _versions(world, context) == (("1.0",), "stale")
    assert client.asked.count("demo") == 2  # the second request joined the first's
    client.gate.set()
    for _ in range(500):  # the revalidation ends in its thread
        if _versions(world, context)[1] == "hit":
            break
        time.sleep(0.01)
    assert _versions(world, context) == (("1.0", "2.0"), "hit")


def test_a_refresh_while_the_upstream_fails_keeps_the_cached_page_servable(
    world: World, client
) -> None:
    from domain.services.upstream import manage

    world.project("pypi")
    context = _context(world, client)
    client.pages["demo"] = _page("demo", "1.0")
    assert _versions(world, context) == (("1.0",), "miss")
    client.failure = UpstreamUnavailable("The upstream index answered 503.")
    with pytest.raises(UpstreamUnavailable):
        manage.refresh(context, world.admin, "pypi", "demo")
    assert _versions(world, context) == (("1.0",), "hit")  # still served, still fresh
    client.failure = None
    client.pages["demo"] = _page("demo", "1.0", "2.0")
    assert manage.refresh(context, world.admin, "pypi", "demo") == "miss"
    assert _versions(world, context) == (("1.0", "2.0"), "hit")
