"""Issue #16: Orchard's upstream cache beside devpi-server mirroring the same upstream.

The upstream is nginx serving a static PEP 503 tree (``pypi_data.static_index``) of
``app-rN`` with its ten dependencies ``dep-rN-00``..``09`` (a fresh set per round, so each
round's first install meets a cold cache) and ``wide``: one project of 5,000 wheels.
Contenders: Orchard (SQLite + filesystem, ``ORCHARD_UPSTREAM_URL`` at nginx) and devpi
(an index of ``type=mirror`` whose ``mirror_url`` is nginx).

- ``pip install app-rN`` into a fresh venv with ``--no-cache-dir``: cold (the first time
  either server sees those names) and warm (the same again);
- ``/simple/wide/``: the first request (fetch, parse, store, render) and then 200
  sequential requests on one keep-alive connection (p50, p95).

Run alone with ``python -m benchmarks.scenarios_upstream [--rounds N]``; ``make bench``
runs it after the PyPI scenarios.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks import dists, pypi_data
from benchmarks.record import Recorder, alternate
from benchmarks.scenarios_pypi import _pip
from benchmarks.servers import Devpi, Nginx, Orchard
from benchmarks.stats import percentile
from benchmarks.util import WORK, run

WIDE_FILES = 5000
PAGE_REQUESTS = 200
ORCHARD = "orchard (upstream cache)"
DEVPI = "devpi (mirror)"


class DevpiMirror(Devpi):
    """devpi-server whose ``root/mirror`` index mirrors ``upstream`` (a simple index)."""

    def __init__(self, name: str, workdir: Path, upstream: str) -> None:
        super().__init__(name, workdir)
        self.upstream = upstream

    def create_index(self, client: list[str]) -> None:
        run([*client, "index", "-c", "root/mirror", "type=mirror", f"mirror_url={self.upstream}"])
        self.index_path = "/root/mirror/"

    @property
    def simple_url(self) -> str:
        return f"{self.base}/root/mirror/+simple/"


def data(root: Path, rounds: int) -> list[Path]:
    """The upstream's wheels (made once, reused by later runs)."""
    files: list[Path] = []
    for r in range(rounds):
        directory = root / f"upstream-deps-r{r}"
        if not (directory / ".done").exists():
            directory.mkdir(parents=True, exist_ok=True)
            names = [f"dep-r{r}-{i:02d}" for i in range(10)]
            for name in names:
                dists.wheel(directory, name, "1.0")
            dists.wheel(directory, f"app-r{r}", "1.0", requires=tuple(names))
            (directory / ".done").touch()
        files += sorted(directory.glob("*.whl"))
    wide = root / f"upstream-wide-{WIDE_FILES}"
    if not (wide / ".done").exists():
        wide.mkdir(parents=True, exist_ok=True)
        for i in range(WIDE_FILES):
            dists.wheel(wide, "wide", f"{i // 100}.{i % 100}", payload_size=16)
        (wide / ".done").touch()
    return files + sorted(wide.glob("*.whl"))


def run_all(rec: Recorder, work: Path, rounds: int) -> None:
    print("upstream cache (issue #16)", flush=True)
    static = work / "upstream-static"
    pypi_data.static_index(static, data(WORK / "dists", rounds))
    with contextlib.ExitStack() as stack:
        upstream = Nginx("nginx (upstream)", work / "nginx-upstream", static)
        upstream.start()
        stack.callback(upstream.stop)
        contenders = {
            ORCHARD: Orchard(
                ORCHARD, work / "orchard-upstream", {"ORCHARD_UPSTREAM_URL": upstream.simple_url}
            ),
            DEVPI: DevpiMirror(DEVPI, work / "devpi-mirror", upstream.simple_url),
        }
        for server in contenders.values():
            server.start()
            stack.callback(server.stop)
        rec.data["versions"][DEVPI] = contenders[DEVPI].version
        installs(rec, contenders, rounds, work)
        wide_page(rec, contenders)


def installs(rec: Recorder, contenders: dict, rounds: int, work: Path) -> None:
    def install(server):
        def once(index: int) -> dict:
            return {
                kind: _install(server, f"app-r{index}", work / "upstream-venv")
                for kind in ("cold", "warm")
            }

        return once

    rec.note_load()
    runs = alternate({name: install(server) for name, server in contenders.items()}, rounds)
    values = {}
    for kind in ("cold", "warm"):
        scenario = f"pip install app (10 deps) via upstream, {kind}"
        values[kind] = {
            name: rec.add(scenario, name, "seconds", result, kind) for name, result in runs.items()
        }
    ours, theirs = values["warm"][ORCHARD], values["warm"][DEVPI]
    if ours is not None and theirs is not None:
        rec.target("#16", "warm-cache pip install at least as fast as devpi's warm mirror",
                   f"{ours:.2f} s vs {theirs:.2f} s", ours <= theirs)  # fmt: skip


def _install(server, project: str, venv: Path) -> float:
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    return _pip(["--python", python, "install", "-i", server.simple_url, project])


def wide_page(rec: Recorder, contenders: dict) -> None:
    rec.note_load()
    for name, server in contenders.items():
        result = _page_latencies(f"{server.simple_url}wide/")
        rec.add("/simple/wide/ (5,000 upstream files), first", name, "ms", [result], "first_ms")
        rec.add("/simple/wide/ (5,000 upstream files), cached", name, "p50 ms", [result], "p50_ms")
        p95 = rec.add(
            "/simple/wide/ (5,000 upstream files), cached", name, "p95 ms", [result], "p95_ms"
        )
        if name == ORCHARD and p95 is not None:
            rec.target("#16", "cached 5,000-file upstream page under 50 ms p95",
                       f"{p95:.1f} ms", p95 < 50)  # fmt: skip


def _page_latencies(url: str) -> dict:
    """The first GET, then sequential GETs on one keep-alive connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    times = []
    for _ in range(PAGE_REQUESTS + 1):
        started = time.perf_counter()
        connection.request("GET", parts.path, headers={"Accept": "text/html"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    connection.close()
    cached = times[1:]
    return {
        "first_ms": round(times[0], 1),
        "p50_ms": round(percentile(cached, 0.5), 1),
        "p95_ms": round(percentile(cached, 0.95), 1),
    }


def main(argv: list[str] | None = None) -> None:
    from benchmarks import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenarios_upstream")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="upstream-", dir=WORK))
    work.chmod(0o755)  # nginx's workers must traverse it
    rec = Recorder(machine.describe())
    try:
        run_all(rec, work, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for row in rec.data["rows"]:
        print(f"| {row['scenario']} | {row['server']} | {row['metric']} | {row['median']} |")
    for target in rec.data["targets"]:
        print(f"target {target['target']}: {target['measured']} met={target['met']}")


if __name__ == "__main__":
    main()
