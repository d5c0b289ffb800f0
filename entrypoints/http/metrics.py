"""Prometheus metrics, aggregated across gunicorn workers, served at ``/metrics``.

gunicorn runs several worker processes; each would otherwise expose only its own counts.
prometheus_client's multiprocess mode keeps every process's values in memory-mapped files
under ``PROMETHEUS_MULTIPROC_DIR`` and sums them at scrape time. ``orchard serve`` makes
that directory fresh under the data directory before gunicorn starts (stale files from a
previous run would be summed too), and the gunicorn ``child_exit`` hook marks dead workers.

The mode is chosen when prometheus_client is first imported, so it is imported lazily here
and nowhere at module level; the metric objects are built once per process, on first use.
The domain never sees any of this: entry points count from the values use cases return
(``UploadResult.deduplicated``, ``GcReport.bytes_freed``).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Requests range from a 1 ms health check to a many-minute multi-gigabyte upload.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

bp = Blueprint("metrics", __name__)


@dataclass(frozen=True)
class Metrics:
    requests: Any
    duration: Any
    upload_bytes: Any
    download_bytes: Any
    dedup_hits: Any
    blob_store_errors: Any
    gc_collected_bytes: Any
    blob_cache: Any


_lock = threading.Lock()


def metrics() -> Metrics:
    """The metric objects, built once per process (registering twice is an error, and the
    first requests of a worker arrive on several threads at once)."""
    with _lock:
        return _build()


@functools.cache
def _build() -> Metrics:
    from prometheus_client import Counter, Histogram

    return Metrics(
        requests=Counter(
            "orchard_http_requests", "HTTP requests answered", ["route", "method", "status"]
        ),
        duration=Histogram(
            "orchard_http_request_duration_seconds",
            "Time from the request's arrival to the last byte of its response",
            ["route", "method"],
            buckets=DURATION_BUCKETS,
        ),
        upload_bytes=Counter("orchard_upload_bytes", "Bytes of content accepted by uploads"),
        download_bytes=Counter("orchard_download_bytes", "Bytes of artifact content sent"),
        dedup_hits=Counter("orchard_dedup_hits", "Uploads whose content was already stored"),
        blob_store_errors=Counter(
            "orchard_blob_store_errors", "Requests failed because the blob store did not answer"
        ),
        gc_collected_bytes=Counter(
            "orchard_gc_collected_bytes", "Bytes of blobs deleted by garbage collection"
        ),
        blob_cache=Counter(
            "orchard_blob_cache",
            "Reads of the local blob cache (hit, miss, skip) and its fills (fill, corrupt, "
            "disk_error)",
            ["outcome"],
        ),
    )


def record_request(route: str, method: str, status: int, seconds: float) -> None:
    m = metrics()
    m.requests.labels(route, method, str(status)).inc()
    m.duration.labels(route, method).observe(seconds)


def record_download(nbytes: int) -> None:
    if nbytes:
        metrics().download_bytes.inc(nbytes)


def record_upload(size: int, *, deduplicated: bool) -> None:
    """Count one accepted upload of ``size`` bytes; ``deduplicated`` when its bytes were
    stored already. Every upload entry point (REST, PyPI legacy upload) calls this."""
    m = metrics()
    m.upload_bytes.inc(size)
    if deduplicated:
        m.dedup_hits.inc()


def record_blob_store_error() -> None:
    metrics().blob_store_errors.inc()


def record_blob_cache(outcome: str) -> None:
    metrics().blob_cache.labels(outcome).inc()


def record_gc(report: Any, data_dir: str | None = None) -> None:
    """Count the bytes a garbage collection freed (a ``GcReport``; dry runs free nothing).

    ``orchard gc`` runs in its own process: pass the server's data directory and, if this
    process has not imported prometheus_client yet, the count joins the server's
    multiprocess files and shows in its ``/metrics`` until the next ``orchard serve``.
    """
    if report.dry_run:
        return
    if data_dir and MULTIPROC_ENV not in os.environ:
        directory = multiprocess_dir(data_dir)
        if directory.is_dir():
            os.environ[MULTIPROC_ENV] = str(directory)
    metrics().gc_collected_bytes.inc(report.bytes_freed)


def multiprocess_dir(data_dir: str) -> Path:
    return Path(data_dir).resolve() / "prometheus"


def prepare_multiprocess_dir(data_dir: str) -> Path:
    """Make an empty metrics directory for a server about to start and export it.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is honoured (only its ``*.db`` files are
    removed); otherwise ``<data dir>/prometheus`` is recreated.
    """
    chosen = os.environ.get(MULTIPROC_ENV)
    if chosen:
        directory = Path(chosen)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = multiprocess_dir(data_dir)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def mark_worker_dead(pid: int) -> None:
    """gunicorn ``child_exit``: drop a dead worker's live gauges (counters are kept)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


@bp.get("/metrics")
def scrape() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    metrics()  # a scrape before any request still lists every metric
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
