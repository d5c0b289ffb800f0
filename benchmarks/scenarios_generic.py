"""Generic REST API scenarios: 1 GiB up and down, small files, and S3 against boto3."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks import transfer
from benchmarks.record import Recorder, alternate
from benchmarks.targets import NGINX


def prepare(orchard) -> str:
    """A public project with a generic package for the big file; return its API URL."""
    orchard.api("/projects", {"name": "bench", "is_public": True})
    for package in ("big", "small"):
        orchard.api("/project/bench/packages", {"name": package, "format": "generic"})
    return f"{orchard.base}/api/v1/project/bench/big"


DOWNLOAD_ROUNDS_FACTOR = 3


def big_files(rec: Recorder, orchards: dict, nginx, moto, big: Path, rounds: int) -> None:
    size = big.stat().st_size
    label = f"{size / 1024**3:.2g} GiB" if size >= 1024**3 else f"{size >> 20} MiB"
    urls = {name: prepare(server) for name, server in orchards.items()}
    bucket = None
    if moto is not None:
        bucket = "direct-bench"
        moto.client().create_bucket(Bucket=bucket)
        moto.client().upload_file(str(big), bucket, "direct/fixed")

    kept: dict[str, set[str]] = {}

    def upload(i: int, server, url: str) -> dict:
        # New bytes every round, their SHA-256 declared first (what twine and uv do):
        # every round stores (none deduplicates the last), on S3 straight to the final key.
        result = transfer.curl_upload(server, url, big, f"r{i}", fresh=True)
        if getattr(server, "moto", None) is not None:
            transfer.tidy_bucket(moto.client(), "orchard-bench", kept)
        return result

    def direct(i: int) -> dict:
        result = transfer.boto3_upload(moto.client(), bucket, big)
        transfer.tidy_bucket(moto.client(), bucket, kept)
        return result

    uploads = {
        name: (lambda i, s=server, u=urls[name]: upload(i, s, u))
        for name, server in orchards.items()
    }
    if bucket:
        uploads["boto3 direct (moto)"] = direct
    rec.note_load()
    up = alternate(uploads, rounds)
    for name, runs in up.items():
        rec.add(f"upload {label} (curl -F)", name, "MB/s", runs, "mb_s")
        if name.startswith("orchard"):
            rec.add(f"upload {label} (curl -F)", name, "peak RSS MiB", runs, "peak_rss_mib")
            rec.add(f"upload {label} (curl -F)", name, "peak PSS MiB", runs, "peak_pss_mib")
    downloads = {
        name: (lambda i, s=server, u=urls[name]: transfer.curl_download(s, f"{u}/+/r0", size))
        for name, server in orchards.items()
    }
    if nginx is not None:
        downloads[NGINX] = lambda i: transfer.curl_download(
            nginx, f"{nginx.base}/files/big.bin", size
        )
    if bucket:
        downloads["boto3 direct (moto)"] = lambda i: transfer.boto3_download(
            moto.client(), bucket, "direct/fixed", size
        )
    rec.note_load()
    # A download takes ~0.5 s, and one run that a neighbour's burst hits moves a median of
    # three by 20 %: three times the rounds cost seconds and steady the ratio to nginx.
    down = alternate(downloads, rounds * DOWNLOAD_ROUNDS_FACTOR)
    for name, runs in down.items():
        rec.add(f"download {label} (curl)", name, "MB/s", runs, "mb_s")
        if getattr(orchards.get(name), "moto", None) is not None:
            # The median is of downloads served by the local cache; the first one streamed
            # from S3 while it was copied into it (docs/blobstores.md): reported beside.
            rec.add(f"first download {label} (curl)", name, "MB/s", runs[:1], "mb_s")
        if name.startswith("orchard"):
            rec.add(f"download {label} (curl)", name, "peak RSS MiB", runs, "peak_rss_mib")
            rec.add(f"download {label} (curl)", name, "peak PSS MiB", runs, "peak_pss_mib")
    rec.data.setdefault("transfers", {})[label] = {"upload": up, "download": down}


def small_files(rec: Recorder, orchards: dict, rounds: int, seconds: float) -> None:
    contenders = {
        name: (
            lambda i, s=server: transfer.small_uploads(
                s, "bench", "small", clients=8, seconds=seconds
            )
        )
        for name, server in orchards.items()
    }
    rec.note_load()
    for name, runs in alternate(contenders, rounds).items():
        rec.add("upload 4 KiB files, 8 clients", name, "uploads/s", runs, "per_s")
        rec.add("upload 4 KiB files, 8 clients", name, "p99 ms", runs, "p99_ms")


def link_big_file(static_root: Path, big: Path) -> None:
    """nginx serves the very file the others upload: same bytes, same disk."""
    target = static_root / "files" / "big.bin"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    os.link(big, target)
