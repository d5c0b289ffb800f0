"""PyPI scenarios: twine uploads, index pages under load, pip download and pip install.

Every server gets the same files. Orchard's index is required; when it does not answer
``GET /simple/`` the whole section is skipped with the reason.

nginx serves two static copies of the index: "nginx (static)" has the PEP 658/714
metadata files Orchard advertises (the same index, the floor the targets are judged
against); "nginx (static, no PEP 658)", a second nginx, has none, so pip fetches one URL
less per file from it. The second only runs the pip scenarios, where that URL counts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import load, pypi_data
from benchmarks.record import Recorder, alternate
from benchmarks.rss import TreeSampler
from benchmarks.servers import Devpi, Nginx, PypiServer
from benchmarks.stats import mb_per_s
from benchmarks.targets import EMBEDDED, NGINX, NGINX_PLAIN, S3
from benchmarks.util import VENV_BIN, WORK, run


def orchard_index_problem(orchard) -> str | None:
    try:
        with urllib.request.urlopen(orchard.simple_url, timeout=10) as response:  # noqa: S310
            return None if response.status == 200 else f"GET /simple/ answered {response.status}"
    except (urllib.error.URLError, OSError) as error:
        return f"Orchard's index does not answer GET /simple/ yet: {error}"


def run_all(
    rec: Recorder, orchard, nginx, static_root: Path, work: Path, args, production=None
) -> None:
    """``production``: the PostgreSQL + S3 Orchard, when it runs. It joins the reading
    scenarios (index pages, pip download and install) with the same index, not the
    uploads: twine and the 200 MB wheel through moto would add minutes and say more
    about moto than about Orchard."""
    problem = orchard_index_problem(orchard)
    if problem:
        rec.skip(f"PyPI scenarios: {problem}")
        return
    print("PyPI index", flush=True)
    rounds = args.rounds
    groups = pypi_data.build(WORK / "dists", rounds, 20 if args.quick else 200)
    servers = {EMBEDDED: orchard}
    with contextlib.ExitStack() as stack:
        for peer in (PypiServer("pypiserver", work / "pypiserver"), Devpi("devpi", work / "devpi")):
            servers[peer.name] = peer
            stack.callback(peer.stop)
            peer.start()
            rec.data["versions"][peer.name] = peer.version
        floors = {}
        if nginx is not None:
            statics = groups["filler"] + groups["deps"] + groups["twine-seq-r0"]
            statics += groups["bigwheel-r0"]
            pypi_data.static_index(static_root, statics)
            plain_root = work / "static-plain"
            pypi_data.static_index(plain_root, statics, metadata=False)
            plain = Nginx(NGINX_PLAIN, work / "nginx-plain", plain_root)
            stack.callback(plain.stop)
            plain.start()
            floors = {NGINX: nginx, NGINX_PLAIN: plain}
        _scenarios(rec, servers, floors, groups, rounds, args.quick, work, production)


def _scenarios(rec, servers, floors, groups, rounds, quick, work, production) -> None:
    background = groups["filler"] + groups["deps"]
    for server in servers.values():
        _fill(server, background)
    twine_uploads(rec, servers, groups, min(rounds, 2))  # devpi takes ~45 s a round
    extra = {}
    if production is not None:
        _fill(production, background + groups["twine-seq-r0"])  # the 200-file page too
        extra[production.name] = production
    readers = dict(servers)
    if NGINX in floors:
        readers[NGINX] = floors[NGINX]
    pip_readers = {**servers, **extra, **floors}
    index_pages(rec, readers | extra, 3 if quick else 6)
    pip_download(rec, pip_readers, groups["filler"][:50], rounds, work)
    pip_install(rec, pip_readers, rounds, work)
    big_wheel(rec, servers, readers, groups, rounds, work)
    root_with_5000_projects(rec, servers[EMBEDDED], 3 if quick else 6)


def _fill(server, files: list[Path]) -> None:
    started = time.perf_counter()
    pypi_data.fill(server, files)
    print(f"  filled {server.name} in {time.perf_counter() - started:.0f} s", flush=True)


def root_with_5000_projects(rec: Recorder, orchard, seconds: int) -> None:
    """Issue #4's figure: Orchard's root page once its index lists 5,000+ projects (the
    peers are compared at 1,000+ above: filling devpi with 5,000 would take ~12 minutes)."""
    started = time.perf_counter()
    pypi_data.fill(orchard, pypi_data.more_fillers(WORK / "dists"))
    print(
        f"  filled orchard to {pypi_data.ROOT_PROJECTS}+ projects in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    rec.note_load()
    runs = alternate({EMBEDDED: lambda i: load.measure(orchard.simple_url, 16, seconds)}, 2)
    scenario = f"/simple/ with {pypi_data.ROOT_PROJECTS}+ projects, 16 clients"
    for name, result in runs.items():
        rec.add(scenario, name, "req/s", result, "rps")
        rec.add(scenario, name, "p50 ms", result, "p50_ms")
        rec.add(scenario, name, "p99 ms", result, "p99_ms")


def _twine(server, files: list[Path]) -> float:
    user, password = server.auth
    argv = [
        str(VENV_BIN / "twine"),
        "upload",
        "--repository-url",
        server.upload_url,
        "-u",
        user,
        "-p",
        password,
        "--non-interactive",
        "--disable-progress-bar",
        *map(str, files),
    ]
    started = time.perf_counter()
    run(argv, timeout=1800)
    return time.perf_counter() - started


def twine_uploads(rec: Recorder, servers: dict, groups: dict, rounds: int) -> None:
    def sequential(server):
        return lambda i: {"seconds": _twine(server, groups[f"twine-seq-r{i}"])}

    def parallel(server):
        def upload(i: int) -> dict:
            files = groups[f"twine-par-r{i}"]
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda part: _twine(server, files[part::4]), range(4)))
            return {"seconds": time.perf_counter() - started}

        return upload

    for label, make in (("sequential", sequential), ("4 parallel", parallel)):
        rec.note_load()
        runs = alternate({n: make(s) for n, s in servers.items()}, rounds)
        scenario = f"twine upload 200 files, {label}"
        values = {n: rec.add(scenario, n, "seconds", r, "seconds") for n, r in runs.items()}
        _versus(rec, scenario, "seconds", values, "", "")


def _page_urls(server) -> dict[str, str]:
    return {"/simple/": server.simple_url, "/simple/<project>/": server.project_url("twine-seq-r0")}


# Three, not two: a p99 is the figure most moved by a neighbour's burst, and the median
# of two runs is their mean.
PAGE_ROUNDS = 3


def index_pages(rec: Recorder, readers: dict, seconds: int) -> None:
    for page in ("/simple/<project>/", "/simple/"):
        for connections in (1, 16):
            rec.note_load()
            runs = alternate(
                {
                    n: (
                        lambda i, s=s, p=page, c=connections: load.measure(
                            _page_urls(s)[p], c, seconds
                        )
                    )
                    for n, s in readers.items()
                },
                PAGE_ROUNDS,
            )
            scenario = f"{page} {connections} client{'s' if connections > 1 else ''}"
            values = {}
            for name, result in runs.items():
                values[name] = rec.add(scenario, name, "req/s", result, "rps")
                rec.add(scenario, name, "p50 ms", result, "p50_ms")
                rec.add(scenario, name, "p99 ms", result, "p99_ms")
            _versus(rec, scenario, "req/s", values, NGINX, "req/s vs nginx's")


def _pip(args: list[str]) -> float:
    argv = [str(VENV_BIN / "pip"), "--disable-pip-version-check", "--no-cache-dir", *args]
    started = time.perf_counter()
    run(argv, timeout=900, env=PIP_ENV)
    return time.perf_counter() - started


# Issue #19: two runs a day apart disagreed on who wins the pip rows with medians of 3.
PIP_ROUNDS = 9

# pip talks to the index under test only: a machine's pip.conf or PIP_* variables (extra
# indexes, find-links) would add the same lookups to every contender and blur the ratios.
PIP_ENV = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {
    "PIP_CONFIG_FILE": os.devnull
}


def pip_download(rec: Recorder, readers: dict, files: list[Path], rounds: int, work: Path):
    names = [path.name.split("-")[0].replace("_", "-") for path in files]

    def download(server):
        def once(i: int) -> dict:
            target = work / "pip-download"
            shutil.rmtree(target, ignore_errors=True)
            seconds = _pip(
                ["download", "--no-deps", "-d", str(target), "-i", server.simple_url, *names]
            )
            return {"seconds": seconds}

        return once

    rec.note_load()
    # ~1 s a run (pypiserver's 5): at least PIP_ROUNDS, for targets judged on a ratio of
    # two short timings.
    runs = alternate({n: download(s) for n, s in readers.items()}, max(PIP_ROUNDS, rounds * 2))
    _record_times(rec, "pip download 50 packages", runs)


def pip_install(rec: Recorder, readers: dict, rounds: int, work: Path) -> None:
    def install(server):
        def once(i: int) -> dict:
            venv = work / "pip-install-venv"
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            seconds = _pip(
                [
                    "--python",
                    str(venv / "bin" / "python"),
                    "install",
                    "-i",
                    server.simple_url,
                    "app",
                ]
            )
            return {"seconds": seconds}

        return once

    rec.note_load()
    runs = alternate({n: install(s) for n, s in readers.items()}, max(PIP_ROUNDS, rounds))
    _record_times(rec, "pip install app (10 deps), fresh venv", runs)


def _record_times(rec: Recorder, scenario: str, runs: dict) -> None:
    values = {
        name: rec.add(scenario, name, "seconds", result, "seconds") for name, result in runs.items()
    }
    _versus(rec, scenario, "seconds", values, NGINX, "time vs nginx's")


def _versus(rec: Recorder, scenario: str, metric: str, values: dict, ref: str, label: str):
    """Annotate Orchard's row with its ratio to ``ref``, and each peer's row with
    Orchard's ratio to it."""
    ours = values.get(EMBEDDED)
    if ref in values:
        rec.compare(rec.row(scenario, EMBEDDED, metric), ours, values[ref], f"{ref} ({label})")
    if ref in values and S3 in values:
        rec.compare(rec.row(scenario, S3, metric), values[S3], values[ref], f"{ref} ({label})")
    for name, value in values.items():
        if name not in (EMBEDDED, S3, ref):
            rec.compare(rec.row(scenario, name, metric), ours, value, "Orchard / this")


def big_wheel(rec: Recorder, servers: dict, readers: dict, groups: dict, rounds: int, work: Path):
    size = groups["bigwheel-r0"][0].stat().st_size

    def upload(server):
        def once(i: int) -> dict:
            with TreeSampler(server.pid) as sampler:
                seconds = _twine(server, groups[f"bigwheel-r{i}"])
            return {"mb_s": mb_per_s(size, seconds), "peak_rss_mib": sampler.peak.rss_mib}

        return once

    def download(server):
        def once(i: int) -> dict:
            target = work / "pip-big"
            shutil.rmtree(target, ignore_errors=True)
            with TreeSampler(server.pid) as sampler:
                seconds = _pip(
                    [
                        "download",
                        "--no-deps",
                        "-d",
                        str(target),
                        "-i",
                        server.simple_url,
                        "bigwheel==1.0",
                    ]
                )
            return {"mb_s": mb_per_s(size, seconds), "peak_rss_mib": sampler.peak.rss_mib}

        return once

    label = f"{size / 1e6:.0f} MB wheel"
    rec.note_load()
    for name, result in alternate({n: upload(s) for n, s in servers.items()}, rounds).items():
        rec.add(f"twine upload {label}", name, "MB/s", result, "mb_s")
        rec.add(f"twine upload {label}", name, "peak RSS MiB", result, "peak_rss_mib")
    pip_rounds = max(PIP_ROUNDS, rounds)
    for name, result in alternate({n: download(s) for n, s in readers.items()}, pip_rounds).items():
        rec.add(f"pip download {label}", name, "MB/s", result, "mb_s")
        rec.add(f"pip download {label}", name, "peak RSS MiB", result, "peak_rss_mib")
