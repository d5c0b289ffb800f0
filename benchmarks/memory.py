"""What a gunicorn worker holds, and what the whole server holds per shape (issue #19).

    .venv/bin/python -m benchmarks.memory breakdown [--tracemalloc]
    .venv/bin/python -m benchmarks.memory shapes --shapes 4x8,2x16,1x32 [--upload-mib 1024]

Both run on PostgreSQL (127.0.0.1:5432, a throwaway database) + S3 (a moto server).

``breakdown`` does what gunicorn does, in one process: import what the master imports
before the fork (``gunicorn_config.on_starting``), fork, and in the child build a
worker's parts one at a time, printing after each the child's USS (its private pages:
what it does not share with the master), its RSS and the growth of both. It then names
the modules the child imported that the master had not (each worker loads those on its
own). ``--tracemalloc`` also groups what Python allocated in the child by package.

``shapes`` starts ``orchard serve`` per WORKERSxTHREADS, warms it up (eight 20 MB uploads
with declared digests, 80 index pages), waits a second and sums ``Pss`` and ``VmRSS``
over master and workers ("at rest"); with ``--upload-mib`` it then uploads that many MiB
of new content (digest declared) and reports the peak of the sums sampled every 50 ms
(``benchmarks/rss.py``), the rate, and the sums at rest again afterwards.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from benchmarks.backends import Moto, Postgres
from benchmarks.rss import process_tree
from benchmarks.util import WORK, loadavg

WARM_UPLOADS = 8
WARM_UPLOAD_MIB = 20
WARM_PAGES = 80


def smaps_kib(pid: int | str = "self") -> dict[str, int]:
    """``/proc/<pid>/smaps_rollup`` (kB) plus ``Uss``: Private_Clean + Private_Dirty."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    fields["Uss"] = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields


# ---------------------------------------------------------------------------- breakdown


def _environment(database_url: str, moto: Moto, data_dir: Path) -> dict[str, str]:
    return {
        "ORCHARD_DATABASE_URL": database_url,
        "ORCHARD_DATA_DIR": str(data_dir),
        "ORCHARD_SECRET_KEY": "bench-memory",
        "ORCHARD_ADMIN_PASSWORD": "bench-admin-password",
        "ORCHARD_LOG_LEVEL": "warning",
        **moto.orchard_env("memory"),
    }


def _in_child(step: Callable[[], None]) -> None:
    """Run ``step`` in a forked child and wait (keeps this process free of what it makes)."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            step()
        except BaseException as error:  # report, then leave the child without cleanup
            print(f"child failed: {error!r}", file=sys.stderr)
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the child failed")


def _setup() -> None:
    """Migrate and create the admin, as ``orchard serve`` does before gunicorn starts."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import load_settings
    from entrypoints.startup import migrate, prepare

    settings = load_settings()
    migrate(settings)
    prepare(bootstrap(settings), announce=lambda *_, **__: None)


class Steps:
    """Prints one line per step: USS and RSS of this process, and their growth."""

    def __init__(self) -> None:
        self._last = smaps_kib()
        self.rows: list[tuple[str, float, float]] = []
        print(f"{'step':58} {'USS MiB':>8} {'+USS':>7} {'RSS MiB':>8} {'+RSS':>7}")
        self._print("after the fork", self._last, self._last)

    def _print(self, name: str, now: dict[str, int], last: dict[str, int]) -> None:
        uss, rss = now["Uss"] / 1024, now["Rss"] / 1024
        d_uss, d_rss = (now["Uss"] - last["Uss"]) / 1024, (now["Rss"] - last["Rss"]) / 1024
        print(f"{name:58} {uss:8.1f} {d_uss:+7.1f} {rss:8.1f} {d_rss:+7.1f}", flush=True)
        self.rows.append((name, d_uss, d_rss))

    def measure(self, name: str, step: Callable[[], object]) -> object:
        result = step()
        now = smaps_kib()
        self._print(name, now, self._last)
        self._last = now
        return result


def _worker(tracing: bool) -> None:
    """A worker's life up to "at rest", step by step (runs in the forked child)."""
    if tracing:
        import tracemalloc

        tracemalloc.start()
    before = set(sys.modules)
    steps = Steps()
    from entrypoints import bootstrap as composition
    from entrypoints.config import load_settings
    from entrypoints.http.app import create_app

    settings = load_settings()
    blobs = steps.measure(
        "S3 store: boto3 session + client", lambda: composition._s3_store(settings)
    )
    uow = steps.measure(
        "SQLAlchemy engine (no connection yet)", lambda: composition._sql_uow_factory(settings)
    )
    services = steps.measure(
        "rest of bootstrap (argon2, upstream client, ...)",
        lambda: composition.bootstrap(settings, uow=uow, blobs=blobs),  # type: ignore[arg-type]
    )
    app = steps.measure("Flask app: create_app", lambda: create_app(settings, services))
    steps.measure("post_worker_init: gc.collect + gc.freeze", _collect_and_freeze)
    client = app.test_client()  # type: ignore[attr-defined]
    headers = steps.measure("login + API key + project (first queries)", lambda: _login(client))
    steps.measure("first upload, 20 MB, declared digest", lambda: _upload(client, headers, 0))
    steps.measure(
        f"{WARM_UPLOADS - 1} more uploads of 20 MB",
        lambda: [_upload(client, headers, i) for i in range(1, WARM_UPLOADS)],
    )
    steps.measure("first index page /simple/", lambda: client.get("/simple/"))
    steps.measure(
        f"{WARM_PAGES} index pages + project pages",
        lambda: [client.get("/simple/" if i % 2 else "/simple/big/") for i in range(WARM_PAGES)],
    )
    steps.measure("web page / and /metrics", lambda: (client.get("/"), client.get("/metrics")))
    steps.measure("gc.collect()", gc.collect)
    _metrics_files()
    _new_modules(before)
    if tracing:
        _traced()


def _collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()


def _login(client) -> dict[str, str]:
    answer = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": "bench-admin-password"}
    )
    assert answer.status_code == 200, answer.data
    key = client.post("/api/v1/auth/keys", json={"name": "memory"}).get_json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    client.post("/api/v1/projects", json={"name": "bench", "is_public": True}, headers=headers)
    client.post(
        "/api/v1/project/bench/packages",
        json={"name": "big", "format": "generic"},
        headers=headers,
    )
    return headers


def _upload(client, headers: dict[str, str], number: int) -> None:
    import hashlib

    data = os.urandom(WARM_UPLOAD_MIB * 1_000_000)
    answer = client.post(
        "/api/v1/project/bench/big/upload",
        data={"file": (io.BytesIO(data), f"warm-{number}.bin"), "tag": f"w{number}"},
        headers={**headers, "X-Checksum-SHA256": hashlib.sha256(data).hexdigest()},
    )
    assert answer.status_code in (200, 201), answer.data


def _metrics_files() -> None:
    """prometheus_client's multiprocess files: what this process maps of them."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not directory:
        print("\nprometheus_client: multiprocess mode off")
        return
    mapped: dict[str, dict[str, int]] = {}
    current = None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if not line[0].isupper() or "-" in fields[0]:  # a mapping's header line
                path = fields[-1] if len(fields) >= 6 else ""
                current = path if path.startswith(directory) else None
            elif current is not None and fields[0] in ("Rss:", "Pss:", "Size:"):
                sizes = mapped.setdefault(Path(current).name, {})
                sizes[fields[0].rstrip(":")] = sizes.get(fields[0].rstrip(":"), 0) + int(fields[1])
    files = sorted(Path(directory).glob("*.db"))
    print(f"\nprometheus_client multiprocess files in {directory}: {len(files)}")
    for file in files:
        sizes = mapped.get(file.name, {})
        print(
            f"  {file.name:32} {file.stat().st_size / 1024:7.0f} KiB on disk, mapped here: "
            f"Rss {sizes.get('Rss', 0)} KiB, Pss {sizes.get('Pss', 0)} KiB"
        )


def _package(filename: str) -> str:
    """The top-level package a source file belongs to (site-packages or this repository)."""
    path = Path(filename)
    parts = path.parts
    for anchor in ("site-packages", "lib-dynload"):
        if anchor in parts:
            return parts[parts.index(anchor) + 1].removesuffix(".py")
    for ours in ("domain", "adapters", "entrypoints"):
        if ours in parts:
            return ours
    return "stdlib" if "python3" in filename else path.name


def _new_modules(before: set[str]) -> None:
    new = sorted(set(sys.modules) - before)
    groups: dict[str, list[str]] = {}
    for name in new:
        groups.setdefault(name.split(".")[0], []).append(name)
    print(f"\nmodules the worker imported that the master had not: {len(new)}")
    for top, names in sorted(groups.items(), key=lambda item: -len(item[1])):
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        print(f"  {top:20} {len(names):4}  {shown}")


def _traced() -> None:
    import tracemalloc

    snapshot = tracemalloc.take_snapshot()
    by_package: dict[str, int] = {}
    for stat in snapshot.statistics("filename"):
        name = _package(stat.traceback[0].filename)
        by_package[name] = by_package.get(name, 0) + stat.size
    print("\nPython allocations made in the worker and still live, by package (tracemalloc):")
    for name, size in sorted(by_package.items(), key=lambda item: -item[1])[:20]:
        print(f"  {name:24} {size / 1024 / 1024:7.2f} MiB")


def breakdown(tracing: bool) -> None:
    database, moto = Postgres(), Moto(WORK / "memory" / "moto")
    (WORK / "memory" / "moto").mkdir(parents=True, exist_ok=True)
    moto.start()
    try:
        data_dir = WORK / "memory" / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.update(_environment(database.create(), moto, data_dir))
        # No boto3 client here: its loaded data would be shared with the child for free.
        _in_child(_setup)
        from entrypoints.http.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir(str(data_dir))  # as orchard serve does before gunicorn
        master = smaps_kib()
        # What the gunicorn master does before forking (it imports; it creates nothing).
        from entrypoints import gunicorn_config

        gunicorn_config.on_starting(None)
        after = smaps_kib()
        print(
            f"master: {master['Rss'] / 1024:.1f} MiB RSS before on_starting, "
            f"{after['Rss'] / 1024:.1f} after ({len(sys.modules)} modules)\n"
        )
        _in_child(lambda: _worker(tracing))
    finally:
        moto.stop()
        database.drop()


# ------------------------------------------------------------------------------- shapes


def tree_memory(root: int) -> dict[str, float]:
    """Summed Pss, Rss and Uss (MiB) over a process tree, and the master's share."""
    sums = {"pss": 0.0, "rss": 0.0, "uss": 0.0}
    per_process = []
    for pid in process_tree(root):
        try:
            fields = smaps_kib(pid)
        except OSError:
            continue
        for key, field in (("pss", "Pss"), ("rss", "Rss"), ("uss", "Uss")):
            sums[key] += fields[field] / 1024
        per_process.append((pid, fields["Pss"] / 1024, fields["Uss"] / 1024))
    master = next((p for p in per_process if p[0] == root), (root, 0.0, 0.0))
    workers = [p for p in per_process if p[0] != root]
    sums["master_pss"] = master[1]
    sums["worker_uss_mean"] = sum(p[2] for p in workers) / max(1, len(workers))
    sums["processes"] = len(per_process)
    sums["worker_uss"] = [round(p[2]) for p in workers]  # type: ignore[assignment]
    return sums


def _warm(server, url: str, big_file: Path) -> None:
    from benchmarks import transfer

    for number in range(WARM_UPLOADS):
        transfer.curl_upload(server, url, big_file, f"w{number}", fresh=True)
    for _ in range(WARM_PAGES):
        with urllib.request.urlopen(server.simple_url, timeout=30) as answer:  # noqa: S310
            answer.read()


def _gunicorn_master(server) -> int:
    """``orchard serve`` execs gunicorn: the spawned process is the master."""
    return server.pid


def shapes(names: list[str], upload_mib: int, source: str | None) -> None:
    from benchmarks import dists, scenarios_generic, transfer
    from benchmarks.servers import Orchard

    work = WORK / "memory-shapes"
    work.mkdir(parents=True, exist_ok=True)
    warm_file = dists.random_file(work / "warm.bin", WARM_UPLOAD_MIB * 1_000_000)
    big = (
        dists.random_file(WORK / f"big-{upload_mib}MiB.bin", upload_mib << 20)
        if upload_mib
        else None
    )
    moto = Moto(work / "moto")
    moto.start()
    rows = []
    try:
        for shape in names:
            workers, threads = shape.split("x")
            database = Postgres()
            env = {"ORCHARD_WORKERS": workers, "ORCHARD_THREADS": threads}
            env["ORCHARD_DATABASE_URL"] = database.create()
            env.update(moto.orchard_env(f"memory-{shape}"))
            server = Orchard(f"memory-{shape}", work / shape, env, source=source)
            try:
                server.start()
                url = scenarios_generic.prepare(server)
                _warm(server, url, warm_file)
                time.sleep(1)
                rest = tree_memory(_gunicorn_master(server))
                row = {"shape": shape, "rest": rest, "load": loadavg()}
                if big is not None:
                    result = transfer.curl_upload(server, url, big, "big", fresh=True)
                    time.sleep(1)
                    row.update(upload=result, after=tree_memory(_gunicorn_master(server)))
                rows.append(row)
                _print_row(row)
            finally:
                server.stop()
                database.drop()
    finally:
        moto.stop()


def _print_row(row: dict) -> None:
    rest = row["rest"]
    line = (
        f"{row['shape']:>5}: at rest PSS {rest['pss']:.0f} MiB (RSS {rest['rss']:.0f}, "
        f"master PSS {rest['master_pss']:.0f}, USS of the workers {rest['worker_uss']})"
    )
    if "upload" in row:
        up, after = row["upload"], row["after"]
        line += (
            f"; during the upload peak PSS {up['peak_pss_mib']:.0f} (RSS {up['peak_rss_mib']:.0f})"
            f" at {up['mb_s']:.0f} MB/s; after it PSS {after['pss']:.0f} (RSS {after['rss']:.0f},"
            f" USS of the workers {after['worker_uss']})"
        )
    print(line + f"; load {row['load']:.1f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("breakdown", help="one worker's private memory, step by step")
    one.add_argument("--tracemalloc", action="store_true", help="group Python's allocations")
    many = commands.add_parser("shapes", help="the server's PSS/RSS per gunicorn shape")
    many.add_argument("--shapes", default="4x8,2x16,1x32")
    many.add_argument("--upload-mib", type=int, default=0, help="then one upload this big")
    many.add_argument("--source", help="serve another source tree (a before/after pair)")
    args = parser.parse_args(argv)
    if args.command == "breakdown":
        breakdown(args.tracemalloc)
    else:
        shapes(args.shapes.split(","), args.upload_mib, args.source)


if __name__ == "__main__":
    main()
