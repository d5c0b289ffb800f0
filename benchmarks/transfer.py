"""Large-file transfers with curl and boto3, and the small-file upload rate.

curl is the client because it costs the machine almost nothing: what is measured is the
server. Each transfer samples the server's process-tree memory while it runs.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
import uuid
from pathlib import Path

from benchmarks.rss import TreeSampler
from benchmarks.stats import mb_per_s, percentile
from benchmarks.util import run


def _curl(args: list[str], expect_bytes: int | None = None) -> float:
    """Run curl; return its total time (seconds), failing on an HTTP error or short body."""
    result = run(
        ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", *args]
    )
    seconds, received = result.stdout.split()
    if expect_bytes is not None and int(received) != expect_bytes:
        raise RuntimeError(f"curl received {received} of {expect_bytes} bytes")
    return float(seconds)


def curl_upload(server, package_url: str, path: Path, tag: str, fresh: bool = False) -> dict:
    """``fresh``: first make the file's content new (its last 32 bytes) and send its
    SHA-256 as ``X-Checksum-SHA256``, as a client that knows it does: every round then
    stores new bytes (not a deduplicated copy of the last round's) on the declared path."""
    declared = ["-H", f"X-Checksum-SHA256: {freshen(path)}"] if fresh else []
    with TreeSampler(server.pid) as sampler:
        seconds = _curl(
            [
                "-H",
                f"Authorization: Bearer {server.api_key}",
                *declared,
                "-F",
                f"file=@{path}",
                "-F",
                f"tag={tag}",
                f"{package_url}/upload",
            ]
        )
    return _transfer(path.stat().st_size, seconds, sampler)


def tidy_bucket(client, bucket: str, kept: dict[str, set[str]]) -> None:
    """moto holds every object in memory: drop what each round added, keeping what the
    bucket held after its first (the blob the downloads read). Untimed."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = {item["Key"] for page in pages for item in page.get("Contents", [])}
    for key in keys - kept.setdefault(bucket, keys):
        client.delete_object(Bucket=bucket, Key=key)


def freshen(path: Path) -> str:
    """Give the file new content (its last 32 bytes) and return its SHA-256 (untimed)."""
    with path.open("r+b") as file:
        file.seek(-32, os.SEEK_END)
        file.write(os.urandom(32))
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def curl_download(server, url: str, size: int) -> dict:
    with TreeSampler(server.pid) as sampler:
        seconds = _curl([url], expect_bytes=size)
    return _transfer(size, seconds, sampler)


def _transfer(size: int, seconds: float, sampler: TreeSampler) -> dict:
    peak = sampler.peak
    return {
        "mb_s": mb_per_s(size, seconds),
        "seconds": seconds,
        "peak_rss_mib": peak.rss_mib,
        "peak_pss_mib": peak.pss_mib,
        "rss_growth_mib": peak.rss_mib - peak.baseline_rss_mib,
        "processes": peak.processes,
    }


def boto3_upload(client, bucket: str, path: Path) -> dict:
    start = time.perf_counter()
    client.upload_file(str(path), bucket, f"direct/{uuid.uuid4().hex}")
    return {"mb_s": mb_per_s(path.stat().st_size, time.perf_counter() - start)}


def boto3_download(client, bucket: str, key: str, size: int) -> dict:
    """One streaming GET read 1 MiB at a time: what Orchard's proxy mode does.

    boto3's ``download_fileobj`` would issue parallel ranged GETs instead, which moto
    serves by re-reading the whole object per range (10 MB/s for 1 GiB): a moto artefact.
    """
    start = time.perf_counter()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    received = sum(len(chunk) for chunk in body.iter_chunks(1024 * 1024))
    if received != size:
        raise RuntimeError(f"boto3 received {received} of {size} bytes")
    return {"mb_s": mb_per_s(size, time.perf_counter() - start)}


def small_uploads(server, project: str, package: str, *, clients: int, seconds: float) -> dict:
    """``clients`` threads upload distinct 4 KiB files for ``seconds``; uploads/s, p50, p99."""
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = _post_small(connection, server.api_key, f"/api/v1/project/{project}/{package}")
            with lock:
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(str(status))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * (percentile(latencies, 0.5) or 0),
        "p99_ms": 1000 * (percentile(latencies, 0.99) or 0),
        "errors": len(errors),
    }


def _post_small(connection: http.client.HTTPConnection, key: str, package_path: str) -> int:
    boundary = uuid.uuid4().hex
    name = f"small-{uuid.uuid4().hex}.bin"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + os.urandom(4096)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    connection.request("POST", f"{package_path}/upload", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status
