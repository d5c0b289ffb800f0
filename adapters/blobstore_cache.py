"""A read-through cache of blobs on local disk in front of another ``BlobStore`` (S3): the
pattern Artifactory calls cache-fs. A decorator over the port: every method is the inner
store's, except that reads are answered from a verified local copy when there is one.

- ``local_path`` (a whole-file download, served with sendfile) and ``open`` look for a
  copy first. On a miss of a blob up to ``stream_over`` bytes the whole blob is fetched
  from the inner store into the cache, verified (``adapters/blob_cache.py``), and the
  answer is then read from the copy, as the filesystem store would read it: a download
  from the cache is byte for byte the filesystem store's, ranges and headers included.
  Threads of one process that miss the same blob wait for one fill; processes each fill
  (one identical copy remains).
- A larger blob is not fetched before its first byte is sent (a gigabyte would wait
  seconds for it): a whole read of it streams from the inner store to the client while
  a background thread copies the same chunks into the cache and verifies them, and the
  copy is kept only when the read went to the end and the bytes hash to the key. A read
  the client abandons keeps nothing. While one thread streams such a fill, the others
  that miss the blob read the inner store; a range of it, on a miss, is read from the
  inner store too.
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
import functools
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

from adapters.blob_cache import BlobCache
from domain.errors import BlobNotFound
from domain.ports import BlobReader, BlobStore, BlobWriter, StagedBlob, TemporaryUsage

REMEMBERED = 4096  # blobs known to be too large to cache, per process
STREAM_OVER = 16 * 1024 * 1024  # larger blobs are copied while they stream, not before


class CachedBlobStore(BlobStore):
    def __init__(
        self,
        inner: BlobStore,
        cache: BlobCache,
        *,
        reads: bool = True,
        observe: Callable[[str], None] | None = None,
        stream_over: int = STREAM_OVER,
    ) -> None:
        self._inner, self._cache, self._reads = inner, cache, reads
        self._observe = observe or (lambda outcome: None)  # hit, miss or skip per read
        self._stream_over = stream_over
        self._too_large: OrderedDict[str, None] = OrderedDict()
        self._fills: dict[str, list[Any]] = {}  # sha256 -> [its fill's lock, threads using it]
        self._streaming: set[str] = set()  # blobs a thread of this process streams into the cache
        self._lock = threading.Lock()

    @property
    def inner(self) -> BlobStore:
        return self._inner

    # ------------------------------------------------------------------ reads

    def local_path(self, sha256: str, size: int | None = None) -> str | None:
        if not self._reads:
            return self._inner.local_path(sha256, size)
        if size is not None and size > self._stream_over:
            path = self._cache.find(sha256)
            if path is not None:
                self._observe("hit")
                return path
            if self._cache.admits(size):
                return None  # a miss: open() streams it from the store, copying it
            inner = self._inner.local_path(sha256, size)  # never cached: the store's own file
            if inner is not None:
                self._observe("skip")
            return inner
        try:
            found = self._fetch(sha256)
        except BlobNotFound:
            return None  # as the stores answer: no such file here
        if isinstance(found, str):
            return found
        if found is not None:
            found.close()  # too large: the caller's open() reads the store (once per blob)
        return self._inner.local_path(sha256, size)

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        found = self._fetch(sha256) if self._reads else None
        if isinstance(found, str):
            try:
                return self._cache.open_copy(found, start, end)
            except FileNotFoundError:  # evicted since it was found
                found = None
        if found is not None:  # the whole blob, from the store, not (yet) cached
            if start == 0 and (end is None or end >= found.size - 1):
                return found
            found.close()
        return self._inner.open(sha256, start, end)

    def _stream(self, sha256: str, reader: BlobReader) -> BlobReader:
        """``reader`` copied into the cache as it is read, unless another thread of this
        process is copying the same blob already."""
        with self._lock:
            if sha256 in self._streaming:
                return reader
            self._streaming.add(sha256)
        return _CopyingReader(
            reader,
            fill=functools.partial(self._cache.fill, sha256, hash_after=True),
            done=functools.partial(self._streamed, sha256),
        )

    def _streamed(self, sha256: str) -> None:
        with self._lock:
            self._streaming.discard(sha256)

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
            if reader.size > self._stream_over:
                return self._stream(sha256, reader)
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


class _Abandoned(Exception):
    """The read stopped before the end: the copy of its chunks is dropped."""


_END = object()
_QUEUED = 8  # chunks (of 1 MiB from S3) between the client's stream and the copy
STALLED = 300.0  # seconds without a chunk after which a copy is given up


class _CopyingReader(BlobReader):
    """The inner reader's chunks, each also handed to ``fill`` (run in a thread over an
    iterator of them); that iterator ends after the last chunk, or raises ``_Abandoned``
    when the reader is closed before it. A copy that cannot keep up holds the stream
    back by at most ``_QUEUED`` chunks; one that stopped (a disk error: the cache logs
    it and rests) is handed nothing more. ``done`` is called once the copy is over, or
    on ``close`` when the reader was never read."""

    def __init__(
        self,
        inner: BlobReader,
        fill: Callable[[Iterable[bytes]], object],
        done: Callable[[], None],
    ) -> None:
        self._inner, self.size = inner, inner.size
        self._fill, self._done = fill, done
        self._queue: queue.Queue[Any] = queue.Queue(_QUEUED)
        self._stopped = threading.Event()  # the copy is over
        self._thread: threading.Thread | None = None
        self._ended = False  # every byte was read and handed over

    def __iter__(self) -> Iterator[bytes]:
        self._thread = threading.Thread(
            target=self._copy, name="orchard-blob-cache-copy", daemon=True
        )
        self._thread.start()
        sent = 0
        for chunk in self._inner:
            self._hand(chunk)
            sent += len(chunk)
            yield chunk
        self._ended = sent == self.size
        self._hand(_END if self._ended else _Abandoned)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self._thread is None:
                self._done()
            elif not self._ended:
                self._hand(_Abandoned)

    def _hand(self, item: Any) -> None:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _copy(self) -> None:
        try:
            with contextlib.suppress(_Abandoned):
                self._fill(self._chunks())
        finally:
            self._stopped.set()
            self._done()

    def _chunks(self) -> Iterator[bytes]:
        while True:
            try:
                item = self._queue.get(timeout=STALLED)
            except queue.Empty:  # a reader neither read on nor closed: give the copy up
                raise _Abandoned from None
            if item is _END:
                return
            if item is _Abandoned:
                raise _Abandoned
            yield item
