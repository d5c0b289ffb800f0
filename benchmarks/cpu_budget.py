"""What two of issue #19's targets cost in CPU, and so the most this machine's cores allow.

A rate is bounded by the CPU every unit of work takes in every process that takes part,
divided into the cores there are: at 100 % use of both, no change of overlap or
scheduling does better. This prints that bound beside the measured figure.

    python -m benchmarks.cpu_budget small      # 4 KiB uploads, 8 clients, embedded
    python -m benchmarks.cpu_budget s3-upload  # 1 GiB, PostgreSQL + S3: Orchard vs boto3

``small``: CPU of the server's process tree (user and system, from ``/proc``) and of the
clients (this process's threads) per upload. ``s3-upload``: CPU of Orchard's tree, of
the moto server and of this process per GiB, for Orchard's upload (curl, declared digest)
and for boto3's ``upload_file`` to the same moto, alternated.
"""

from __future__ import annotations

import argparse
import os
import shutil

from benchmarks import dists, scenarios_generic, transfer
from benchmarks.backends import Moto, Postgres
from benchmarks.proc_cpu import own_cpu, tree_cpu
from benchmarks.servers import Orchard
from benchmarks.util import WORK


def bound(cpu_seconds_per_unit: float, cores: int) -> float:
    """Units per second at 100 % of ``cores``."""
    return cores / cpu_seconds_per_unit


def small(rounds: int, seconds: float) -> None:
    work = WORK / "cpu-budget-small"
    shutil.rmtree(work, ignore_errors=True)
    server = Orchard("orchard", work / "orchard", {})
    server.start()
    cores = os.cpu_count() or 1
    try:
        scenarios_generic.prepare(server)
        transfer.small_uploads(server, "bench", "small", clients=8, seconds=2)  # warm
        for _ in range(rounds):
            served, clients = tree_cpu(server.pid), own_cpu()
            result = transfer.small_uploads(server, "bench", "small", clients=8, seconds=seconds)
            served, clients = tree_cpu(server.pid) - served, own_cpu() - clients
            count = result["per_s"] * seconds
            per = (served.total + clients.total) / count
            print(
                f"{result['per_s']:.0f} uploads/s, p99 {result['p99_ms']:.0f} ms; CPU per "
                f"upload: server {served.total / count * 1000:.2f} ms (user "
                f"{served.user / count * 1000:.2f}, system {served.system / count * 1000:.2f}),"
                f" clients {clients.total / count * 1000:.2f} ms; {cores} cores allow at most "
                f"{bound(per, cores):.0f}/s",
                flush=True,
            )
    finally:
        server.stop()


def s3_upload(rounds: int, mib: int) -> None:
    work = WORK / "cpu-budget-s3"
    shutil.rmtree(work, ignore_errors=True)
    big = dists.random_file(WORK / f"big-{mib}MiB.bin", mib << 20)
    gib = big.stat().st_size / 1024**3
    moto, database = Moto(work / "moto"), Postgres()
    (work / "moto").mkdir(parents=True, exist_ok=True)
    moto.start()
    env = {"ORCHARD_DATABASE_URL": database.create(), **moto.orchard_env("cpu-budget")}
    server = Orchard("orchard", work / "orchard", env)
    cores = os.cpu_count() or 1
    kept: dict[str, set[str]] = {}
    try:
        server.start()
        url = scenarios_generic.prepare(server)
        client = moto.client()
        client.create_bucket(Bucket="cpu-budget-direct")
        for i in range(rounds):
            for name in ("orchard", "boto3") if i % 2 == 0 else ("boto3", "orchard"):
                in_moto, in_orchard = tree_cpu(moto.process.pid), tree_cpu(server.pid)
                if name == "boto3":
                    result = transfer.boto3_upload(client, "cpu-budget-direct", big)
                    in_moto = tree_cpu(moto.process.pid) - in_moto
                    transfer.tidy_bucket(client, "cpu-budget-direct", kept)
                else:
                    # fresh: new bytes, their digest declared (computed before the clock)
                    result = transfer.curl_upload(server, url, big, f"r{i}", fresh=True)
                    in_moto = tree_cpu(moto.process.pid) - in_moto
                    transfer.tidy_bucket(client, "cpu-budget", kept)
                in_orchard = tree_cpu(server.pid) - in_orchard
                per_gib = (in_moto.total + in_orchard.total) / gib
                most = bound(per_gib, cores) * 1024**3 / 1e6
                print(
                    f"{name:<8} {result['mb_s']:.0f} MB/s; CPU per GiB: moto "
                    f"{in_moto.total / gib:.1f} s, Orchard {in_orchard.total / gib:.1f} s; "
                    f"{cores} cores allow at most {most:.0f} MB/s (without the client's CPU)",
                    flush=True,
                )
    finally:
        server.stop()
        moto.stop()
        database.drop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu_budget")
    parser.add_argument("what", choices=["small", "s3-upload"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8, help="per round of small uploads")
    parser.add_argument("--mib", type=int, default=1024, help="the S3 upload's size")
    args = parser.parse_args(argv)
    if args.what == "small":
        small(args.rounds, args.seconds)
    else:
        s3_upload(args.rounds, args.mib)


if __name__ == "__main__":
    main()
