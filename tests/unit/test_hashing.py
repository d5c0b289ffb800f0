"""MultiHasher gives the same digests as hashlib, whatever the chunking."""

from __future__ import annotations

import hashlib
import os

import pytest

from adapters.hashing import MultiHasher
from domain.model import Checksums


def expected(content: bytes) -> Checksums:
    return Checksums(
        sha256=hashlib.sha256(content).hexdigest(),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        sha1=hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        blake2b_256=hashlib.blake2b(content, digest_size=32).hexdigest(),
        size=len(content),
    )


def hashed(*chunks: bytes) -> Checksums:
    hasher = MultiHasher()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.checksums()


def test_empty_input_gives_the_digests_of_nothing():
    assert hashed() == expected(b"")
    assert hashed(b"", b"") == expected(b"")


def test_one_byte():
    assert hashed(b"x") == expected(b"x")


@pytest.mark.parametrize("sizes", [[1 << 20] * 3 + [12345], [7, 300_000, 1, 1 << 20, 0, 5]])
def test_several_chunks_of_mixed_sizes_match_hashing_the_whole(sizes):
    chunks = [os.urandom(size) for size in sizes]
    assert hashed(*chunks) == expected(b"".join(chunks))


def test_memoryview_and_bytearray_chunks_are_accepted():
    content = os.urandom(600_000)
    assert hashed(memoryview(content)[:300_000], bytearray(content[300_000:])) == expected(content)


def test_size_counts_every_byte_fed():
    hasher = MultiHasher()
    hasher.update(b"abc")
    hasher.update(os.urandom(1 << 20))
    assert hasher.size == 3 + (1 << 20)


def test_hashing_continues_inline_when_the_helper_pool_is_shut_down():
    """A draining gunicorn worker's pool refuses new work; uploads must still finish."""
    import hashlib

    from adapters import hashing

    pool = hashing._helper_pool()
    pool.shutdown(wait=True)
    try:
        hasher = hashing.MultiHasher()
        data = b"x" * (hashing._PARALLEL_THRESHOLD + 1)
        hasher.update(data)
        assert hasher.checksums().sha256 == hashlib.sha256(data).hexdigest()
        assert hasher.checksums().md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    finally:
        hashing._helper_pool.cache_clear()


@pytest.mark.parametrize("size", [10, 1 << 20], ids=["inline", "on helpers"])
def test_alongside_runs_once_in_the_calling_thread_and_the_digests_stay_right(size):
    """The store's write of a chunk runs beside its hashing, never instead of it."""
    import threading

    content = os.urandom(size)
    calls: list[int] = []
    hasher = MultiHasher()
    hasher.update(content, alongside=lambda: calls.append(threading.get_ident()))
    assert calls == [threading.get_ident()]
    assert hasher.checksums() == expected(content)


def test_an_error_from_alongside_is_raised_after_the_helpers_are_done():
    content = os.urandom(1 << 20)
    hasher = MultiHasher()

    def disk_full() -> None:
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space"):
        hasher.update(content, alongside=disk_full)
    # Both halves finished with the chunk before update let go of it.
    assert hasher.checksums() == expected(content)


def test_alongside_still_runs_when_the_helper_pool_is_shut_down():
    from adapters import hashing

    hashing._helper_pool().shutdown(wait=True)
    try:
        content = os.urandom(hashing._PARALLEL_THRESHOLD + 1)
        ran: list[bool] = []
        hasher = hashing.MultiHasher()
        hasher.update(content, alongside=lambda: ran.append(True))
        assert ran == [True]
        assert hasher.checksums() == expected(content)
    finally:
        hashing._helper_pool.cache_clear()
