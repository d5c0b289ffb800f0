"""How long the web page of a Python package with 500 files takes on the embedded default.

Starts ``orchard serve`` (SQLite + filesystem, 2 gunicorn workers, as the test harness
does), publishes 100 releases of 5 wheels each (500 files) into one package through the
upload API, then times sequential GETs of the package page over one keep-alive
connection: anonymous and signed in (a session cookie: one more read per request), page
1 and a later page. Prints one line per case and a JSON summary.

    .venv/bin/python -m benchmarks.web_page [--requests 300]

The target (issue #17): under 50 ms. Results are in docs/performance.md ("Web pages").
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.stats import median, percentile
from tests.harness.live_server import LiveServer, max_upload_size, server_env
from tests.integration.pypi.distributions import core_metadata, write_wheel

PROJECT, PACKAGE = "bench", "page-bench"
RELEASES, TAGS = 100, ("py3-none-any", "py2.py3-none-any", "py3-none-linux_x86_64",
                       "py3-none-macosx_11_0_arm64", "py3-none-win_amd64")  # fmt: skip
README = "# page-bench\n\nA package with **500 files**.\n\n" + "Some text. " * 200


def publish(server: LiveServer, dist: Path) -> int:
    count = 0
    with httpx.Client(
        base_url=server.url, auth=(server.admin_user, server.admin_password), timeout=60
    ) as admin:
        admin.post("/api/v1/projects", json={"name": PROJECT}).raise_for_status()
        for minor in range(RELEASES):
            version = f"1.{minor}"
            head = core_metadata(PACKAGE, version, ">=3.9").decode().rstrip("\n")
            metadata = f"{head}\nDescription-Content-Type: text/markdown\n\n{README}".encode()
            for tag in TAGS:
                built = write_wheel(dist, PACKAGE, version, metadata=metadata, payload=tag.encode())
                wheel = built.with_name(built.name.replace("py3-none-any", tag))
                built.rename(wheel)
                admin.post(
                    f"/pypi/{PROJECT}/",
                    data={":action": "file_upload", "name": PACKAGE, "version": version},
                    files={"content": (wheel.name, wheel.read_bytes())},
                ).raise_for_status()
                count += 1
    return count


def measure(client: httpx.Client, path: str, requests: int) -> dict[str, float | int | None]:
    for _ in range(20):  # warm: worker imports, SQLite page cache, rendered description
        client.get(path).raise_for_status()
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return {
        "p50_ms": round(median(times) or 0, 2),
        "p90_ms": round(percentile(times, 0.9) or 0, 2),
        "p99_ms": round(percentile(times, 0.99) or 0, 2),
        "bytes": len(response.content),
        "requests": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        env = server_env(
            data, database_url=f"sqlite:///{data / 'orchard.db'}", blob_store="filesystem",
            workers=2, max_upload_size=max_upload_size(),
        )  # fmt: skip
        server = LiveServer("sqlite-fs", env, data, 2, max_upload_size(), "", None)
        server.start()
        try:
            files = publish(server, Path(tmp) / "dist")
            path = f"/projects/{PROJECT}/{PACKAGE}"
            results = {"files": files}
            with httpx.Client(base_url=server.url, timeout=60) as anonymous:
                results["anonymous, page 1"] = measure(anonymous, path, args.requests)
                results["anonymous, page 7"] = measure(anonymous, f"{path}?page=7", args.requests)
            with httpx.Client(base_url=server.url, timeout=60) as signed_in:
                signed_in.post(
                    "/api/v1/auth/login",
                    json={"username": server.admin_user, "password": server.admin_password},
                ).raise_for_status()
                results["admin session, page 1"] = measure(signed_in, path, args.requests)
        finally:
            server.stop()
    for case, figures in results.items():
        print(f"{case}: {figures}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
