"""Every digest Orchard records (sha256, md5, sha1, blake2b-256), in one streaming pass.

Four digests in one thread are far slower than any one of them. hashlib releases the GIL
for buffers above 2 KiB, so two threads really run in parallel; pairing one slow digest
(md5, blake2b) with one fast one (sha256, sha1) balances the two sides and nearly
doubles throughput, where pairing the two slow ones would leave one side waiting. Under
full load (every core busy with other uploads) the split costs only a thread hand-off
per chunk. Small chunks are hashed inline because the hand-off would cost more than it
saves. The measured figures are in ``docs/performance.md`` ("Module figures").

A store passes its write of the chunk as ``alongside``: then both halves go to helpers
and the write runs in the caller meanwhile, instead of after the hashing.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from domain.model import Checksums

# Below this, a thread hand-off (~20 us) costs more than hashing the chunk inline.
_PARALLEL_THRESHOLD = 256 * 1024


@functools.cache
def _helper_pool() -> ThreadPoolExecutor:
    """One small pool shared by every hasher, created on first use (never at import).

    Two tasks per large chunk and upload: eight threads keep four uploads fully parallel.
    """
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="orchard-hash")


class MultiHasher:
    """Feed chunks with ``update``; ``checksums()`` returns all four digests and the size.

    Holds no reference to the data after ``update`` returns, so memory stays bounded by
    the caller's chunk size.
    """

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._blake2b = hashlib.blake2b(digest_size=32)
        self._size = 0

    def update(
        self, data: bytes | bytearray | memoryview, alongside: Callable[[], object] | None = None
    ) -> None:
        """Hash ``data``; ``alongside`` (the store's write of the same bytes) runs in the
        calling thread meanwhile.

        A large chunk is hashed by two helpers while the caller runs ``alongside``: a
        write that waited for the hashing used to add its whole time (0.3-2 ms per MiB
        on a virtual disk) to every chunk. Without ``alongside`` the caller hashes one
        half itself. Either way ``update`` returns only when all of it is done, and an
        error from ``alongside`` is raised after the helpers have finished with ``data``.
        """
        self._size += len(data)
        large = len(data) >= _PARALLEL_THRESHOLD
        helpers = self._hand_off(data, halves=1 if alongside is None else 2) if large else []
        try:
            if not helpers:
                self._update_helper_side(data)
            if len(helpers) < 2:
                self._update_caller_side(data)
            if alongside is not None:
                alongside()
        finally:
            for helper in helpers:
                helper.result()

    def _hand_off(self, data: bytes | bytearray | memoryview, halves: int) -> list[Future[None]]:
        """Give up to ``halves`` of the digests to helper threads; fewer when the pool is
        shut down (a draining gunicorn worker's process is exiting and its pool takes no
        new work: the caller then hashes the rest inline, and the upload still finishes)."""
        helpers: list[Future[None]] = []
        for side in (self._update_helper_side, self._update_caller_side)[:halves]:
            try:
                helpers.append(_helper_pool().submit(side, data))
            except RuntimeError:
                break
        return helpers

    def _update_helper_side(self, data: bytes | bytearray | memoryview) -> None:
        self._md5.update(data)
        self._sha256.update(data)

    def _update_caller_side(self, data: bytes | bytearray | memoryview) -> None:
        self._blake2b.update(data)
        self._sha1.update(data)

    @property
    def size(self) -> int:
        return self._size

    def checksums(self) -> Checksums:
        return Checksums(
            sha256=self._sha256.hexdigest(),
            md5=self._md5.hexdigest(),
            sha1=self._sha1.hexdigest(),
            blake2b_256=self._blake2b.hexdigest(),
            size=self._size,
        )
