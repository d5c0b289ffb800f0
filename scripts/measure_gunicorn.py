"""Measure gunicorn settings for Orchard's two hard cases: big uploads and slow clients.

Starts a real ``orchard serve`` (SQLite + filesystem, like the test harness) with the
gunicorn settings given on the command line (through ``GUNICORN_CMD_ARGS``, which wins
over the config file), then runs one scenario and prints one JSON line of figures:

``bulk``  N concurrent uploads of SIZE bytes while 16 clients download a 1 KiB artifact
          in a loop: upload wall time and throughput, download latency and errors.
``slow``  C clients each trickle an upload for SECONDS (64 KiB a second) while 16 clients
          download in a loop: did the slow uploads survive, were the others served.

    .venv/bin/python scripts/measure_gunicorn.py bulk --worker-class gthread --workers 2 \
        --threads 8
    .venv/bin/python scripts/measure_gunicorn.py slow --worker-class sync --workers 4 \
        --slow-clients 4 --timeout 30

The results and the settings they led to are in docs/operations.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import (
    BOUNDARY,
    SeededContent,
    create_package,
    create_project,
    login,
    multipart_content_type,
    raw_request,
    request_head,
    unique_name,
    upload_test_file,
)
from tests.harness.live_server import LiveServer, server_env

SMALL = b"x" * 1024
DOWNLOADERS = 16


def start_server(args: argparse.Namespace, root: Path) -> LiveServer:
    gunicorn_args = f"--worker-class {args.worker_class} --workers {args.workers}"
    gunicorn_args += f" --threads {args.threads} --timeout {args.timeout}"
    env = server_env(
        root,
        database_url=f"sqlite:///{root / 'orchard.db'}",
        blob_store="filesystem",
        workers=args.workers,
        max_upload_size=4 * 1024**3,
        extra={"GUNICORN_CMD_ARGS": gunicorn_args},
    )
    server = LiveServer("measure", env, root, args.workers, 4 * 1024**3, "", None)
    server.start()
    return server


class Downloaders:
    """16 clients fetching a small artifact in a loop until told to stop."""

    def __init__(self, url: str, path: str) -> None:
        self.url, self.path = url, path
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop) for _ in range(DOWNLOADERS)]

    def __enter__(self) -> Downloaders:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _loop(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    status = client.get(self.path).status_code
                except httpx.HTTPError as error:
                    self.errors.append(type(error).__name__)
                    continue
                if status != 200:
                    self.errors.append(str(status))
                self.latencies.append(time.monotonic() - began)

    def figures(self) -> dict[str, object]:
        ordered = sorted(self.latencies) or [0.0]
        return {
            "downloads": len(self.latencies),
            "download_errors": len(self.errors),
            "download_p50_ms": round(statistics.median(ordered) * 1000, 1),
            "download_p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
            "download_max_ms": round(ordered[-1] * 1000, 1),
        }


def bulk(server: LiveServer, client: httpx.Client, path: tuple[str, str], args) -> dict:
    project, package = path
    results: dict[int, tuple[int, float]] = {}

    def upload(seed: int) -> None:
        content = SeededContent(args.size, seed=seed + int(time.time()))
        began = time.monotonic()
        response = client.post(
            f"/api/v1/project/{project}/{package}/upload",
            files={"file": (f"big-{seed}.bin", content.open(), "application/octet-stream")},
        )
        results[seed] = (response.status_code, time.monotonic() - began)

    uploads = [threading.Thread(target=upload, args=(i,)) for i in range(args.uploads)]
    began = time.monotonic()
    with Downloaders(server.url, f"/api/v1/project/{project}/{package}/+/small") as loaders:
        for thread in uploads:
            thread.start()
        for thread in uploads:
            thread.join()
    wall = time.monotonic() - began
    return {
        "upload_statuses": sorted(status for status, _ in results.values()),
        "upload_seconds_max": round(max(s for _, s in results.values()), 1),
        "upload_mib_per_s_total": round(args.uploads * args.size / 2**20 / wall, 1),
        **loaders.figures(),
    }


def trickle(content: bytes, seconds: int, pause: float = 1.0) -> Iterator[bytes]:
    """A multipart body whose file part arrives 64 KiB a second."""
    dash = b"--" + BOUNDARY.encode()
    yield dash + b'\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n'
    step = len(content) // seconds
    for i in range(seconds):
        yield content[i * step : (i + 1) * step if i < seconds - 1 else len(content)]
        time.sleep(pause)
    yield b"\r\n" + dash + b"--\r\n"


def slow(server: LiveServer, client: httpx.Client, path: tuple[str, str], args) -> dict:
    project, package = path
    statuses: list[int | None] = []
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    def one(i: int) -> None:
        content = f"slow client {i} ".encode() * (args.seconds * 65536 // 16)
        length = sum(len(part) for part in trickle(content, args.seconds, pause=0))
        head = request_head(
            server.url,
            "POST",
            f"/api/v1/project/{project}/{package}/upload",
            {"Content-Type": multipart_content_type(), "Cookie": cookie},
            length,
        )
        body = trickle(content, args.seconds)
        response = raw_request(server.url, head, body, timeout=args.seconds * 3)
        statuses.append(response.status_code)

    clients = [threading.Thread(target=one, args=(i,)) for i in range(args.slow_clients)]
    with Downloaders(server.url, f"/api/v1/project/{project}/{package}/+/small") as loaders:
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
    return {"slow_upload_statuses": statuses, **loaders.figures()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=("bulk", "slow"))
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=int, default=30)
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--size", type=int, default=200 * 2**20)
    parser.add_argument("--slow-clients", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchard-measure-") as tmp:
        server = start_server(args, Path(tmp))
        try:
            with login(server.url, server.admin_user, server.admin_password, 600) as client:
                project, package = unique_name("m"), unique_name("p")
                create_project(client, project)
                create_package(client, project, package)
                upload_test_file(client, project, package, SMALL, "small.bin", tag="small")
                run = bulk if args.scenario == "bulk" else slow
                figures = run(server, client, (project, package), args)
            killed = server.log_text().count("WORKER TIMEOUT")
        finally:
            server.stop()
    settings = {k: v for k, v in vars(args).items() if k != "size"}
    figures["worker_timeouts"] = killed
    print(json.dumps({**settings, "size_mib": args.size >> 20, **figures}))


if __name__ == "__main__":
    main()
