"""BlobSink hands large chunks to a helper thread: order, errors and abort still hold."""

from __future__ import annotations

import hashlib
import os

import pytest

from domain.errors import TooLarge
from entrypoints.http.streaming import PIPELINE_THRESHOLD, BlobSink
from tests.fakes.blobs import FakeBlobStore


def _chunks() -> list[bytes]:
    big = PIPELINE_THRESHOLD * 2
    return [os.urandom(big), os.urandom(100), os.urandom(big), bytearray(os.urandom(big))]


def test_chunks_are_stored_in_order_and_hashed_once_finished():
    store = FakeBlobStore()
    sink = BlobSink(store.writer())
    chunks = _chunks()

    for chunk in chunks:
        assert sink.write(chunk) == len(chunk)
    sink.seek(0)

    content = b"".join(bytes(c) for c in chunks)
    assert sink.staged.sha256 == hashlib.sha256(content).hexdigest()
    assert bytes(store.staged[sink.staged.token][0]) == content


def test_a_store_error_in_the_helper_thread_surfaces_at_the_next_write_or_finish():
    store = FakeBlobStore()
    sink = BlobSink(store.writer(max_size=PIPELINE_THRESHOLD))

    sink.write(os.urandom(PIPELINE_THRESHOLD * 2))  # too large, found by the helper
    with pytest.raises(TooLarge):
        sink.seek(0)
    assert store.staged == {}


def test_abort_waits_for_the_chunk_in_flight_and_drops_everything():
    store = FakeBlobStore()
    sink = BlobSink(store.writer())

    sink.write(os.urandom(PIPELINE_THRESHOLD * 4))
    sink.abort()

    assert store.staged == {}


def test_a_sink_keeps_working_inline_when_its_pool_is_shut_down():
    """A draining gunicorn worker's pools refuse new work; its uploads must still finish."""
    from entrypoints.http import streaming

    streaming._sink_pool().shutdown(wait=True)
    try:
        store = FakeBlobStore()
        sink = BlobSink(store.writer())
        chunks = _chunks()
        for chunk in chunks:
            sink.write(chunk)
        sink.seek(0)
        content = b"".join(bytes(c) for c in chunks)
        assert sink.staged.sha256 == hashlib.sha256(content).hexdigest()
    finally:
        streaming._sink_pool.cache_clear()
