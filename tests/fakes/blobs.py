"""An in-memory BlobStore: promoted blobs and staged blobs in two dicts.

It keeps state only (no call log) so tests assert the end state: the blob is there, the
temporary object is gone. The contract test runs the same cases on it as on the real stores.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from adapters.hashing import MultiHasher
from domain.errors import BlobNotFound, TooLarge
from domain.ports import (
    BlobReader,
    BlobStore,
    BlobWriter,
    Clock,
    StagedBlob,
    TemporaryUsage,
)
from tests.fakes.clock import FakeClock

CHUNK = 64 * 1024


class _FakeWriter(BlobWriter):
    def __init__(self, store: FakeBlobStore, max_size: int | None) -> None:
        self._store = store
        self._max_size = max_size
        self._token = uuid.uuid4().hex
        self._hasher = MultiHasher()
        store.staged[self._token] = (bytearray(), store.clock.now())

    def write(self, data: bytes) -> int:
        size = self._hasher.size + len(data)
        if self._max_size is not None and size > self._max_size:
            self.abort()
            raise TooLarge(f"The content exceeds the maximum size of {self._max_size} bytes.")
        self._hasher.update(data)
        self._store.staged[self._token][0].extend(data)
        return len(data)

    def finish(self) -> StagedBlob:
        return StagedBlob(token=self._token, checksums=self._hasher.checksums())

    def abort(self) -> None:
        self._store.staged.pop(self._token, None)


class _FakeReader(BlobReader):
    def __init__(self, content: bytes) -> None:
        self._content = content
        self.size = len(content)

    def __iter__(self) -> Iterator[bytes]:
        for offset in range(0, len(self._content), CHUNK):
            yield self._content[offset : offset + CHUNK]

    def close(self) -> None:
        self._content = b""


class FakeBlobStore(BlobStore):
    """``blobs``: sha256 -> (bytes, modified_at); ``staged``: token -> (bytes, started_at).

    Times come from ``clock``; by default a FakeClock that stays at its start, so a test
    that moves its own FakeClock forward sees these blobs age (GC grace periods).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.blobs: dict[str, tuple[bytes, datetime]] = {}
        self.staged: dict[str, tuple[bytearray, datetime]] = {}
        self.quarantined: dict[str, bytes] = {}  # sha256 -> bytes moved aside by fsck
        self.declared: list[str | None] = []  # each writer's declared SHA-256, in order

    def writer(self, max_size: int | None = None, sha256: str | None = None) -> BlobWriter:
        self.declared.append(sha256)
        return _FakeWriter(self, max_size)

    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        if staged.token not in self.staged:
            raise BlobNotFound("The staged blob does not exist.")
        return io.BytesIO(bytes(self.staged[staged.token][0]))

    def promote(self, staged: StagedBlob) -> None:
        if staged.sha256 in self.blobs:
            self.staged.pop(staged.token, None)
            self.blobs[staged.sha256] = (self.blobs[staged.sha256][0], self.clock.now())
            return
        if staged.token not in self.staged:
            raise BlobNotFound("The staged blob does not exist.")
        self.blobs[staged.sha256] = (bytes(self.staged.pop(staged.token)[0]), self.clock.now())

    def place_new(self, staged: StagedBlob) -> bool:
        if staged.sha256 in self.blobs:
            return False
        if staged.token not in self.staged:
            raise BlobNotFound("The staged blob does not exist.")
        self.blobs[staged.sha256] = (bytes(self.staged.pop(staged.token)[0]), self.clock.now())
        return True

    def discard(self, staged: StagedBlob) -> None:
        self.staged.pop(staged.token, None)

    def exists(self, sha256: str) -> bool:
        """Whether a promoted blob is there (a test shortcut, not part of the port)."""
        return sha256 in self.blobs

    def read(self, sha256: str) -> bytes:
        """The whole blob (a test shortcut, not part of the port)."""
        if sha256 not in self.blobs:
            raise BlobNotFound("The blob does not exist.")
        return self.blobs[sha256][0]

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        content = self.read(sha256)
        last = len(content) - 1 if end is None else min(end, len(content) - 1)
        return _FakeReader(content[start : last + 1])

    def delete(self, sha256: str) -> None:
        self.blobs.pop(sha256, None)

    def quarantine(self, sha256: str) -> None:
        if sha256 not in self.blobs:
            raise BlobNotFound("The blob does not exist.")
        self.quarantined[sha256] = self.blobs.pop(sha256)[0]

    def modified_at(self, sha256: str) -> datetime | None:
        return self.blobs[sha256][1] if sha256 in self.blobs else None

    def iter_blobs(self) -> Iterator[str]:
        yield from sorted(self.blobs)

    def sweep_temporary(self, older_than: datetime) -> int:
        stale = [token for token, (_, at) in self.staged.items() if at < older_than]
        for token in stale:
            del self.staged[token]
        return len(stale)

    def stale_temporary(self, older_than: datetime) -> TemporaryUsage:
        stale = [len(data) for data, at in self.staged.values() if at < older_than]
        return TemporaryUsage(len(stale), sum(stale))

    def temporary_count(self) -> int:
        return len(self.staged)

    def presigned_url(
        self, sha256: str, filename: str, content_type: str, expires_in: int
    ) -> str | None:
        return None

    def local_path(self, sha256: str, size: int | None = None) -> str | None:
        return None

    def check(self) -> None:
        return None
