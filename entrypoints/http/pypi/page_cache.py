"""Rendered index pages, kept per worker process and reused while their key holds.

A project page depends only on its package's serial, which grows with every upload, yank
and delete; so a page rendered for serial N is right for as long as the serial is N, on
every instance. Checking the serial is one indexed read; rendering 200 files is most of a
request's time. The cache is bounded in bytes and forgets the least recently used page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class RenderedPages:
    def __init__(self, max_bytes: int = 4 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pages  # one dict lookup: atomic under the GIL, no lock needed

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self._max_bytes // 4:
            return  # one huge page must not evict everything else
        with self._lock:
            previous = self._pages.pop(key, None)
            self._bytes -= len(previous) if previous is not None else 0
            self._pages[key] = body
            self._bytes += len(body)
            while self._bytes > self._max_bytes:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted)

    @property
    def size(self) -> int:
        return self._bytes
