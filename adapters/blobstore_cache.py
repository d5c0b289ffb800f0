"""A read-through cache of blobs on local disk in front of another ``BlobStore`` (S3): the
pattern Artifactory calls cache-fs. A decorator over the port: every method is the inner
store's, except that reads are answered from a verified local copy when there is one.

- ``local_path`` (a whole-file download, served with sendfile) and ``open`` look for a
  copy first. On a miss the whole blob is fetched from the inner store into the cache,
  verified (``adapters/blob_cache.py``), and the answer is then read from the copy, as
  the filesystem store would read it: a download from the cache is byte for byte the
  filesystem store's, ranges and headers included. Threads of one process that miss the
  same blob wait for one fill; processes each fill (one identical copy remains).
- A blob larger than the cache admits (``max_blob_size``), or any read while the cache's
  disk has failed, is read from the inner store directly, as without the cache.
- A fill whose bytes do not hash to the key keeps nothing and is logged as a corrupt
  blob; the request is then answered from the inner store, as without the cache.
- ``delete`` and ``quarantine`` drop this instance's copy too. Other instances keep
  theirs, correct bytes of the same digest that the database no longer leads to, until
  eviction ages them out.

With ``reads=False`` (the command line: fsck and backups must read the store itself, and
must not fill the cache with every blob) reads go to the inner store and only the drops
on ``delete`` and ``quarantine`` remain.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

from adapters.blob_cache import BlobCache
from domain.errors import BlobNotFound
from domain.ports import BlobReader, BlobStore, BlobWriter, StagedBlob, TemporaryUsage

REMEMBERED = 4096  # blobs known to be too large to cache, per process


class CachedBlobStore(BlobStore):
    def __init__(
        self,
        inner: BlobStore,
        cache: BlobCache,
        *,
        reads: bool = True,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self._inner, self._cache, self._reads = inner, cache, reads
        self._observe = observe or (lambda outcome: None)  # hit, miss or skip per read
        self._too_large: OrderedDict[str, None] = OrderedDict()
        self._fills: dict[str, list[Any]] = {}  # sha256 -> [its fill's lock, threads using it]
        self._lock = threading.Lock()

    @property
    def inner(self) -> BlobStore:
        return self._inner

    # ------------------------------------------------------------------ reads

    def local_path(self, sha256: str) -> str | None:
        if not self._reads:
            return self._inner.local_path(sha256)
        try:
            found = self._fetch(sha256)
        except BlobNotFound:
            return None  # as the stores answer: no such file here
        if isinstance(found, str):
            return found
        if found is not None:
            found.close()  # too large: the caller's open() reads the store (once per blob)
        return self._inner.local_path(sha256)

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        found = self._fetch(sha256) if self._reads else None
        if isinstance(found, str):
            try:
                return self._cache.open_copy(found, start, end)
            except FileNotFoundError:  # evicted since it was found
                found = None
        if found is not None:  # the whole blob, from the store, not cached
            if start == 0 and (end is None or end >= found.size - 1):
                return found
            found.close()
        return self._inner.open(sha256, start, end)

    def _fetch(self, sha256: str) -> str | BlobReader | None:
        """The copy's path, filling it first on a miss; or, for a blob the cache does not
        take, the inner store's reader over all of it (for the caller to use or close);
        None when the copy could not be made (the caller reads the store)."""
        path = self._cache.find(sha256)
        if path is not None:
            self._observe("hit")
            return path
        if not self._cache.usable or self._known_too_large(sha256):
            self._observe("skip")
            return None
        with self._one_fill(sha256):
            path = self._cache.find(sha256)  # another thread filled it while we waited
            if path is not None:
                self._observe("hit")
                return path
            reader = self._inner.open(sha256)
            if not self._cache.admits(reader.size):
                self._observe("skip")
                if self._cache.usable:  # then it is too large (for the blob limit or the cache)
                    self._remember_too_large(sha256)
                return reader
            self._observe("miss")
            try:
                return self._cache.fill(sha256, reader)
            finally:
                reader.close()

    @contextlib.contextmanager
    def _one_fill(self, sha256: str) -> Iterator[None]:
        """Threads of this process that miss the same blob at once wait for one fill
        (a new release's first downloads), instead of each reading it from the store."""
        with self._lock:
            entry = self._fills.setdefault(sha256, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._fills[sha256]

    def _known_too_large(self, sha256: str) -> bool:
        with self._lock:
            return sha256 in self._too_large

    def _remember_too_large(self, sha256: str) -> None:
        with self._lock:
            self._too_large[sha256] = None
            while len(self._too_large) > REMEMBERED:
                self._too_large.popitem(last=False)

    # ------------------------------------------------------------------ removals

    def delete(self, sha256: str) -> None:
        try:
            self._inner.delete(sha256)
        finally:
            self._cache.drop(sha256)

    def quarantine(self, sha256: str) -> None:
        try:
            self._inner.quarantine(sha256)
        finally:
            self._cache.drop(sha256)

    # ------------------------------------------------------------------ the rest: the store's

    def writer(self, max_size: int | None = None, sha256: str | None = None) -> BlobWriter:
        return self._inner.writer(max_size, sha256)

    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        return self._inner.open_staged(staged)

    def place_new(self, staged: StagedBlob) -> bool:
        return self._inner.place_new(staged)

    def promote(self, staged: StagedBlob) -> None:
        self._inner.promote(staged)

    def discard(self, staged: StagedBlob) -> None:
        self._inner.discard(staged)

    def modified_at(self, sha256: str) -> datetime | None:
        return self._inner.modified_at(sha256)

    def iter_blobs(self) -> Iterable[str]:
        return self._inner.iter_blobs()

    def sweep_temporary(self, older_than: datetime) -> int:
        return self._inner.sweep_temporary(older_than)

    def stale_temporary(self, older_than: datetime) -> TemporaryUsage:
        return self._inner.stale_temporary(older_than)

    def presigned_url(
        self, sha256: str, filename: str, content_type: str, expires_in: int
    ) -> str | None:
        return self._inner.presigned_url(sha256, filename, content_type, expires_in)

    def check(self) -> None:
        self._inner.check()  # the cache's disk never makes the instance unready
