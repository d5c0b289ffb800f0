"""Requests per second and latency percentiles of one URL at a given concurrency.

wrk when it is installed (a C client: it leaves the CPU to the server); otherwise a
threaded Python client, which is slower and says so in the result (``tool``).
"""

from __future__ import annotations

import http.client
import re
import shutil
import threading
import time
from urllib.parse import urlsplit

from benchmarks.stats import percentile
from benchmarks.util import run

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def measure(url: str, connections: int, seconds: int = 8) -> dict:
    if shutil.which("wrk"):
        return _wrk(url, connections, seconds)
    return _python_client(url, connections, seconds)


def _wrk(url: str, connections: int, seconds: int) -> dict:
    threads = min(2, connections)
    out = run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {}
    for label in ("50", "99"):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        latency[label] = float(match.group(1)) * _UNITS[match.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "tool": "wrk",
    }


def _python_client(url: str, connections: int, seconds: int) -> dict:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            errors[0] += response.status >= 400

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": 1000 * (percentile(latencies, 0.5) or 0),
        "p99_ms": 1000 * (percentile(latencies, 0.99) or 0),
        "errors": errors[0],
        "tool": "python threads",
    }
