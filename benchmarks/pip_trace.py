"""pip against Orchard, devpi and nginx, per request (issue #19).

    .venv/bin/python -m benchmarks.pip_trace --trace            # one traced run of each
    .venv/bin/python -m benchmarks.pip_trace --rounds 9         # alternated timings
    .venv/bin/python -m benchmarks.pip_trace --before /tmp/pip-before --rounds 9 \\
        --servers before,orchard                                 # an A/B of two trees

The servers get the files the pip scenarios of ``make bench`` read (50 filler packages,
``app`` and its ten dependencies, the 200 MB wheel), from the same ``benchmarks.servers``
helpers. ``--trace`` puts a logging proxy in front of each server and runs each pip
command once through it: per request the method, path, status, the headers that change
what pip does, the bytes, the time to the response's first byte (the server's time, as
the proxy sees it) and to its last, and pip's pause before the next request. Without
``--trace`` pip talks to the servers directly, the contenders alternate (A B, B A, ...)
and each run records pip's wall time, pip's CPU (its rusage) and the server tree's CPU
(``/proc/<pid>/stat`` of the server and its children).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks import pypi_data
from benchmarks.proc_cpu import tree_cpu
from benchmarks.record import alternate
from benchmarks.scenarios_pypi import PIP_ENV
from benchmarks.servers import Devpi, Nginx, Orchard
from benchmarks.util import VENV_BIN, WORK

KEPT = ("content-type", "content-length", "transfer-encoding", "content-encoding")
KEPT += ("connection", "cache-control", "etag", "vary", "location", "keep-alive")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pip(args: list[str]) -> None:
    argv = [str(VENV_BIN / "pip"), "--disable-pip-version-check", "--no-cache-dir", *args]
    subprocess.run(argv, check=True, env=PIP_ENV, capture_output=True)


def scenarios(work: Path) -> dict:
    names = [f"filler-{i:04d}" for i in range(50)]

    def download50(url: str) -> None:
        target = work / "pip-download"
        shutil.rmtree(target, ignore_errors=True)
        pip(["download", "--no-deps", "-d", str(target), "-i", url, *names])

    def install(url: str) -> None:
        venv = work / "pip-install-venv"
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        pip(["--python", str(venv / "bin" / "python"), "install", "-i", url, "app"])

    def bigwheel(url: str) -> None:
        target = work / "pip-big"
        shutil.rmtree(target, ignore_errors=True)
        pip(["download", "--no-deps", "-d", str(target), "-i", url, "bigwheel==1.0"])

    return {"download50": download50, "install": install, "bigwheel": bigwheel}


# -- the logging proxy ------------------------------------------------------------------


class Proxy:
    """HTTP/1.1 on loopback, one upstream connection per client connection (keep-alive
    is mirrored), every exchange logged with its times."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.log: list[dict] = []
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0, limit=1 << 20)
        )
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader, writer) -> None:
        self.connections += 1
        conn = self.connections
        up_reader, up_writer = await asyncio.open_connection(
            "127.0.0.1", self.upstream_port, limit=1 << 20
        )
        last_end = None
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                t_request = time.perf_counter()
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                method, path = line.split(" ")[:2]
                up_writer.write(head)
                await up_writer.drain()
                response = await up_reader.readuntil(b"\r\n\r\n")
                t_first = time.perf_counter()
                status_line, *lines = response.decode("latin-1").split("\r\n")
                status = int(status_line.split(" ")[1])
                headers = {}
                for header in lines:
                    if ":" in header:
                        key, value = header.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                writer.write(response)
                size = await self._body(method, status, headers, up_reader, writer)
                await writer.drain()
                t_end = time.perf_counter()
                self.log.append(
                    {
                        "conn": conn,
                        "method": method,
                        "path": path,
                        "status": status,
                        "bytes": size,
                        "headers": {k: v for k, v in headers.items() if k in KEPT},
                        "ttfb_ms": (t_first - t_request) * 1e3,
                        "total_ms": (t_end - t_request) * 1e3,
                        "pause_ms": None if last_end is None else (t_request - last_end) * 1e3,
                        "request_head": head.decode("latin-1"),
                    }
                )
                last_end = t_end
                if headers.get("connection", "").lower() == "close":
                    return
        finally:
            writer.close()
            up_writer.close()

    async def _body(self, method, status, headers, up_reader, writer) -> int:
        if method == "HEAD" or status in (204, 304) or status < 200:
            return 0
        if "content-length" in headers:
            left = int(headers["content-length"])
            size = left
            while left:
                data = await up_reader.read(min(left, 1 << 20))
                if not data:
                    break
                left -= len(data)
                writer.write(data)
                await writer.drain()
            return size
        if headers.get("transfer-encoding", "").lower() == "chunked":
            size = 0
            while True:
                line = await up_reader.readuntil(b"\r\n")
                writer.write(line)
                length = int(line.split(b";")[0], 16)
                data = await up_reader.readexactly(length + 2)
                writer.write(data)
                size += length
                if length == 0:
                    break
            return size
        data = await up_reader.read()  # until close
        writer.write(data)
        return len(data)


# -- servers ----------------------------------------------------------------------------


def start_servers(names: list[str], work: Path, before: str | None) -> dict:
    groups = pypi_data.build(WORK / "dists", 1, 200)
    files = groups["filler"][:50] + groups["deps"] + groups["bigwheel-r0"]
    servers = {}
    for name in names:
        if name == "orchard":
            server = Orchard("orchard", work / "orchard", {})
        elif name == "before":
            server = Orchard("before", work / "before", {}, source=before)
        elif name == "devpi":
            server = Devpi("devpi", work / "devpi")
        elif name in ("nginx", "nginx-plain"):  # the plain one has no PEP 658 files
            root = work / f"static-{name}"
            pypi_data.static_index(root, files, metadata=name == "nginx")
            server = Nginx(name, work / name, root)
        else:
            raise SystemExit(f"unknown server {name}")
        server.start()
        servers[name] = server
        if not name.startswith("nginx"):
            pypi_data.fill(server, files)
    return servers


def trace(servers: dict, runs: dict, out: Path) -> None:
    report = {}
    for name, server in servers.items():
        proxy = Proxy(server.port)
        url = server.simple_url.replace(f":{server.port}/", f":{proxy.port}/")
        for scenario, run in runs.items():
            proxy.log.clear()
            proxy.connections = 0
            started = time.perf_counter()
            run(url)
            seconds = time.perf_counter() - started
            time.sleep(0.2)
            report[f"{name} {scenario}"] = {
                "seconds": seconds,
                "connections": proxy.connections,
                "requests": list(proxy.log),
            }
            summarize(f"{name} {scenario}", seconds, proxy.connections, proxy.log)
    out.write_text(json.dumps(report, indent=1))
    print("wrote", out)


def kind(path: str) -> str:
    if path.endswith(".metadata"):
        return "metadata"
    if path.endswith(".whl") or "/+f/" in path or "/files/" in path or "/packages/" in path:
        return "file"
    if path.rstrip("/").endswith("simple"):
        return "root"
    return "page"


def summarize(label: str, seconds: float, connections: int, log: list[dict]) -> None:
    print(f"\n== {label}: {seconds:.2f} s, {len(log)} requests, {connections} connection(s)")
    by_kind: dict[tuple, list[dict]] = {}
    for entry in log:
        by_kind.setdefault((kind(entry["path"]), entry["status"]), []).append(entry)
    for (what, status), entries in sorted(by_kind.items()):
        ttfb = statistics.median(e["ttfb_ms"] for e in entries)
        total = statistics.median(e["total_ms"] for e in entries)
        pauses = [e["pause_ms"] for e in entries if e["pause_ms"] is not None]
        pause = statistics.median(pauses) if pauses else 0
        size = statistics.median(e["bytes"] for e in entries)
        print(
            f"  {what:9} {status} x{len(entries):3}: ttfb {ttfb:6.2f} ms, total {total:7.2f} ms, "
            f"pip's pause before {pause:6.2f} ms, {size:9.0f} B; sum ttfb "
            f"{sum(e['ttfb_ms'] for e in entries):7.1f} ms, sum total "
            f"{sum(e['total_ms'] for e in entries):7.1f} ms"
        )
        print(f"            e.g. {entries[0]['path']} {entries[0]['headers']}")
    if log:
        print("  first request head:", log[0]["request_head"].replace("\r\n", " | ")[:400])


def timings(servers: dict, runs: dict, rounds: int) -> None:
    for scenario, run in runs.items():

        def contender(server, run=run):
            def once(i: int) -> dict:
                cpu0, server0 = children_cpu(), tree_cpu(server.pid).total
                started = time.perf_counter()
                run(server.simple_url)
                seconds = time.perf_counter() - started
                return {
                    "seconds": seconds,
                    "pip_cpu": children_cpu() - cpu0,
                    "server_cpu": tree_cpu(server.pid).total - server0,
                }

            return once

        load0 = os.getloadavg()[0]
        results = alternate({n: contender(s) for n, s in servers.items()}, rounds)
        load1 = os.getloadavg()[0]
        print(f"\n== {scenario}, {rounds} alternated rounds, load average {load0:.2f}-{load1:.2f}")
        for name, entries in results.items():
            ok = [e for e in entries if "seconds" in e]
            line = ", ".join(
                f"{key} {statistics.median(e[key] for e in ok):.3f}"
                for key in ("seconds", "pip_cpu", "server_cpu")
            )
            raw = " ".join(f"{e['seconds']:.2f}" for e in ok)
            print(f"  {name:8} median {line}  (s: {raw})", flush=True)


def replay(servers: dict, runs: dict, rounds: int, pause: float) -> None:
    """pip's requests again, from a sequential keep-alive client with ``pause`` seconds
    between them (pip's own work): latency per request and the server's CPU per request,
    measures the neighbours' load moves less than pip's wall time."""
    import http.client

    recorded = {}
    for name, server in servers.items():
        proxy = Proxy(server.port)
        for run in runs.values():
            run(server.simple_url.replace(f":{server.port}/", f":{proxy.port}/"))
        requests = []
        for entry in proxy.log:
            lines = entry["request_head"].split("\r\n")[1:]
            headers = dict(line.split(": ", 1) for line in lines if ": " in line)
            headers.pop("Host", None)
            requests.append((entry["method"], entry["path"], headers))
        recorded[name] = requests

    def contender(server, requests):
        def once(i: int) -> dict:
            conn = http.client.HTTPConnection("127.0.0.1", server.port)
            latencies = []
            cpu0 = tree_cpu(server.pid).total
            for method, path, headers in requests:
                started = time.perf_counter()
                conn.request(method, path, headers=headers)
                response = conn.getresponse()
                response.read()
                latencies.append(time.perf_counter() - started)
                time.sleep(pause)
            cpu = tree_cpu(server.pid).total - cpu0
            conn.close()
            return {
                "latency_ms": statistics.median(latencies) * 1e3,
                "server_cpu_ms": cpu / len(requests) * 1e3,
            }

        return once

    load0 = os.getloadavg()[0]
    results = alternate({n: contender(s, recorded[n]) for n, s in servers.items()}, rounds)
    load1 = os.getloadavg()[0]
    print(f"\n== replay, {rounds} rounds, pause {pause * 1e3:.0f} ms, load {load0:.2f}-{load1:.2f}")
    for name, entries in results.items():
        print(
            f"  {name:8} {len(recorded[name])} requests: median latency "
            f"{statistics.median(e['latency_ms'] for e in entries):.3f} ms, server CPU "
            f"{statistics.median(e['server_cpu_ms'] for e in entries):.3f} ms a request  "
            f"(latency: {' '.join(format(e['latency_ms'], '.2f') for e in entries)})",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pip_trace")
    parser.add_argument("--servers", default="orchard,devpi,nginx")
    parser.add_argument("--before", help="another source tree, served as 'before'")
    parser.add_argument("--scenarios", default="download50,install,bigwheel")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--replay", action="store_true", help="pip's requests, replayed")
    parser.add_argument("--pause-ms", type=float, default=2.0)
    parser.add_argument("--out", default=str(WORK / "pip-trace.json"))
    args = parser.parse_args(argv)
    work = WORK / "pip-trace"
    shutil.rmtree(work, ignore_errors=True)
    every = scenarios(work)
    runs = {name: every[name] for name in args.scenarios.split(",")}
    servers: dict = {}
    try:
        servers = start_servers(args.servers.split(","), work, args.before)
        for run in runs.values():  # warm every server and the page cache once
            for server in servers.values():
                run(server.simple_url)
        if args.trace:
            trace(servers, runs, Path(args.out))
        elif args.replay:
            replay(servers, runs, args.rounds, args.pause_ms / 1e3)
        else:
            timings(servers, runs, args.rounds)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
