"""``make bench``: machine limits, then every scenario against every contender.

Usage: ``python -m benchmarks.run [--quick] [--rounds N] [--big-mib N] [--no-pypi]``.
``--quick`` shrinks sizes and durations for a smoke run of the whole pipeline.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks import dists, machine, report, scenarios_generic, system_packages, targets
from benchmarks.backends import Moto, Postgres, postgres_problem
from benchmarks.record import Recorder
from benchmarks.servers import Nginx, Orchard
from benchmarks.targets import EMBEDDED, NGINX, S3
from benchmarks.util import ROOT, WORK


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--rounds", type=int, default=None, help="runs per contender")
    parser.add_argument("--big-mib", type=int, default=None, help="size of the big file")
    parser.add_argument("--no-pypi", action="store_true", help="generic scenarios only")
    parser.add_argument("--no-generic", action="store_true", help="PyPI scenarios only")
    parser.add_argument("--no-s3", action="store_true", help="skip PostgreSQL + S3")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.big_mib = args.big_mib or (128 if args.quick else 1024)
    return args


def limits(rec: Recorder, big, work) -> None:
    print("machine limits", flush=True)
    size = big.stat().st_size
    found = rec.data["limits"]
    found["hashlib sha256, 1 MiB chunks"] = max(machine.sha256_rate(size) for _ in range(2))
    found["disk write + fsync"] = max(machine.disk_write_rate(work, size) for _ in range(2))
    found["loopback TCP copy (sendfile -> recv_into)"] = max(
        machine.loopback_rate(big) for _ in range(2)
    )
    found[machine.SINK] = max(machine.sink_rate(big, work) for _ in range(2))
    found[machine.FOUR_DIGEST_SINK] = max(
        machine.sink_rate(big, work, machine.FOUR_DIGESTS) for _ in range(2)
    )
    sha, cp = machine.sha256sum_rate(big), machine.cp_rate(big, work)
    found["sha256sum"], found["cp + sync"] = sha, cp
    found["sha256sum then cp+sync, together"] = 1 / (1 / sha + 1 / cp)
    for name, value in found.items():
        print(f"  {name:<52} {value:8.0f} MB/s", flush=True)


def start_orchards(rec: Recorder, work, stack: contextlib.ExitStack, no_s3: bool) -> dict:
    orchards = {EMBEDDED: Orchard(EMBEDDED, work / "orchard-sqlite-fs", {})}
    problem = "disabled with --no-s3" if no_s3 else postgres_problem()
    if problem:
        rec.skip(f"{S3}: {problem}")
    else:
        database, moto = Postgres(), Moto(work / "moto")
        url = database.create()
        stack.callback(database.drop)
        moto.start()
        stack.callback(moto.stop)
        env = {"ORCHARD_DATABASE_URL": url, **moto.orchard_env("orchard-bench")}
        # As production should run it: a local read-through cache in front of S3, which
        # serves what was read before from disk (docs/performance.md, "Eighth round").
        # The 1 GiB file streams from S3 on its first download while it is copied into it.
        env["ORCHARD_BLOB_CACHE_DIR"] = str(work / "orchard-pg-s3" / "blob-cache")
        orchards[S3] = Orchard(S3, work / "orchard-pg-s3", env)
        orchards[S3].moto = moto
    for server in orchards.values():
        server.start()
        stack.callback(server.stop)
        rec.data["versions"][f"Orchard ({server.name})"] = server.version
    return orchards


def start_nginx(rec: Recorder, work, static_root, stack: contextlib.ExitStack):
    problem = Nginx.available()
    if problem:
        rec.skip(f"nginx: {problem}")
        return None
    nginx = Nginx(NGINX, work / "nginx", static_root)
    nginx.start()
    stack.callback(nginx.stop)
    rec.data["versions"]["nginx"] = nginx.version
    return nginx


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    started = time.monotonic()
    # One directory per run: two runs at once (two engineers, one machine) must not
    # share server directories. Removed at the end; logs stay there if a run dies.
    WORK.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=WORK))
    work.chmod(0o755)  # mkdtemp makes it 0700; nginx's workers (www-data) must traverse it
    rec = Recorder(machine.describe())
    for command, problem in system_packages.ensure().items():
        print(f"{command}: {problem}", flush=True)  # its scenarios are skipped, with this reason
    rec.note_load()
    big = dists.random_file(WORK / f"big-{args.big_mib}MiB.bin", args.big_mib << 20)
    limits(rec, big, work)
    static_root = work / "static"
    scenarios_generic.link_big_file(static_root, big)
    with contextlib.ExitStack() as stack:
        orchards = start_orchards(rec, work, stack, args.no_s3)
        nginx = start_nginx(rec, work, static_root, stack)
        moto = getattr(orchards.get(S3), "moto", None)
        if not args.no_generic:
            print("generic API", flush=True)
            with _section(rec, "1 GiB transfers"):
                scenarios_generic.big_files(rec, orchards, nginx, moto, big, args.rounds)
            with _section(rec, "small files"):
                scenarios_generic.small_files(rec, orchards, args.rounds, 4 if args.quick else 10)
        if not args.no_pypi:
            from benchmarks import scenarios_pypi

            with _section(rec, "PyPI scenarios"):
                scenarios_pypi.run_all(
                    rec, orchards[EMBEDDED], nginx, static_root, work, args, orchards.get(S3)
                )
            if nginx is not None:  # the upstream is a static index nginx serves
                from benchmarks import scenarios_upstream

                with _section(rec, "upstream cache"):
                    scenarios_upstream.run_all(rec, work, args.rounds)
    targets.evaluate(rec)
    rec.data["duration_s"] = round(time.monotonic() - started)
    print(report.write(rec.data, ROOT))
    print(f"benchmark took {rec.data['duration_s']} s")
    shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _section(rec: Recorder, name: str):
    """A section that fails is reported (with why) and the run goes on to the report."""
    try:
        yield
    except Exception as error:  # the report must still be written, naming the failure
        traceback.print_exc()
        rec.skip(f"{name} failed: {type(error).__name__}: {str(error)[:300]}")


if __name__ == "__main__":
    main()
