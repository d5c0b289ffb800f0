"""`pip download` of 50 packages from PostgreSQL + S3 (moto), with and without the local
blob cache, against nginx serving the same index statically; and what one request costs.

    .venv/bin/python -m benchmarks.pip_s3 --rounds 9            # probe, then pip, alternated
    .venv/bin/python -m benchmarks.pip_s3 --rounds 0 --probe 3  # the per-request probe only
    .venv/bin/python -m benchmarks.pip_s3 --no-cache            # no cached contender
    .venv/bin/python -m benchmarks.pip_s3 --embedded            # SQLite + files as well

The probe first reads every wheel once (on the cached server: the fills), then fetches
the 50 wheels, then their 50 ``.metadata`` files (same route, same
database lookups, no blob read), one at a time over one keep-alive connection with a
3 ms pause between requests (pip's own work between two of its requests), and reads the
CPU time of the server's process tree and of moto from ``/proc`` around each pass. A
wheel minus its ``.metadata`` is what reading the blob costs; ``direct GET`` is boto3
fetching the same objects from moto itself, one at a time.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from benchmarks import dists, pypi_data
from benchmarks.backends import Moto, Postgres
from benchmarks.proc_cpu import tree_cpu
from benchmarks.record import alternate
from benchmarks.scenarios_pypi import _pip
from benchmarks.servers import Nginx, Orchard, Server
from benchmarks.util import WORK, loadavg

PACKAGES = 50
PAUSE = 0.003
NGINX = "nginx (static)"
PLAIN, CACHED = "Orchard S3", "Orchard S3 + cache"
EMBEDDED = "Orchard SQLite + files"


def fillers() -> list[Path]:
    """The benchmark's first 50 one-file projects (``filler-0000``...), made once."""
    directory = WORK / "dists" / "filler"
    if (directory / ".done").exists():
        return sorted(directory.glob("*.whl"))[:PACKAGES]
    directory = WORK / "dists" / f"filler-{PACKAGES}"
    if not (directory / ".done").exists():
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(PACKAGES):
            dists.wheel(directory, f"filler-{i:04d}", "1.0")
        (directory / ".done").touch()
    return sorted(directory.glob("*.whl"))


def file_urls(server: Server, names: list[str]) -> list[str]:
    """Each project's wheel URL, as its ``/simple/`` page links it (fragment dropped)."""
    urls = []
    for name in names:
        page = server.project_url(name)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", urllib.parse.urlsplit(page).path, headers={"Accept": "text/html"})
        body = conn.getresponse().read().decode()
        conn.close()
        href = re.search(r'href="([^"#]+\.whl)', body)
        assert href, f"{server.name}: no wheel on {page}"
        urls.append(urllib.parse.urlsplit(urllib.parse.urljoin(page, href.group(1))).path)
    return urls


def fetch_all(port: int, paths: list[str]) -> list[float]:
    """GET each path in turn over one keep-alive connection; the latency of each, in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for path in paths:
        time.sleep(PAUSE)
        began = time.perf_counter()
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status == 200, f"{path}: {answer.status}"
    conn.close()
    return times


def probe(server: Server, paths: list[str], moto: Moto) -> dict:
    """Median latency per request, and CPU per request of the server and of moto."""
    fetch_all(server.port, [paths[0]] * 5)  # warm the connection pools
    server_cpu, moto_cpu = tree_cpu(server.pid).total, tree_cpu(moto.process.pid).total
    times = fetch_all(server.port, paths)
    server_cpu = tree_cpu(server.pid).total - server_cpu
    moto_cpu = tree_cpu(moto.process.pid).total - moto_cpu
    return {
        "latency_ms": statistics.median(times),
        "server_cpu_ms": server_cpu * 1000 / len(paths),
        "moto_cpu_ms": moto_cpu * 1000 / len(paths),
    }


def direct_gets(moto: Moto, bucket: str) -> Callable[[int], dict]:
    client = moto.client()
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]]

    def once(i: int) -> dict:
        moto_cpu, times = tree_cpu(moto.process.pid).total, []
        for key in keys[:PACKAGES]:
            time.sleep(PAUSE)
            began = time.perf_counter()
            client.get_object(Bucket=bucket, Key=key)["Body"].read()
            times.append((time.perf_counter() - began) * 1000)
        moto_cpu = tree_cpu(moto.process.pid).total - moto_cpu
        return {
            "latency_ms": statistics.median(times),
            "moto_cpu_ms": moto_cpu * 1000 / len(times),
        }

    return once


def _show(title: str, runs: dict[str, list[dict]]) -> None:
    print(title, flush=True)
    for name, results in runs.items():
        good = [r for r in results if "error" not in r]
        figures = {
            key: statistics.median(r[key] for r in good) for key in good[0] if key not in ("load",)
        }
        shown = "  ".join(
            f"{key} {value:.3f} ({', '.join(f'{r[key]:.3f}' for r in good)})"
            for key, value in figures.items()
        )
        print(f"  {name:<24} {shown}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pip_s3")
    parser.add_argument("--rounds", type=int, default=9, help="pip download rounds")
    parser.add_argument("--probe", type=int, default=3, help="per-request probe rounds")
    parser.add_argument("--no-cache", action="store_true", help="no cached contender")
    parser.add_argument("--embedded", action="store_true", help="SQLite + files too")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pip-s3-", dir=WORK))
    work.chmod(0o755)  # nginx's workers must traverse it
    files = fillers()
    names = [path.name.split("-")[0].replace("_", "-") for path in files]
    moto = Moto(work / "moto")
    (work / "moto").mkdir(parents=True)
    databases: list[Postgres] = []
    servers: dict[str, Server] = {}
    buckets = {PLAIN: "pip-plain", CACHED: "pip-cached"}
    try:
        moto.start()
        for name in (PLAIN,) if args.no_cache else (PLAIN, CACHED):
            databases.append(Postgres())
            env = {"ORCHARD_DATABASE_URL": databases[-1].create()}
            env.update(moto.orchard_env(buckets[name]))
            if name == CACHED:
                env["ORCHARD_BLOB_CACHE_DIR"] = str(work / "blob-cache")
            servers[name] = Orchard(name, work / name.replace(" ", "-"), env)
        if args.embedded:
            servers[EMBEDDED] = Orchard(EMBEDDED, work / "embedded", {})
        pypi_data.static_index(work / "static", files)
        servers[NGINX] = Nginx(NGINX, work / "nginx", work / "static")
        for server in servers.values():
            server.start()
            if isinstance(server, Orchard):
                pypi_data.fill(server, files)
        _measure(args, servers, names, moto, buckets)
    finally:
        for server in servers.values():
            server.stop()
        moto.stop()
        for database in databases:
            database.drop()
        shutil.rmtree(work, ignore_errors=True)


def _measure(args, servers: dict[str, Server], names: list[str], moto: Moto, buckets) -> None:
    print(f"load average before: {os.getloadavg()}", flush=True)
    wheels = {name: file_urls(server, names) for name, server in servers.items()}
    if args.probe:
        first = {
            f"{name}: wheel, first read": [probe(server, wheels[name], moto)]
            for name, server in servers.items()
            if isinstance(server, Orchard)
        }
        _show("per request, first read of each wheel (the cache fills)", first)
        contenders: dict[str, Callable[[int], dict]] = {}
        for name, server in servers.items():
            metadata = [url + ".metadata" for url in wheels[name]]
            contenders[f"{name}: wheel"] = lambda i, s=server, p=wheels[name]: probe(s, p, moto)
            contenders[f"{name}: .metadata"] = lambda i, s=server, p=metadata: probe(s, p, moto)
        contenders["direct GET (boto3)"] = direct_gets(moto, buckets[PLAIN])
        _show("per request (median of each pass; passes)", alternate(contenders, args.probe))
    if args.rounds:
        target = Path(tempfile.mkdtemp(prefix="pip-download-"))

        def download(server: Server) -> Callable[[int], dict]:
            def once(i: int) -> dict:
                shutil.rmtree(target, ignore_errors=True)
                command = ["download", "--no-deps", "-d", str(target), "-i", server.simple_url]
                return {"seconds": _pip([*command, *names]), "load": loadavg()}

            return once

        runs = alternate({n: download(s) for n, s in servers.items()}, args.rounds)
        shutil.rmtree(target, ignore_errors=True)
        _show(f"pip download {len(names)} packages, seconds", runs)
        floor = statistics.median(r["seconds"] for r in runs[NGINX] if "error" not in r)
        for name, results in runs.items():
            value = statistics.median(r["seconds"] for r in results if "error" not in r)
            # Each round runs every contender within seconds: its own ratio to nginx
            # shrugs off load that drifts between rounds better than a ratio of medians.
            rounds = [
                mine["seconds"] / theirs["seconds"]
                for mine, theirs in zip(results, runs[NGINX], strict=True)
                if "error" not in mine and "error" not in theirs
            ]
            print(
                f"  {name:<24} {value / floor:.2f}x nginx (ratio of medians); "
                f"{statistics.median(rounds):.2f}x (median of the rounds' ratios: "
                f"{', '.join(f'{r:.2f}' for r in rounds)})",
                flush=True,
            )
        loads = [r["load"] for results in runs.values() for r in results if "load" in r]
        print(f"load average during the rounds: {min(loads):.2f}-{max(loads):.2f}", flush=True)


if __name__ == "__main__":
    main()
