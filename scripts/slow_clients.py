"""Measure how trickling clients change the latency of /health and small requests.

Opens N connections to a live Orchard on this machine and trickles one byte a second on
each, in the request head (``header``: a header line that never ends) or in a body
(``body``: a login whose declared 64 KiB body arrives a byte a second). A connection the
server closes is opened again at once, so the pressure stays at N. Meanwhile one client
asks ``/health`` and ``GET /api/v1/projects`` in turn, each on a new connection, and the
script prints one JSON line: latency percentiles, the slowest answer and the failures.

Either point it at a running server (``--url``, loopback only: a server you started, or a
front proxy such as nginx) or let it start ``orchard serve`` (SQLite + filesystem) with
extra settings (``--env ORCHARD_THREADS=16``, ``--gunicorn-args "--threads 16"``)::

    .venv/bin/python scripts/slow_clients.py --trickle header --connections 128
    .venv/bin/python scripts/slow_clients.py --trickle body --connections 128 \
        --env ORCHARD_HEADER_TIMEOUT=10
    .venv/bin/python scripts/slow_clients.py --url http://127.0.0.1:8081 --trickle header

It is a measurement, bounded in connections (1,024), time (300 s) and address (loopback);
docs/operations.md records its figures per configuration.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.live_server import LiveServer, server_env

MAX_CONNECTIONS = 1024
MAX_SECONDS = 300


def heads(trickle: str, host: str) -> tuple[bytes, bytes]:
    """What a trickler sends at once, and the endless bytes it then sends one by one."""
    if trickle == "header":
        return f"GET /health HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode(), b"a"
    head = (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n"
    )
    return head.encode(), b" "


class Tricklers:
    """N connections, one byte a second each, reopened when the server closes one."""

    def __init__(self, address: tuple[str, int], trickle: str, count: int) -> None:
        self._address = address
        self._head, self._byte = heads(trickle, f"{address[0]}:{address[1]}")
        self._count = count
        self._socks: list[socket.socket | None] = [None] * count
        self._stop = threading.Event()
        self.reopened = 0
        self.refused = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Tricklers:
        for i in range(self._count):
            self._socks[i] = self._open()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self._socks:
            if sock is not None:
                sock.close()

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(self._address, timeout=5)
            sock.sendall(self._head)
            sock.setblocking(False)
            return sock
        except OSError:
            self.refused += 1
            return None

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for i, sock in enumerate(self._socks):
                if self._stop.is_set():
                    return
                if sock is None or not self._send(sock):
                    if sock is not None:
                        sock.close()
                        self.reopened += 1
                    self._socks[i] = self._open()

    def _send(self, sock: socket.socket) -> bool:
        try:
            if sock.recv(4096) is not None:  # the server answered (408, 413): it closes
                return False
        except BlockingIOError:
            pass
        except OSError:
            return False
        try:
            return sock.send(self._byte) == 1
        except OSError:
            return False


def probe(url: str, seconds: float) -> dict[str, object]:
    """Small requests in turn, each on a new connection, for ``seconds``."""
    latencies, failures = [], 0
    paths = ("/health", "/api/v1/projects")
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            response = httpx.get(url + paths[i % 2], timeout=10)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        elapsed = time.monotonic() - start
        if ok:
            latencies.append(elapsed)
        else:
            failures += 1
        i += 1
        time.sleep(max(0.0, 0.2 - elapsed))
    latencies.sort()
    pick = lambda q: round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))])  # noqa: E731
    return {
        "requests": len(latencies) + failures,
        "failed": failures,
        "p50_ms": pick(0.5) if latencies else None,
        "p95_ms": pick(0.95) if latencies else None,
        "max_ms": round(1000 * latencies[-1]) if latencies else None,
        "over_1s": sum(1 for x in latencies if x > 1.0) + failures,
        "mean_ms": round(1000 * statistics.fmean(latencies)) if latencies else None,
    }


def loopback(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = "127.0.0.1" if host == "localhost" else host
    if not ipaddress.ip_address(address).is_loopback:
        raise SystemExit(f"{url}: only servers on this machine (loopback) are measured")
    return address, parts.port or 80


def start_server(root: Path, env_pairs: list[str], gunicorn_args: str) -> LiveServer:
    extra = dict(pair.split("=", 1) for pair in env_pairs)
    if gunicorn_args:
        extra["GUNICORN_CMD_ARGS"] = gunicorn_args
    workers = int(extra.get("ORCHARD_WORKERS", "4"))
    env = server_env(
        root,
        database_url=f"sqlite:///{root / 'orchard.db'}",
        blob_store="filesystem",
        workers=workers,
        max_upload_size=1024**3,
        extra={"ORCHARD_THREADS": "8", **extra},
    )
    server = LiveServer("slow-clients", env, root, workers, 1024**3, "", None)
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trickle", choices=("header", "body"), default="header")
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=30, help="how long to probe")
    parser.add_argument("--url", help="a running server on loopback (default: start one)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--gunicorn-args", default="", help="GUNICORN_CMD_ARGS for the server")
    args = parser.parse_args()
    if not 0 < args.connections <= MAX_CONNECTIONS or not 0 < args.seconds <= MAX_SECONDS:
        raise SystemExit(f"at most {MAX_CONNECTIONS} connections and {MAX_SECONDS} s")
    with tempfile.TemporaryDirectory() as tmp:
        server = None if args.url else start_server(Path(tmp), args.env, args.gunicorn_args)
        url = server.url if server is not None else args.url
        try:
            with Tricklers(loopback(url), args.trickle, args.connections) as tricklers:
                time.sleep(3)  # let them take whatever they take
                figures = probe(url, args.seconds)
            result = {
                "trickle": args.trickle,
                "connections": args.connections,
                "server": args.url or {"env": args.env, "gunicorn_args": args.gunicorn_args},
                **figures,
                "trickler_reopened": tricklers.reopened,
                "trickler_refused": tricklers.refused,
            }
            print(json.dumps(result))
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
