"""Revalidations a request waits for only so long when it has a copy to serve.

When a cached page's TTL is over, the next request asks the upstream again. If the
upstream hangs, waiting the whole read timeout (20 s by default) would outlast pip's own
timeout (15 s), so a request holding a servable copy waits at most ``wait`` seconds: the
revalidation goes on in a thread of this process and lands in the database when it ends,
while the request serves its copy marked stale. Requests for the same page meanwhile join
the revalidation in flight instead of starting another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout


class RevalidationPending(Exception):
    """The revalidation did not end within the wait; it goes on in the background."""


class Revalidations:
    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="orchard-upstream")
        self._in_flight: dict[Hashable, Future[str]] = {}
        self._lock = threading.RLock()  # a done future runs its callback at once, inside

    def run(self, key: Hashable, work: Callable[[], str], wait: float) -> str:
        """``work()``'s result (or its exception) if it ends within ``wait`` seconds, else
        ``RevalidationPending``; one ``work`` per key at a time in this process."""
        with self._lock:
            future = self._in_flight.get(key)
            if future is None:
                future = self._pool.submit(work)
                self._in_flight[key] = future
                future.add_done_callback(lambda done: self._forget(key, done))
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            raise RevalidationPending() from None

    def _forget(self, key: Hashable, done: Future[str]) -> None:
        with self._lock:
            if self._in_flight.get(key) is done:
                del self._in_flight[key]
