"""Metrics of the upstream cache (hits, misses, stale serves, upstream calls) and the
log of upstream calls (one line each, on stderr beside the access log).

Built lazily like ``entrypoints/http/metrics.py`` (prometheus_client picks its
multiprocess mode when first imported), in its own module so the cache is one thing to
read. The upstream client reports each call through ``record_upstream_call``.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(frozen=True)
class UpstreamMetrics:
    cache: Any  # orchard_upstream_cache_total{kind, outcome}
    calls: Any  # orchard_upstream_calls_total{kind, outcome}
    latency: Any  # orchard_upstream_call_seconds{kind}


_lock = threading.Lock()


def upstream_metrics() -> UpstreamMetrics:
    with _lock:
        return _build()


@functools.cache
def _build() -> UpstreamMetrics:
    from prometheus_client import Counter, Histogram

    return UpstreamMetrics(
        cache=Counter(
            "orchard_upstream_cache",
            "Index pages and files served by the upstream cache, by outcome "
            "(hit, miss, revalidated, stale)",
            ["kind", "outcome"],
        ),
        calls=Counter(
            "orchard_upstream_calls",
            "Requests to upstream indexes, by status or failure (timeout, error)",
            ["kind", "outcome"],
        ),
        latency=Histogram(
            "orchard_upstream_call_seconds",
            "Time to an upstream's response headers (or its failure)",
            ["kind"],
            buckets=LATENCY_BUCKETS,
        ),
    )


def record_cache(kind: str, outcome: str) -> None:
    upstream_metrics().cache.labels(kind, outcome).inc()


def record_upstream_call(kind: str, outcome: str, seconds: float) -> None:
    m = upstream_metrics()
    m.calls.labels(kind, outcome).inc()
    m.latency.labels(kind).observe(seconds)


def configure_upstream_log(level: str) -> None:
    """Timestamped lines of ``orchard.upstream`` on stderr at ``ORCHARD_LOG_LEVEL``: the
    client writes one per call (never with credentials)."""
    logger = logging.getLogger("orchard.upstream")
    if any(getattr(h, "orchard_upstream", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.orchard_upstream = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
