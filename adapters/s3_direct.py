"""Zero-copy S3 uploads: when the client declares the SHA-256 before the bytes, they go
straight to the final content-addressed key, never through a temporary object and a copy.

The safe path (``S3Writer`` in ``s3_streams.py``) writes every byte twice: parts to
``.tmp/<token>``, then a server-side copy at promote. With a declared digest the final key
is known before the first byte, so:

- **Small** (under one part): the bytes stay in memory, hashed; ``promote`` PUTs them to
  the final key (one request, atomic, and it refreshes LastModified like a promote must).
- **Large, key absent**: parts of a multipart upload *to the final key* leave as the
  bytes arrive. An uncompleted multipart upload is invisible; it is completed only once
  the whole body hashed to the declared digest, under the artifact row's lock in
  ``promote`` (or earlier, when the use case reads the staged archive's metadata:
  the bytes are then whole and verified). A wrong digest aborts it: nothing is visible.
- **Large, key present** (found by refreshing it, a self-copy, when the first part is
  due): the bytes are hashed and dropped; ``promote`` refreshes the object again.

GC safety is the same protocol as before (``docs/architecture.md``): ``promote`` runs
with the artifact row locked and makes sure the final key holds the blob before the row
commits (complete, PUT, or refresh); GC deletes a blob only under that lock or the
orphan claim, and never one whose row has a reference. If GC removed a present blob
while its bytes were being discarded, ``promote`` finds it gone and the upload fails
with a 503 (nothing recorded) rather than committing a row without bytes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from adapters.s3_streams import NETWORK_ERRORS, PartSender, RangeFile, S3Object, s3_errors
from domain.errors import BackendUnavailable, BlobNotFound, ChecksumMismatch
from domain.model import Checksums
from domain.ports import StagedBlob

VANISHED = (
    "The stored copy of these bytes was removed while the upload was being recorded "
    "(garbage collection); nothing was stored. Retry the upload."
)

DIRECT = "direct"  # the token: no temporary object names these bytes
REFUSED = "The content does not match its declared SHA-256; nothing was stored."


@dataclass
class _Placement:
    """Where the verified bytes are: ``held`` in memory, ``pending`` in an uncompleted
    multipart upload, ``written`` at the final key, ``present`` there before we came,
    ``refused`` nowhere (the digest did not match), ``dropped`` after a discard."""

    state: str
    data: bytes = b""
    upload_id: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DirectStaged(StagedBlob):
    """A staged blob written (or about to be) at its final key; only this store reads it."""

    target: S3Object | None = field(default=None, compare=False, repr=False)
    placement: _Placement = field(default_factory=lambda: _Placement("refused"), compare=False)


class DirectWriter(PartSender):
    """Hashes every chunk; sends parts to the final key's multipart upload, or holds a
    small body in memory, or drops the bytes when the key already holds them."""

    def __init__(
        self, target: S3Object, declared: str, max_size: int | None, refresh: Callable[[], None]
    ) -> None:
        super().__init__(target, max_size)
        self._declared = declared
        self._refresh = refresh  # restarts the final key's LastModified, or BlobNotFound
        self._staged: DirectStaged | None = None

    def _starting(self) -> bool:
        """Send nothing when the final key holds the blob already; its LastModified then
        restarts, so GC, which spares blobs touched within its grace period, keeps it."""
        try:
            self._refresh()
        except BlobNotFound:
            return True
        return False

    def finish(self) -> StagedBlob:
        if not self._open:
            raise ValueError("I/O operation on a finished or aborted upload.")
        self._staged = self._guarded(self._place)
        self._open = False
        return self._staged

    def _place(self) -> DirectStaged:
        checksums = self._hasher.checksums()
        if checksums.sha256 != self._declared:
            self.abort()  # an uncompleted multipart upload never becomes visible
            return _staged(checksums, self._target, _Placement("refused"))
        if self._dropping:  # the final key held the blob before the first part
            return _staged(checksums, self._target, _Placement("present"))
        if self._upload_id is None:
            placement = _Placement("held", data=bytes(self._buffer))
            self._buffer = bytearray()
            return _staged(checksums, self._target, placement)
        if self._buffer:
            self._send_part()
        parts = [future.result() for future in self._parts]
        self._shutdown()
        pending = _Placement("pending", upload_id=self._upload_id, parts=parts)
        return _staged(checksums, self._target, pending)

    def abort(self) -> None:
        # Also after finish: an unclaimed staged blob is dropped (the HTTP layer relies on it).
        self._open = False
        self._shutdown()
        if self._staged is not None:
            discard(self._staged)
            return
        if self._upload_id is not None:
            _abort_upload(self._target, self._upload_id)
            self._upload_id = None


def held(checksums: Checksums, target: S3Object, data: bytes) -> DirectStaged:
    """A body under one part, hashed and kept in memory, for ``target`` (its final key)."""
    return _staged(checksums, target, _Placement("held", data=data))


def _staged(checksums: Checksums, target: S3Object, placement: _Placement) -> DirectStaged:
    return DirectStaged(DIRECT, checksums, target=target, placement=placement)


def open_staged(staged: DirectStaged) -> BinaryIO:
    """The verified bytes: from memory, or from the final key (completing a pending
    upload first: the metadata reader needs the whole archive, and it is verified)."""
    placement = staged.placement
    if placement.state == "held":
        return io.BytesIO(placement.data)
    if placement.state not in {"pending", "written", "present"}:
        raise BlobNotFound("The staged blob does not exist.")
    target = staged.target
    assert target is not None
    raw = RangeFile(_Completing(target.client, target.bucket, target.key, staged), staged.size)
    return io.BufferedReader(raw, buffer_size=256 * 1024)


@dataclass(frozen=True)
class _Completing(S3Object):
    """The final key's object, completing a pending upload before the first read, so a
    reader that never reads (a file that is not a package archive) completes nothing."""

    staged: DirectStaged | None = None

    def get(self, start: int = 0, end: int | None = None) -> dict[str, Any]:
        if self.staged is not None:
            _complete(self.staged)
        return super().get(start, end)


def promote(staged: DirectStaged, refresh: Callable[[], None]) -> None:
    """Make the final key hold the verified bytes; the caller holds the artifact row's lock.
    ``refresh()`` restarts the existing object's LastModified (the store's self-copy)."""
    placement, target = staged.placement, staged.target
    if placement.state == "refused" or target is None:
        raise ChecksumMismatch(REFUSED)
    if placement.state == "dropped":
        raise BlobNotFound("The staged blob does not exist.")
    if placement.state == "held":
        with s3_errors():
            target.client.put_object(Bucket=target.bucket, Key=target.key, Body=placement.data)
        return
    if placement.state == "pending":
        _complete(staged)
        return
    try:
        if placement.state == "written":  # completed by this upload moments ago
            if not _exists(target):
                raise BlobNotFound(VANISHED)
        else:  # present before: restart GC's grace period, as a promote always has
            refresh()
    except BlobNotFound:
        raise BackendUnavailable(VANISHED) from None


def _complete(staged: DirectStaged) -> None:
    placement, target = staged.placement, staged.target
    if placement.state != "pending" or target is None:
        return
    with s3_errors():
        target.client.complete_multipart_upload(
            Bucket=target.bucket,
            Key=target.key,
            UploadId=placement.upload_id,
            MultipartUpload={"Parts": placement.parts},
        )
    placement.state = "written"


def discard(staged: DirectStaged) -> None:
    """Drop what was not made visible. A completed or pre-existing final key stays: another
    upload's row may name it; with no row it is an orphan that GC sweeps after the grace."""
    placement = staged.placement
    if placement.state == "pending" and staged.target is not None and placement.upload_id:
        _abort_upload(staged.target, placement.upload_id)
    if placement.state in {"pending", "held"}:
        placement.state, placement.data = "dropped", b""


def _abort_upload(target: S3Object, upload_id: str) -> None:
    with contextlib.suppress(ClientError, *NETWORK_ERRORS):  # the sweep catches what stays
        target.client.abort_multipart_upload(
            Bucket=target.bucket, Key=target.key, UploadId=upload_id
        )


def _exists(target: S3Object) -> bool:
    try:
        with s3_errors():
            target.client.head_object(Bucket=target.bucket, Key=target.key)
    except BlobNotFound:
        return False
    return True
