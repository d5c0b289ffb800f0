"""Whole-file downloads from the filesystem store go to the server's sendfile; a blob that
disappears between being found and being opened is a missing blob, not a crash."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from flask import Flask

from adapters.blobstore_fs import FilesystemBlobStore
from domain.errors import BlobNotFound
from domain.model import Artifact
from entrypoints.http import downloads
from tests.harness.file_wrapper import SendfileWrapper

CONTENT = b"wheel bytes " * 100


class CollectedMeanwhile(FilesystemBlobStore):
    """A store whose blob is removed (by a GC, say) right after it has been found."""

    def local_path(self, sha256: str, size: int | None = None) -> str | None:
        path = super().local_path(sha256, size)
        self.delete(sha256)
        return path


def _stored(store: FilesystemBlobStore) -> Artifact:
    writer = store.writer()
    writer.write(CONTENT)
    staged = writer.finish()
    store.promote(staged)
    sha256 = hashlib.sha256(CONTENT).hexdigest()
    return Artifact(
        id=sha256, size=len(CONTENT), content_type="application/octet-stream",
        md5="", sha1="", blake2b_256="", created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def _get(store: FilesystemBlobStore, artifact: Artifact):
    environ = {"wsgi.file_wrapper": SendfileWrapper}
    with Flask(__name__).test_request_context(environ_base=environ):
        return downloads.send_blob(store, artifact, "pkg-1.0-py3-none-any.whl")


def test_a_whole_file_goes_to_the_servers_file_wrapper_unbuffered(tmp_path) -> None:
    store = FilesystemBlobStore(tmp_path)
    response = _get(store, _stored(store))
    body = response.response
    assert isinstance(body, SendfileWrapper) and isinstance(body.file, io.FileIO)
    assert b"".join(body) == CONTENT and response.headers["Content-Length"] == str(len(CONTENT))
    body.close()


def test_a_blob_gone_between_lookup_and_open_is_not_found(tmp_path) -> None:
    store = CollectedMeanwhile(tmp_path)
    artifact = _stored(store)
    with pytest.raises(BlobNotFound):
        _get(store, artifact)
