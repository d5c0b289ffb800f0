"""The blob ports: content-addressed storage of artifact bytes.

Two adapters implement ``BlobStore`` (``adapters/blobstore_fs.py``,
``adapters/blobstore_s3.py``); ``tests/fakes/blobs.py`` is the in-memory one. Every
adapter translates its vendor's errors into ``BlobNotFound`` and ``BackendUnavailable``;
``tests/integration/test_blobstore_contract.py`` holds all of them to the same contract.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from domain.model import Checksums


@dataclass(frozen=True)
class StagedBlob:
    """Bytes written to a temporary place in the blob store, hashed, not yet visible.

    ``token`` is the adapter's handle on the temporary object (a path, a key).
    """

    token: str
    checksums: Checksums

    @property
    def sha256(self) -> str:
        return self.checksums.sha256

    @property
    def size(self) -> int:
        return self.checksums.size


class BlobWriter(abc.ABC):
    """A write-only stream into a temporary object that hashes every byte it is given."""

    @abc.abstractmethod
    def write(self, data: bytes) -> int:
        """Append ``data``; raises ``TooLarge`` past the writer's limit,
        ``BackendUnavailable`` when the store fails."""

    @abc.abstractmethod
    def finish(self) -> StagedBlob:
        """Flush and make the bytes durable in the temporary place; return the digests."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop everything written so far. Safe to call more than once, or after finish."""


class BlobReader(abc.ABC):
    """An open blob: iterate for chunks, ``close()`` when done."""

    size: int

    @abc.abstractmethod
    def __iter__(self) -> Iterator[bytes]:
        """The bytes, in chunks of bounded size."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the underlying file or connection."""


@dataclass(frozen=True)
class TemporaryUsage:
    """Temporary upload objects left behind (a worker killed mid-upload): how many, and
    how many bytes they hold."""

    count: int = 0
    bytes: int = 0


class BlobStore(abc.ABC):
    """Content-addressed storage: a blob's key is the hex SHA-256 of its bytes."""

    @abc.abstractmethod
    def writer(self, max_size: int | None = None, sha256: str | None = None) -> BlobWriter:
        """Open a temporary object to stream into. ``max_size`` bounds it (``TooLarge``).

        ``sha256`` is the digest the client declared before sending the bytes (lowercase
        hex), if any. A store may then write straight to the final key, or drop bytes it
        already holds, as long as nothing becomes visible unless the bytes hash to it:
        ``finish`` still reports the digests of what was received, and the caller still
        compares them with the declaration before it promotes.
        """

    @abc.abstractmethod
    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        """A seekable, read-only file object over a staged blob, to read package metadata."""

    @abc.abstractmethod
    def promote(self, staged: StagedBlob) -> None:
        """Make the staged bytes visible under their SHA-256 and drop the temporary object.

        Idempotent: when the blob exists already the temporary one is dropped and the
        existing blob's modification time is refreshed, so garbage collection's grace
        period starts again. Raises ``BackendUnavailable``.
        """

    def place_new(self, staged: StagedBlob) -> bool:
        """Make staged bytes visible under their SHA-256 *only if no blob of that digest
        exists*, in one atomic create-if-absent step, before any row names them.

        Why: the embedded default's writers queue on one SQLite lock, and placing a new
        blob (a rename and a directory fsync) inside the upload's transaction held that
        lock for a quarter of its time. A new blob placed early is safe from garbage
        collection without the row lock: its modification time is fresh, so the orphan
        sweep and the garbage check keep it through the grace period, and collection
        never deletes a blob it found absent. An *existing* blob is refreshed only by
        ``promote``, under the row lock, as before.

        True when this call placed the blob: ``promote`` then has nothing left to do and
        a failure before the commit leaves an orphan the sweep removes after the grace
        period. False leaves the staged blob as it was, for ``promote`` or ``discard``;
        stores that cannot create-if-absent atomically keep this default.
        """
        return False

    @abc.abstractmethod
    def discard(self, staged: StagedBlob) -> None:
        """Drop a staged blob that will not be promoted. Never raises for a missing one."""

    @abc.abstractmethod
    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        """Read bytes ``start`` to ``end`` inclusive (``end=None``: to the last byte).

        Raises ``BlobNotFound`` or ``BackendUnavailable``.
        """

    @abc.abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove a promoted blob. A missing blob is not an error."""

    @abc.abstractmethod
    def quarantine(self, sha256: str) -> None:
        """Move a promoted blob aside (fsck --repair: its bytes do not match its key) so it
        is no longer listed or served, yet kept for a human to inspect. Afterwards
        ``modified_at`` is None and ``open`` raises ``BlobNotFound``. Raises ``BlobNotFound``
        when there is no such blob, ``BackendUnavailable`` when the store fails."""

    @abc.abstractmethod
    def modified_at(self, sha256: str) -> datetime | None:
        """When the blob was last written or refreshed; ``None`` when it does not exist."""

    @abc.abstractmethod
    def iter_blobs(self) -> Iterable[str]:
        """Every promoted blob's key (for fsck and the orphan sweep)."""

    @abc.abstractmethod
    def sweep_temporary(self, older_than: datetime) -> int:
        """Delete temporary objects (and aborted multipart uploads) older than that time;
        return how many were removed."""

    @abc.abstractmethod
    def stale_temporary(self, older_than: datetime) -> TemporaryUsage:
        """What ``sweep_temporary(older_than)`` would remove, removing nothing: the count
        and bytes of temporary objects and unfinished multipart uploads last written
        before that time (for fsck and gc's dry run). Raises ``BackendUnavailable``."""

    @abc.abstractmethod
    def presigned_url(
        self, sha256: str, filename: str, content_type: str, expires_in: int
    ) -> str | None:
        """A URL a client can GET directly, or ``None`` where the store cannot sign."""

    @abc.abstractmethod
    def local_path(self, sha256: str, size: int | None = None) -> str | None:
        """A filesystem path to the blob for zero-copy serving, or ``None``.

        ``size``, the blob's size when the caller knows it, lets a store that makes local
        copies on demand (the read-through cache) leave a large blob to ``open``, which
        streams it while copying it, instead of copying it all before the first byte."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``BackendUnavailable`` unless the store answers now (for /health)."""
