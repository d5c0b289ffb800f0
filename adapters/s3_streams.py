"""The S3 store's streams: the hashing multipart writer, the ranged readers, and the
translation of botocore failures into port errors (``adapters/blobstore_s3.py`` uses them).

A stream knows one object (``S3Object``: client, bucket, key), never the store: the
store decides where objects live and hands each stream its own.
"""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError

from adapters.hashing import MultiHasher
from domain.errors import BackendUnavailable, BlobNotFound, TooLarge
from domain.model import Checksums
from domain.ports import BlobReader, BlobWriter, StagedBlob

CHUNK = 1024 * 1024
UNAVAILABLE = "The blob store is unavailable."
_MISSING = {"NoSuchKey", "NotFound", "404"}
NETWORK_ERRORS = (BotoConnectionError, HTTPClientError, NoCredentialsError)
PART = 8 * 1024 * 1024  # the smallest part we send; grows so 10,000 parts cover max_size
IN_FLIGHT = 2  # parts uploading while the next one fills: memory <= (IN_FLIGHT + 1) parts


@contextlib.contextmanager
def s3_errors() -> Iterator[None]:
    """Translate botocore failures into port errors; other client errors propagate."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _MISSING or (status == 404 and code != "NoSuchBucket"):
            raise BlobNotFound("The blob does not exist.") from None
        if status >= 500 or code in {"NoSuchBucket", "SlowDown", "RequestTimeout"}:
            raise BackendUnavailable(UNAVAILABLE) from error
        raise
    except NETWORK_ERRORS as error:
        raise BackendUnavailable(UNAVAILABLE) from error


@dataclass(frozen=True)
class S3Object:
    """One object: where a stream reads or writes. ``client`` is a boto3 S3 client."""

    client: Any
    bucket: str
    key: str

    def get(self, start: int = 0, end: int | None = None) -> dict[str, Any]:
        """GetObject for bytes ``start``..``end`` inclusive (no Range header for all of it)."""
        extra = {} if start == 0 and end is None else {"Range": f"bytes={start}-{_s(end)}"}
        with s3_errors():
            return self.client.get_object(Bucket=self.bucket, Key=self.key, **extra)


class PartSender(BlobWriter):
    """What both S3 writers share: hash each chunk and send full parts from background
    threads into a multipart upload to ``target``; on a store failure abort everything.

    ``_starting`` is asked once, before the first part: a writer that finds it need not
    send the bytes (the blob exists) answers False, and the rest is only hashed."""

    def __init__(self, target: S3Object, max_size: int | None) -> None:
        self._target, self._max_size = target, max_size
        self._part_size = max(PART, -(-(max_size or 0) // 10_000))
        self._hasher, self._buffer = MultiHasher(), bytearray()
        self._upload_id: str | None = None
        self._dropping = False  # the bytes are hashed and not sent
        self._parts: list[Future[dict[str, Any]]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._open = True

    def write(self, data: bytes) -> int:
        if not self._open:
            raise ValueError("I/O operation on a finished or aborted upload.")
        if self._max_size is not None and self._hasher.size + len(data) > self._max_size:
            self.abort()
            raise TooLarge(f"The content exceeds the maximum size of {self._max_size} bytes.")
        if self._dropping:
            self._hasher.update(data)
            return len(data)
        self._hasher.update(data, alongside=lambda: self._buffer.extend(data))
        if len(self._buffer) >= self._part_size:
            self._guarded(self._send_part)
        return len(data)

    def _guarded(self, step: Any) -> Any:
        """Run a step; on any store failure abort everything, then re-raise."""
        try:
            with s3_errors():
                return step()
        except BaseException:
            self.abort()
            raise

    def _starting(self) -> bool:
        """Whether to open the multipart upload (asked before the first part)."""
        return True

    def _send_part(self) -> None:
        client, bucket, key = self._target.client, self._target.bucket, self._target.key
        if self._upload_id is None:
            if not self._starting():
                self._dropping, self._buffer = True, bytearray()
                return
            created = client.create_multipart_upload(Bucket=bucket, Key=key)
            self._upload_id = created["UploadId"]
            self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="orchard-s3-part")
        for done in self._parts[: max(0, len(self._parts) - IN_FLIGHT + 1)]:
            done.result()  # bounded memory: wait for the oldest before queueing another
        # The filled buffer itself is the part's body, not a copy of it: this writer
        # starts a new one and never touches the old again (botocore sends, signs and
        # checksums a bytearray as it does bytes). -8 to -14 MiB at the peak of each
        # upload in flight (docs/performance.md, "Memory").
        body, self._buffer = self._buffer, bytearray()
        number = len(self._parts) + 1
        assert self._pool is not None
        self._parts.append(self._pool.submit(self._upload_part, number, body))

    def _upload_part(self, number: int, body: bytearray) -> dict[str, Any]:
        answer = self._target.client.upload_part(
            Bucket=self._target.bucket,
            Key=self._target.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._parts, self._buffer = [], bytearray()


class S3Writer(PartSender):
    """Sends the parts into the temporary object ``target``; ``token`` names it in the
    ``StagedBlob``."""

    def __init__(
        self,
        target: S3Object,
        token: str,
        max_size: int | None,
        hold: Callable[[Checksums, bytes], StagedBlob] | None = None,
    ) -> None:
        super().__init__(target, max_size)
        self._token = token
        self._hold = hold  # for a body under one part: keep it in memory, hashed

    def finish(self) -> StagedBlob:
        if not self._open:
            raise ValueError("I/O operation on a finished or aborted upload.")
        if self._upload_id is None and self._hold is not None:
            # Nothing sent yet and the digest known: no temporary object at all; the
            # store PUTs the bytes to their final key in promote (one request, not four).
            held = self._hold(self._hasher.checksums(), bytes(self._buffer))
            self._open, self._buffer = False, bytearray()
            return held
        self._guarded(self._complete)
        self._open = False
        return StagedBlob(token=self._token, checksums=self._hasher.checksums())

    def _complete(self) -> None:
        client, bucket, key = self._target.client, self._target.bucket, self._target.key
        if self._upload_id is None:
            client.put_object(Bucket=bucket, Key=key, Body=bytes(self._buffer))
            self._buffer = bytearray()
            return
        if self._buffer:
            self._send_part()
        parts = [future.result() for future in self._parts]
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=self._upload_id, MultipartUpload={"Parts": parts}
        )
        self._shutdown()

    def abort(self) -> None:
        # Also after finish: an unclaimed staged blob is dropped (the HTTP layer relies on it).
        self._open = False
        self._shutdown()
        client, bucket, key = self._target.client, self._target.bucket, self._target.key
        with contextlib.suppress(ClientError, *NETWORK_ERRORS):  # the sweep catches what stays
            if self._upload_id is not None:
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=self._upload_id)
            client.delete_object(Bucket=bucket, Key=key)


class S3Reader(BlobReader):
    def __init__(self, body: Any, size: int) -> None:
        self._body, self.size = body, size  # body None: an empty range

    def __iter__(self) -> Iterator[bytes]:
        if self._body is not None:
            with s3_errors():
                yield from self._body.iter_chunks(CHUNK)

    def close(self) -> None:
        if self._body is not None:
            self._body.close()


class RangeFile(io.RawIOBase):
    """A seekable read-only view of an object: each read is one ranged GET."""

    def __init__(self, source: S3Object, size: int) -> None:
        super().__init__()
        self._source, self._size, self._pos = source, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        end = min(self._pos + len(buffer), self._size) - 1
        if end < self._pos:
            return 0
        body = self._source.get(self._pos, end)["Body"]
        with s3_errors(), contextlib.closing(body):
            data = body.read()
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def new_token() -> str:
    """32 hex digits, the first 12 the creation time in ms (like a UUIDv7): a sweep can
    date an upload without trusting the server's Initiated (moto reports a fixed date)."""
    return f"{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex[:20]}"


def _s(end: int | None) -> str:
    return "" if end is None else str(end)
