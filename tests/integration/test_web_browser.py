"""The web interface in a real browser: Debian's Chromium driven by Playwright, against a
live Orchard (gunicorn, SQLite + filesystem, the embedded default).

What a user does: sign in, find a package by search, copy its install line and install
it with pip using exactly that line, create and revoke an API key, yank a file and see
pip skip it, use the pages with JavaScript off, see what pip cached from an upstream and
purge it; and axe-core on every page finds nothing serious or critical. One browser for
the module, a fresh context (cookies) per test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.fake_upstream import FakeUpstream
from tests.harness.live_server import LiveServer, build_server
from tests.integration.pypi.distributions import write_wheel
from tests.integration.upstream.support import wheel_file

playwright_api = pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PROJECT = "web"
SERIOUS = {"serious", "critical"}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed: `make test` installs it (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    live = build_server("sqlite-fs", tmp_path_factory.mktemp("web"), request)
    live.start()
    dist = tmp_path_factory.mktemp("dist")
    with httpx.Client(base_url=live.url, auth=(live.admin_user, live.admin_password)) as admin:
        admin.post("/api/v1/projects", json={"name": PROJECT}).raise_for_status()
        for name, version in (("browsie", "1.0"), ("browsie", "1.1"), ("yankee", "1.0"),
                              ("yankee", "2.0")):  # fmt: skip
            wheel = write_wheel(dist, name, version, requires_python=">=3.8")
            admin.post(
                f"/pypi/{PROJECT}/",
                data={":action": "file_upload", "name": name, "version": version},
                files={"content": (wheel.name, wheel.read_bytes())},
            ).raise_for_status()
        admin.post(
            f"/api/v1/project/{PROJECT}/packages", json={"name": "bundle", "format": "generic"}
        ).raise_for_status()
        admin.post(
            f"/api/v1/project/{PROJECT}/bundle/upload",
            data={"tag": "latest", "version": "1.0"},
            files={"file": ("bundle.tar", b"bundle bytes")},
        ).raise_for_status()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server: LiveServer):
    context = browser.new_context(base_url=server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    yield context.new_page()
    context.close()


def sign_in(page, server: LiveServer) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(server.admin_user)
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=f"Sign out {server.admin_user}").wait_for()


def pip_install(line: str, target: Path) -> str:
    """Run the page's pip line as it is (only the interpreter and a target are added)."""
    words = line.split()
    assert words[:3] == ["pip", "install", "--index-url"], line
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir",
         "--disable-pip-version-check", "--target", str(target), *words[2:]],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return " ".join(sorted(p.name for p in target.glob("*.dist-info")))


def test_sign_in_find_by_search_copy_the_install_line_and_install_it(
    page, server: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, server)
    page.get_by_role("link", name=PROJECT, exact=True).click()
    page.get_by_label("Find a package").fill("brows")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name="yankee").count() == 0
    page.get_by_role("link", name="browsie").click()
    copy = page.get_by_role("button", name="Copy the pip command")
    copy.click()
    playwright_api.expect(copy).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#install-pip").inner_text().strip()
    assert "--extra-index-url" not in copied
    assert pip_install(copied, tmp_path) == "browsie-1.1.dist-info"


def test_create_a_key_use_it_and_revoke_it(page, server: LiveServer) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("from the browser")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key").inner_text().strip()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer).status_code == 200
    page.get_by_role("link", name="Revoke from the browser").click()
    page.get_by_role("button", name="Revoke key").click()
    page.get_by_text("The key is revoked.").wait_for()
    assert httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer).status_code == 401


def test_yank_a_file_and_pip_skips_it(page, server: LiveServer, tmp_path: Path) -> None:
    sign_in(page, server)
    page.goto(f"/projects/{PROJECT}/yankee")
    page.get_by_role("link", name="Yank yankee-2.0-py3-none-any.whl").click()
    page.get_by_label("Reason").fill("broken on Windows")
    page.get_by_role("button", name="Yank").click()
    page.get_by_text("broken on Windows").wait_for()
    line = page.locator("#install-pip").inner_text().strip()
    assert pip_install(line, tmp_path) == "yankee-1.0.dist-info"


def test_the_pages_work_without_javascript(browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, server)
        page.goto(f"/projects/{PROJECT}?search=yank")
        assert page.get_by_role("link", name="yankee").is_visible()
        page.get_by_role("link", name="yankee").click()
        line = page.locator("#install-pip").inner_text()
        assert line.startswith("pip install --index-url ")
        assert not page.get_by_role("button", name="Copy the pip command").is_visible()
        page.goto(f"/projects/{PROJECT}/bundle")
        assert page.get_by_role("link", name="bundle.tar", exact=True).is_visible()
        page.get_by_role("link", name="API keys").click()
        page.get_by_label("Name").fill("no script")
        page.get_by_role("button", name="Create key").click()
        assert page.locator("#new-key").inner_text().startswith("orch")
    finally:
        context.close()


def test_axe_finds_nothing_serious_on_any_page(page, server: LiveServer) -> None:
    axe = Axe()
    paths = ["/login"]
    sign_in(page, server)
    paths += [
        "/", f"/projects/{PROJECT}", f"/projects/{PROJECT}/browsie",
        f"/projects/{PROJECT}/bundle", f"/projects/{PROJECT}/bundle/tags/latest",
        "/account/keys", f"/projects/{PROJECT}/browsie/releases/1.0/yank",
        "/projects/nothing-here", "/no/such/page",
    ]  # fmt: skip
    found = {}
    for path in paths:
        page.goto(path)
        violations = axe.run(page).response["violations"]
        serious = [(v["id"], v["help"]) for v in violations if v["impact"] in SERIOUS]
        if serious:
            found[path] = serious
    assert found == {}


def test_keyboard_alone_signs_in_and_reaches_the_content(page, server: LiveServer) -> None:
    page.goto("/login")
    page.keyboard.type(server.admin_user)  # the username field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(server.admin_password)
    page.keyboard.press("Enter")
    page.get_by_role("button", name=f"Sign out {server.admin_user}").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_an_admin_sees_what_pip_cached_from_the_upstream_and_purges_it(
    page, server: LiveServer, tmp_path: Path
) -> None:
    upstream = FakeUpstream().start()
    try:
        upstream.add("cachedpkg", wheel_file(tmp_path, "cachedpkg", "1.0"))
        with httpx.Client(
            base_url=server.url, auth=(server.admin_user, server.admin_password)
        ) as admin:
            admin.post("/api/v1/projects", json={"name": "mirrored"}).raise_for_status()
            admin.put(
                "/api/v1/projects/mirrored/upstream", json={"url": upstream.url}
            ).raise_for_status()
        line = f"pip install --index-url {server.url}/pypi/mirrored/simple/ cachedpkg"
        assert pip_install(line, tmp_path / "target") == "cachedpkg-1.0.dist-info"
        sign_in(page, server)
        page.goto("/projects/mirrored")
        row = page.get_by_role("row").filter(has_text="cachedpkg")
        playwright_api.expect(row).to_contain_text("fresh")
        playwright_api.expect(row).to_contain_text("1 (1)")  # one file, its bytes stored
        violations = Axe().run(page).response["violations"]
        assert [(v["id"], v["help"]) for v in violations if v["impact"] in SERIOUS] == []
        page.get_by_role("link", name="Purge cachedpkg").click()
        page.get_by_role("button", name="Purge").click()
        page.get_by_text("Purged cachedpkg from the upstream cache").wait_for()
        assert page.get_by_role("row").filter(has_text="cachedpkg").count() == 0
    finally:
        upstream.stop()
