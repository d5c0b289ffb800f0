"""A/B of a hot-path change: the same big upload and download, or the small-file upload
rate, against two source trees.

    cp -r domain adapters entrypoints /tmp/before/      # before editing
    .venv/bin/python -m benchmarks.ab --before /tmp/before --rounds 5 [--big-mib 1024]
    .venv/bin/python -m benchmarks.ab --before /tmp/before --small 6   # 4 KiB, 8 clients
    .venv/bin/python -m benchmarks.ab --before /tmp/before --s3 --fresh   # PostgreSQL + S3

Both servers run at once, on the embedded default or (``--s3``) each on its own
PostgreSQL database and bucket of one moto server, with boto3 uploading the same file to
it as a third contender; the uploads alternate (A B, B A, ...), so load from anything
else on the machine falls on all alike. ``--fresh`` gives the file new content before
each upload and declares its SHA-256 (``X-Checksum-SHA256``).
"""

from __future__ import annotations

import argparse
import shutil

from benchmarks import dists, scenarios_generic, transfer
from benchmarks.backends import Moto, Postgres
from benchmarks.record import Recorder, alternate
from benchmarks.servers import Orchard
from benchmarks.util import REPO, WORK


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab")
    parser.add_argument("--before", required=True, help="a copy of the tree before the change")
    parser.add_argument("--after", default=str(REPO), help="the tree with the change")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--workers", default="4")
    parser.add_argument("--threads", default="8")
    parser.add_argument("--before-shape", help="WORKERSxTHREADS for the before tree only")
    parser.add_argument(
        "--small", type=float, default=0, help="seconds per round of 4 KiB uploads, 8 clients"
    )
    parser.add_argument("--s3", action="store_true", help="PostgreSQL + S3 (moto) for both")
    parser.add_argument("--fresh", action="store_true", help="new content, declared digest")
    args = parser.parse_args(argv)
    work = WORK / "ab"
    shutil.rmtree(work, ignore_errors=True)
    big = (
        None
        if args.small
        else dists.random_file(WORK / f"big-{args.big_mib}MiB.bin", args.big_mib << 20)
    )
    env = {"ORCHARD_WORKERS": args.workers, "ORCHARD_THREADS": args.threads}
    envs = {"before": dict(env), "after": dict(env)}
    if args.before_shape:  # one tree in two gunicorn shapes: --before <the same tree>
        workers, threads = args.before_shape.split("x")
        envs["before"].update(ORCHARD_WORKERS=workers, ORCHARD_THREADS=threads)
    moto, databases = None, []
    if args.s3:
        moto = Moto(work / "moto")
        (work / "moto").mkdir(parents=True, exist_ok=True)
        moto.start()
        for name in envs:
            databases.append(Postgres())
            envs[name]["ORCHARD_DATABASE_URL"] = databases[-1].create()
            envs[name].update(moto.orchard_env(f"ab-{name}"))
    servers = {
        "before": Orchard("before", work / "before", envs["before"], source=args.before),
        "after": Orchard("after", work / "after", envs["after"], source=args.after),
    }
    rec = Recorder({})
    try:
        urls = {}
        for name, server in servers.items():
            server.start()
            urls[name] = scenarios_generic.prepare(server)
        if args.small:
            small = alternate(
                {
                    n: (
                        lambda i, n=n: transfer.small_uploads(
                            servers[n], "bench", "small", clients=8, seconds=args.small
                        )
                    )
                    for n in servers
                },
                args.rounds,
            )
            for name, runs in small.items():
                print(name, "4 KiB uploads/s", [round(r.get("per_s", 0)) for r in runs])
                print(name, "p99 ms", [round(r.get("p99_ms", 0)) for r in runs])
                print(name, "errors", [r.get("errors", r.get("error")) for r in runs])
            return
        assert big is not None
        kept: dict[str, set[str]] = {}

        def tidy(result: dict, bucket: str) -> dict:
            if moto is not None:
                transfer.tidy_bucket(moto.client(), bucket, kept)
            return result

        uploads = {
            n: (
                lambda i, n=n: tidy(
                    transfer.curl_upload(servers[n], urls[n], big, f"r{i}", fresh=args.fresh),
                    f"ab-{n}",
                )
            )
            for n in servers
        }
        if moto is not None:
            moto.client().create_bucket(Bucket="ab-direct")
            uploads["boto3"] = lambda i: tidy(
                transfer.boto3_upload(moto.client(), "ab-direct", big), "ab-direct"
            )
        up = alternate(uploads, args.rounds)
        down = alternate(
            {
                n: (
                    lambda i, n=n: transfer.curl_download(
                        servers[n], f"{urls[n]}/+/r0", big.stat().st_size
                    )
                )
                for n in servers
            },
            args.rounds,
        )
    finally:
        for server in servers.values():
            server.stop()
        if moto is not None:
            moto.stop()
        for database in databases:
            database.drop()
    for name in up:
        print(name, "upload MB/s", [round(r.get("mb_s", 0)) for r in up[name]])
        print(name, "upload peak PSS MiB", [round(r.get("peak_pss_mib", 0)) for r in up[name]])
        rec.add("upload", name, "MB/s", up[name], "mb_s")
        rec.add("upload", name, "peak RSS MiB", up[name], "peak_rss_mib")
    for name in servers:
        print(name, "download MB/s", [round(r.get("mb_s", 0)) for r in down[name]])
        rec.add("download", name, "MB/s", down[name], "mb_s")


if __name__ == "__main__":
    main()
