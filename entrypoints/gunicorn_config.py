"""gunicorn settings, derived from Orchard's configuration.

``gthread`` workers: uploads and downloads are long, I/O-bound requests, and threads let a
worker serve other clients while one streams a gigabyte. Timeouts are generous because a
slow client uploading a large file is not a hung worker.
"""

from entrypoints.config import load_settings

_settings = load_settings()

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
# gthread (drain-aware subclass), 4 workers x 8 threads by default: measured on 2 cores
# (docs/operations.md). 4 x 200 MiB uploads + 16 downloaders: sync/4 downloads p95 8.2 s
# (every worker held by an upload), gthread 4x8 p95 0.8 s and 68 MiB/s of uploads. Four
# 60 s slow uploads: sync/4 served 16 downloads in 60 s and killed all four uploads
# (WORKER TIMEOUT), gthread 4x8 served 17,181 downloads (p95 177 ms) and all four got 200.
worker_class = "entrypoints.gunicorn_worker.DrainingThreadWorker"
threads = _settings.threads
# gthread: a heartbeat of the worker's main loop, not a limit on a request (a slow upload
# of any length is not killed by it). Kept large so switching to sync stays safe.
timeout = _settings.timeout
# SIGTERM: in-flight uploads/downloads get this long to finish (compose stop_grace_period
# and Kubernetes terminationGracePeriodSeconds must be longer).
graceful_timeout = _settings.graceful_timeout
# Idle kept-alive connections: longer than a client's pause between requests (pip, uv);
# behind a load balancer make it longer than the balancer's idle timeout.
keepalive = 5
# Request line and headers are bounded (414/431, JSON) and must arrive within
# ORCHARD_HEADER_TIMEOUT (the worker reads them in its poll loop); bodies are bounded by
# ORCHARD_MAX_BODY_SIZE, file uploads by ORCHARD_MAX_UPLOAD_SIZE (docs/operations.md).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = None
errorlog = "-"
loglevel = _settings.log_level
# gunicorn 25+ opens a control socket at $XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl:
# one path for every instance on the host, replaced by each start (even a failed one).
# Orchard is managed by signals (TERM drains, HUP reloads), so it stays off.
control_socket_disable = True


def when_ready(server) -> None:
    """The one "listening" line, printed once the socket listens (never for a failed
    start: ``orchard serve`` checks the address before it creates anything)."""
    import sys

    from entrypoints.preflight import url

    print(f"Orchard listening on {url(_settings)}", file=sys.stderr, flush=True)


def child_exit(server, worker) -> None:
    """A dead worker's live metrics files are dropped; its counters stay summed."""
    from entrypoints.http.metrics import mark_worker_dead

    mark_worker_dead(worker.pid)


def on_starting(server) -> None:
    """Import the application's code in the master, before the workers fork.

    Workers then share those pages copy-on-write instead of each loading its own copy of
    Flask, SQLAlchemy, marshmallow and our modules (most of a worker's memory). Nothing is
    created here: engines, clients, pools and files are made per worker by create_app.
    """
    import gc
    import importlib

    for module in _PRELOADED + _STORE_MODULES.get(_settings.blob_store, ()):
        importlib.import_module(module)
    if _settings.blob_store == "s3":
        # botocore's parsed JSON (service model, endpoint rules, partitions): data only.
        from adapters.blobstore_s3 import preload_botocore_data

        preload_botocore_data()
    gc.freeze()  # keep the collector from writing to (and so un-sharing) these objects
    _bound_malloc()


def _bound_malloc() -> None:
    """Two malloc arenas per worker instead of glibc's eight per core (inherited by fork).

    An upload passes 1-8 MiB buffers through many threads (parser, sink, hashers, S3
    parts); glibc gives threads their own arenas, each keeping freed memory for reuse, so
    a worker's footprint grew with every upload it had served, in a different arena each
    time. Python allocates small objects itself under the GIL, so two arenas cost no
    measurable contention (docs/performance.md, "Memory": PSS during a 1 GiB S3 upload
    -14 %, rate unchanged; a fixed mmap threshold saved more but cost 20 % of the rate).
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, 2)


_M_ARENA_MAX = -8  # glibc's <malloc.h>
TRIM_AFTER_BYTES = 8 * 1024 * 1024  # a body of at least one S3 part


def post_request(worker, req, environ, resp) -> None:
    """After a large request body, hand the heap memory it left free back to the kernel.

    The buffers an upload passes through (its parts, the parser's chunks) are freed when
    it ends, but glibc keeps freed heap pages for reuse, so each worker that had served
    an upload held tens of MiB more at rest than one that had not (37 against 62-81 MiB
    private). ``malloc_trim`` returns them: one call per large request, milliseconds,
    after the answer was sent (docs/performance.md, "Memory")."""
    if environ and _large_body(environ):
        libc = _libc()
        if libc is not None:
            libc.malloc_trim(0)


def _large_body(environ: dict) -> bool:
    """A body of at least ``TRIM_AFTER_BYTES``, or a chunked one (length unknown)."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) >= TRIM_AFTER_BYTES
    except ValueError:
        return False


def _libc():  # -> ctypes.CDLL | None
    """glibc, for its malloc tuning; None elsewhere (musl, macOS: nothing to tune)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def post_worker_init(worker) -> None:
    """Freeze what the worker built on start (the app, its engine, compiled statements).

    A full collection walks every tracked object: ~100,000 of them after start-up, tens
    of milliseconds with the GIL held, during which all of the worker's requests wait;
    it came back every few hundred requests and made the p99 of index pages. Frozen
    objects are skipped, so a full collection only walks what requests left behind.
    """
    import gc

    gc.collect()
    gc.freeze()


_PRELOADED = (
    "entrypoints.http.app",
    "adapters.unit_of_work",
    "adapters.package_metadata",
    "adapters.passwords",
    "adapters.clock",
    "adapters.database",
    "adapters.upstream.client",  # httpx: every worker builds the (lazy) client
    "entrypoints.http.upstream_metrics",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "prometheus_client",
    "prometheus_client.multiprocess",  # every /metrics scrape of a worker imports it
)
_STORE_MODULES = {
    "filesystem": ("adapters.blobstore_fs",),
    # boto3.s3.inject: imported by boto3 as each S3 client is made, so in every worker.
    "s3": ("adapters.blobstore_s3", "boto3.s3.inject"),
}
