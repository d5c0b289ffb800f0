"""Blobs as objects in one S3 bucket (MinIO or AWS), keyed ``<prefix>ab/cd/<sha256>``
(``names.blob_key``, the layout both stores share).

The upload streams into a temporary object ``<prefix>.tmp/<token>`` while it is hashed
(one PutObject when it fits in a part, else a multipart upload whose parts leave from two
background threads as the bytes arrive); ``promote`` is a server-side copy to the final key.
Chosen by measurement over spooling to local disk and uploading in promote
(``docs/blobstores.md`` has the scripts, ``docs/performance.md`` the figures): promote
runs inside the database transaction with the artifact and package rows locked, so its
several times shorter window wins; on MinIO/AWS the parts also overlap with the client's
upload, no local disk of the file's size is needed, and any instance can sweep the
leftovers.

The final key only ever appears complete (PutObject, CompleteMultipartUpload and
CopyObject are atomic). Promoting a blob that exists copies it onto itself with
``MetadataDirective=REPLACE``: LastModified (GC's grace period) restarts and no byte moves
through Orchard (MinIO rewrites metadata only; AWS copies server-side).
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from adapters import s3_direct
from adapters.s3_direct import DirectStaged, DirectWriter
from adapters.s3_streams import (
    UNAVAILABLE,
    RangeFile,
    S3Object,
    S3Reader,
    S3Writer,
    new_token,
    s3_errors,
)
from domain.errors import BackendUnavailable, BlobNotFound
from domain.model import Checksums
from domain.names import blob_key, blob_of_key, content_disposition
from domain.ports import BlobReader, BlobStore, BlobWriter, StagedBlob, TemporaryUsage

COPY_LIMIT = 5 * 1024**3  # CopyObject's maximum; larger objects need a multipart copy
_TOKEN = re.compile(r"[0-9a-f]{32}")
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


class S3BlobStore(BlobStore):
    """Content-addressed objects in ``bucket``; path-style addressing so MinIO works."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        create_bucket: bool = False,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 2,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._create_bucket = create_bucket
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            max_pool_connections=32,
        )
        # None credentials fall through to boto3's default chain (env, profile, IAM role).
        self._client = _session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=config,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )

    def _key(self, sha256: str) -> str:
        return self._prefix + blob_key(sha256)

    def _temp_key(self, token: str) -> str:
        if not _TOKEN.fullmatch(token):
            raise BlobNotFound("The staged blob does not exist.")
        return f"{self._prefix}.tmp/{token}"

    def _object(self, key: str) -> S3Object:
        return S3Object(self._client, self._bucket, key)

    def writer(self, max_size: int | None = None, sha256: str | None = None) -> BlobWriter:
        self._ensure_bucket()
        if sha256 is not None:  # declared up front: straight to the final key
            target = self._object(self._key(sha256))
            refresh = functools.partial(self._refresh, target.key)
            return DirectWriter(target, sha256, max_size, refresh)
        token = new_token()
        return S3Writer(self._object(self._temp_key(token)), token, max_size, self._held)

    def _held(self, checksums: Checksums, data: bytes) -> StagedBlob:
        """A body that fit in one part, whose digest is known only now: it is kept in
        memory and PUT to its final key in promote, like a declared one."""
        return s3_direct.held(checksums, self._object(self._key(checksums.sha256)), data)

    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        if isinstance(staged, DirectStaged):
            return s3_direct.open_staged(staged)
        raw = RangeFile(self._object(self._temp_key(staged.token)), staged.size)
        return io.BufferedReader(raw, buffer_size=256 * 1024)

    def promote(self, staged: StagedBlob) -> None:
        if isinstance(staged, DirectStaged):
            s3_direct.promote(staged, functools.partial(self._refresh, self._key(staged.sha256)))
            return
        target, source = self._key(staged.sha256), self._temp_key(staged.token)
        try:
            self._copy(target, target, staged.size)  # exists: refresh LastModified only
        except BlobNotFound:
            self._copy(source, target, staged.size)
        with s3_errors():
            self._client.delete_object(Bucket=self._bucket, Key=source)

    def _refresh(self, key: str) -> None:
        """Restart an existing object's LastModified; ``BlobNotFound`` when there is none."""
        with s3_errors():
            size = self._client.head_object(Bucket=self._bucket, Key=key)["ContentLength"]
        self._copy(key, key, int(size))

    def _copy(self, source: str, target: str, size: int) -> None:
        origin = {"Bucket": self._bucket, "Key": source}
        with s3_errors():
            if size <= COPY_LIMIT:
                self._client.copy_object(
                    Bucket=self._bucket, Key=target, CopySource=origin, MetadataDirective="REPLACE"
                )
                return
            self._client.head_object(Bucket=self._bucket, Key=source)  # 404 before a big copy
            self._client.copy(
                origin,
                self._bucket,
                target,
                Config=TransferConfig(multipart_chunksize=512 * 1024 * 1024, max_concurrency=4),
            )

    def discard(self, staged: StagedBlob) -> None:
        if isinstance(staged, DirectStaged):
            s3_direct.discard(staged)
            return
        with s3_errors():
            self._client.delete_object(Bucket=self._bucket, Key=self._temp_key(staged.token))

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        try:
            answer = self._object(self._key(sha256)).get(start, end)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidRange":
                raise
            return S3Reader(None, 0)  # start past the end: nothing to send
        return S3Reader(answer["Body"], int(answer["ContentLength"]))

    def delete(self, sha256: str) -> None:
        with s3_errors():
            self._client.delete_object(Bucket=self._bucket, Key=self._key(sha256))

    def quarantine(self, sha256: str) -> None:
        """Server-side copy to ``<prefix>quarantine/<sha256>`` (outside the fan-out, so never
        listed or served), then delete the original."""
        source, aside = self._key(sha256), f"{self._prefix}quarantine/{sha256}"
        with s3_errors():
            size = self._client.head_object(Bucket=self._bucket, Key=source)["ContentLength"]
        self._copy(source, aside, int(size))
        with s3_errors():
            self._client.delete_object(Bucket=self._bucket, Key=source)

    def modified_at(self, sha256: str) -> datetime | None:
        try:
            with s3_errors():
                head = self._client.head_object(Bucket=self._bucket, Key=self._key(sha256))
        except BlobNotFound:
            return None
        return head["LastModified"].astimezone(UTC)

    def iter_blobs(self) -> Iterator[str]:
        for item in self._list(self._prefix):
            found = blob_of_key(item["Key"][len(self._prefix) :])
            if found is not None:
                yield found

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("list_objects_v2")
        with s3_errors():
            for page in pages.paginate(Bucket=self._bucket, Prefix=prefix):
                yield from page.get("Contents", [])

    def _stale_uploads(self, older_than: datetime) -> Iterator[dict[str, Any]]:
        # No Prefix: MinIO lists nothing for a prefix that is not a whole key (minio#20989).
        pages = self._client.get_paginator("list_multipart_uploads")
        with s3_errors():
            for page in pages.paginate(Bucket=self._bucket):
                for upload in page.get("Uploads", []):
                    if not self._ours(upload["Key"]) or _started(upload) >= older_than:
                        continue
                    if self._idle(upload, older_than):
                        yield upload

    def _ours(self, key: str) -> bool:
        """A temporary object's upload, or a direct one to a blob's final key (invisible
        until completed, so aborting a stale one never touches the blob)."""
        if not key.startswith(self._prefix):
            return False
        rest = key[len(self._prefix) :]
        return rest.startswith(".tmp/") or blob_of_key(rest) is not None

    def _idle(self, upload: dict[str, Any], older_than: datetime) -> bool:
        """A slow client's upload may have started long ago: its last part counts."""
        if older_than == FAR_FUTURE:
            return True
        answer = self._client.list_parts(
            Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        return all(part["LastModified"] < older_than for part in answer.get("Parts", []))

    def sweep_temporary(self, older_than: datetime) -> int:
        removed = 0
        for upload in list(self._stale_uploads(older_than)):
            with s3_errors():
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            removed += 1
        for item in list(self._list(self._prefix + ".tmp/")):
            if item["LastModified"] < older_than:
                with s3_errors():
                    self._client.delete_object(Bucket=self._bucket, Key=item["Key"])
                removed += 1
        return removed

    def stale_temporary(self, older_than: datetime) -> TemporaryUsage:
        count, size = 0, 0
        for upload in list(self._stale_uploads(older_than)):
            count, size = count + 1, size + self._uploaded_bytes(upload)
        for item in self._list(self._prefix + ".tmp/"):
            if item["LastModified"] < older_than:
                count, size = count + 1, size + item["Size"]
        return TemporaryUsage(count, size)

    def _uploaded_bytes(self, upload: dict[str, Any]) -> int:
        """The bytes the parts of an unfinished multipart upload hold (billed until aborted)."""
        pages = self._client.get_paginator("list_parts")
        with s3_errors():
            return sum(
                part["Size"]
                for page in pages.paginate(
                    Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                for part in page.get("Parts", [])
            )

    def temporary_count(self) -> int:
        """Temporary objects plus open multipart uploads (tests assert it falls to 0)."""
        temporary = sum(1 for _ in self._list(self._prefix + ".tmp/"))
        return temporary + sum(1 for _ in self._stale_uploads(FAR_FUTURE))

    def presigned_url(
        self, sha256: str, filename: str, content_type: str, expires_in: int
    ) -> str | None:
        params = {
            "Bucket": self._bucket,
            "Key": self._key(sha256),
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        with s3_errors():
            return self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )

    def local_path(self, sha256: str, size: int | None = None) -> str | None:
        return None

    def check(self) -> None:
        try:
            self._ensure_bucket()
            with s3_errors():
                self._client.head_bucket(Bucket=self._bucket)
        except (ClientError, BlobNotFound) as error:
            raise BackendUnavailable(UNAVAILABLE) from error

    def _ensure_bucket(self) -> None:
        """With ``create_bucket``, create the bucket once, on first use (not at startup)."""
        if not self._create_bucket:
            return
        with s3_errors():
            try:
                self._client.head_bucket(Bucket=self._bucket)
            except ClientError:
                self._client.create_bucket(Bucket=self._bucket, **self._location())
        self._create_bucket = False

    def _location(self) -> dict[str, Any]:
        region = self._client.meta.region_name
        if not region or region == "us-east-1":
            return {}
        return {"CreateBucketConfiguration": {"LocationConstraint": region}}


_loader_lock = threading.Lock()
_loader: Any = None


def botocore_loader() -> Any:
    """This process's botocore data loader, shared by every S3 client it builds.

    botocore parses its JSON data (S3's service model and endpoint rules, the partitions
    and the legacy endpoints) into a loader per session, so each client a process built
    held its own copy. One loader per process, filled by ``preload_botocore_data`` in the
    gunicorn master before the fork, leaves each worker those pages to share instead of
    parsing and holding ~11 MiB of its own (docs/performance.md, "Memory").
    """
    global _loader
    with _loader_lock:
        if _loader is None:
            # botocore's own construction, so AWS_DATA_PATH and the config still apply.
            _loader = botocore.session.get_session().get_component("data_loader")
        return _loader


def preload_botocore_data() -> None:
    """Parse, into this process's loader, every data file an S3 client of this store
    reads: at creation, on its first request and for its paginators. Data only: no
    session is kept, no client created, nothing is connected (safe before a fork)."""
    loader = botocore_loader()
    for name in ("endpoints", "sdk-default-configuration", "partitions"):
        loader.load_data_with_path(name)
    model = loader.load_service_model("s3", "service-2", api_version=None)
    loader.load_service_model("s3", "endpoint-rule-set-1", api_version=None)
    loader.load_service_model("s3", "paginators-1", model["metadata"]["apiVersion"])


def _session() -> boto3.session.Session:
    """A new boto3 session (its own credentials and events) over the shared loader."""
    core = botocore.session.get_session()
    loader = botocore_loader()
    core.register_component("data_loader", loader)
    session = boto3.session.Session(botocore_session=core)
    # boto3 appends its resource data directory to the loader's search path on every
    # session; with one loader per process keep a single entry (the list is only read).
    loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return session


def _started(upload: dict[str, Any]) -> datetime:
    token = upload["Key"].rsplit("/", 1)[-1]
    if not _TOKEN.fullmatch(token):
        return upload["Initiated"]
    return datetime.fromtimestamp(int(token[:12], 16) / 1000, UTC)
