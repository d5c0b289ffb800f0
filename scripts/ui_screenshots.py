"""Screenshots of the main pages for docs/ui.md, taken with Debian's Chromium.

Starts a real ``orchard serve`` (SQLite + filesystem, the embedded default) in a
temporary directory, publishes a few demo packages the way clients do, and saves PNGs
of each page at a desktop and a phone width into ``docs/ui/``.

    .venv/bin/python scripts/ui_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.fake_upstream import FakeUpstream  # noqa: E402
from tests.harness.live_server import LiveServer, max_upload_size, server_env  # noqa: E402
from tests.integration.pypi.distributions import core_metadata, write_wheel  # noqa: E402
from tests.integration.upstream.support import wheel_file  # noqa: E402

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
OUT = ROOT / "docs" / "ui"
README = """# orchard-demo

A small library that **shows** what a package page looks like.

## Install

```
pip install orchard-demo
```

| Feature | Status |
| --- | --- |
| Descriptions in Markdown | rendered |
| `<script>` in a description | inert |
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        env = server_env(
            data, database_url=f"sqlite:///{data / 'orchard.db'}", blob_store="filesystem",
            workers=1, max_upload_size=max_upload_size(),
        )  # fmt: skip
        server = LiveServer("sqlite-fs", env, data, 1, max_upload_size(), "", None)
        server.start()
        upstream = FakeUpstream().start()
        try:
            seed(server, Path(tmp) / "dist")
            cache(server, upstream, Path(tmp) / "upstream")
            shoot(server)
        finally:
            upstream.stop()
            server.stop()


def cache(server: LiveServer, upstream: FakeUpstream, dist: Path) -> None:
    """Give ``team`` an upstream and let a client ask it for two projects (one file of
    which is downloaded), so the project page shows its admin a cache."""
    dist.mkdir()
    for name, versions in (("requests", ("2.31.0", "2.32.3")), ("idna", ("3.7",))):
        upstream.add(name, *(wheel_file(dist, name, v) for v in versions))
    auth = (server.admin_user, server.admin_password)
    with httpx.Client(base_url=server.url, auth=auth) as c:
        c.put("/api/v1/projects/team/upstream", json={"url": upstream.url}).raise_for_status()
        for name in ("requests", "idna"):
            page = c.get(
                f"/pypi/team/simple/{name}/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"},
            )
            page.raise_for_status()
            if name == "idna":
                c.get(page.url.join(page.json()["files"][0]["url"])).raise_for_status()


def seed(server: LiveServer, dist: Path) -> None:
    with httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password)) as c:
        c.post("/api/v1/projects", json={"name": "team", "description": "Our internal packages"})
        c.post("/api/v1/projects", json={"name": "secret-lab", "is_public": False})
        for version in ("0.9.0", "1.0.0", "1.1.0"):
            head = core_metadata("orchard-demo", version, ">=3.9").decode().rstrip("\n")
            metadata = f"{head}\nDescription-Content-Type: text/markdown\n\n{README}".encode()
            wheel = write_wheel(dist, "orchard-demo", version, metadata=metadata)
            c.post(
                "/pypi/team/",
                data={":action": "file_upload", "name": "orchard-demo", "version": version},
                files={"content": (wheel.name, wheel.read_bytes())},
            ).raise_for_status()
        c.post(
            "/api/v1/project/team/orchard-demo/files/orchard_demo-0.9.0-py3-none-any.whl/yank",
            json={"reason": "Broken import on Python 3.12"},
        )
        c.post("/api/v1/project/team/packages", json={"name": "firmware", "format": "generic"})
        for number, tag in ((1, "stable"), (2, "latest"), (3, "latest")):
            c.post(
                "/api/v1/project/team/firmware/upload",
                data={"tag": tag, "version": f"2.{number}"},
                files={"file": (f"firmware-2.{number}.bin", b"\x7fELF" * 1000 * number)},
            ).raise_for_status()


PAGES = [
    ("home", "/"),
    ("project", "/projects/team"),
    ("package-python", "/projects/team/orchard-demo"),
    ("package-generic", "/projects/team/firmware"),
    ("keys", "/account/keys"),
    ("yank-confirm", "/projects/team/orchard-demo/files/orchard_demo-1.1.0-py3-none-any.whl/yank"),
]


def shoot(server: LiveServer) -> None:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for device, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
            context = browser.new_context(
                base_url=server.url, viewport={"width": viewport[0], "height": viewport[1]},
                device_scale_factor=1,
            )  # fmt: skip
            page = context.new_page()
            page.goto("/login")
            page.screenshot(path=OUT / f"login-{device}.png")
            page.get_by_label("Username").fill(server.admin_user)
            page.get_by_label("Password").fill(server.admin_password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/")
            for name, path in PAGES:
                if device == "phone" and name not in ("home", "package-python"):
                    continue
                page.goto(path)
                page.screenshot(path=OUT / f"{name}-{device}.png", full_page=device == "desktop")
            if device == "desktop":
                page.goto("/projects/team")
                page.locator("#upstream").screenshot(path=OUT / "upstream-desktop.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
