"""The local read-through cache (``CachedBlobStore`` over ``BlobCache``): hits and misses,
verification, eviction, concurrent fills, a failing disk, removals; and downloads through
it answer byte for byte as the filesystem store's, ranges included.

The store contract runs on S3 behind the cache in ``test_blobstore_contract.py``; here the
inner store is mostly the in-memory fake, whose blobs a test can corrupt or remove behind
the cache's back.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from adapters.blob_cache import BlobCache
from adapters.blobstore_cache import CachedBlobStore
from adapters.blobstore_fs import FilesystemBlobStore
from domain.model import Artifact
from domain.ports import BlobStore
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http import downloads
from tests.fakes.blobs import FakeBlobStore
from tests.harness.file_wrapper import SendfileWrapper

KIB = 1024
CONTENT = bytes(range(256)) * 1024 + b"tail"  # 256 KiB + 4


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def put(store: BlobStore, content: bytes) -> str:
    writer = store.writer()
    writer.write(content)
    staged = writer.finish()
    store.promote(staged)
    return staged.sha256


def read(store: BlobStore, sha256: str, start: int = 0, end: int | None = None) -> bytes:
    reader = store.open(sha256, start, end)
    try:
        return b"".join(reader)
    finally:
        reader.close()


class Cached:
    """A fake store behind a cache in ``root``, and every outcome it reported."""

    def __init__(
        self, root: Path, inner: BlobStore | None = None, stream_over: int = 1024**3, **limits: int
    ) -> None:
        self.root = root
        self.inner = inner if inner is not None else FakeBlobStore()
        self.outcomes: list[str] = []
        self.cache = BlobCache(
            str(root),
            limits.get("max_bytes", 64 * 1024**2),
            limits.get("max_blob_size", 16 * 1024**2),
            self.outcomes.append,
        )
        self.store = CachedBlobStore(
            self.inner, self.cache, observe=self.outcomes.append, stream_over=stream_over
        )

    def copies(self) -> list[Path]:
        """Every file the cache holds but its lock: copies and temporary files."""
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p.name != ".lock")

    def settle(self) -> None:
        """Wait for the eviction a fill may have started in the background."""
        deadline = time.monotonic() + 10
        while self.cache._evicting:
            assert time.monotonic() < deadline, "the background eviction never ended"
            time.sleep(0.01)

    def parts(self) -> list[Path]:
        return [p for p in self.copies() if p.suffix == ".part"]

    def copied(self) -> None:
        """Wait for the streamed copies of this process to be over (kept or dropped)."""
        deadline = time.monotonic() + 10
        while self.store._streaming:
            assert time.monotonic() < deadline, "the streamed copy never ended"
            time.sleep(0.01)
        self.settle()


@pytest.fixture
def cached(tmp_path) -> Cached:
    return Cached(tmp_path / "cache")


def test_a_miss_fills_the_cache_and_the_next_read_is_a_hit(cached):
    key = put(cached.inner, CONTENT)
    assert read(cached.store, key) == CONTENT
    assert cached.outcomes == ["miss", "fill"]
    cached.inner.delete(key)  # behind the cache's back: only the copy can answer now
    assert read(cached.store, key) == CONTENT
    assert read(cached.store, key, 1000, 2000) == CONTENT[1000:2001]
    assert cached.outcomes == ["miss", "fill", "hit", "hit"]
    assert Path(cached.store.local_path(key)).read_bytes() == CONTENT


def test_local_path_fills_too_and_a_missing_blob_is_none(cached):
    key = put(cached.inner, CONTENT)
    path = cached.store.local_path(key)
    assert path == cached.cache.path(key) and Path(path).read_bytes() == CONTENT
    assert cached.store.local_path(sha(b"never stored")) is None
    assert cached.store.local_path("../../etc/passwd") is None


def test_a_range_on_a_miss_fills_the_whole_blob_then_reads_the_range(cached):
    key = put(cached.inner, CONTENT)
    assert read(cached.store, key, 10, 19) == CONTENT[10:20]
    assert Path(cached.cache.path(key)).read_bytes() == CONTENT


def test_bytes_that_do_not_hash_to_their_key_are_not_kept_and_are_reported(cached, caplog):
    key = put(cached.inner, CONTENT)
    cached.inner.blobs[key] = (b"rotten" + CONTENT[6:], cached.inner.blobs[key][1])
    with caplog.at_level(logging.ERROR, logger="orchard.blobcache"):
        served = read(cached.store, key)
    assert served == read(cached.inner, key)  # what the store answers without a cache
    assert cached.outcomes == ["miss", "corrupt"]
    assert f"Blob {key} is corrupt" in caplog.text and "orchard fsck --repair" in caplog.text
    assert cached.copies() == []  # no copy, no leftover temporary file
    assert cached.store.local_path(key) is None


class CountingStore(FakeBlobStore):
    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def open(self, sha256: str, start: int = 0, end: int | None = None):
        self.opened += 1
        return super().open(sha256, start, end)


@pytest.mark.parametrize("limit", ["max_blob_size", "max_bytes"])
def test_a_blob_over_the_size_limit_is_read_from_the_store_and_never_cached(tmp_path, limit):
    cached = Cached(tmp_path / "cache", CountingStore(), **{limit: 100 * KIB})
    key = put(cached.inner, CONTENT)
    assert cached.store.local_path(key) is None
    assert read(cached.store, key) == CONTENT
    assert read(cached.store, key, 5, 9) == CONTENT[5:10]
    assert cached.copies() == []
    assert set(cached.outcomes) == {"skip"}
    assert cached.inner.opened == 3  # remembered as too large: no GET wasted after the first


# ---------------------------------------------------------- large blobs, copied as they stream


@pytest.fixture
def streamed(tmp_path) -> Cached:
    """Blobs over 64 KiB (CONTENT is 256 KiB, four of the fake store's chunks) stream."""
    return Cached(tmp_path / "cache", CountingStore(), stream_over=64 * KIB)


def test_a_large_miss_streams_at_once_and_is_copied_while_it_streams(streamed):
    key = put(streamed.inner, CONTENT)
    assert streamed.store.local_path(key, len(CONTENT)) is None  # no fill before the answer
    assert streamed.inner.opened == 0
    reader = streamed.store.open(key)
    chunks = iter(reader)
    first = next(chunks)  # served before the rest was read from the store
    assert streamed.cache.find(key) is None
    body = first + b"".join(chunks)
    reader.close()
    streamed.copied()
    assert body == CONTENT and streamed.outcomes == ["miss", "fill"]
    path = streamed.store.local_path(key, len(CONTENT))
    assert path == streamed.cache.path(key) and Path(path).read_bytes() == CONTENT
    assert streamed.inner.opened == 1 and streamed.parts() == []


def test_a_streamed_read_the_client_abandons_keeps_nothing(streamed):
    key = put(streamed.inner, CONTENT)
    reader = streamed.store.open(key)
    next(iter(reader))
    reader.close()  # the client went away after its first chunk
    streamed.copied()
    assert streamed.copies() == [] and streamed.outcomes == ["miss"]
    assert read(streamed.store, key) == CONTENT  # the next download copies it
    streamed.copied()
    assert streamed.cache.find(key) is not None and streamed.outcomes[-1] == "fill"


def test_a_streamed_reader_never_read_is_forgotten(streamed):
    key = put(streamed.inner, CONTENT)
    streamed.store.open(key).close()
    assert streamed.store._streaming == set()
    assert read(streamed.store, key) == CONTENT
    streamed.copied()
    assert streamed.cache.find(key) is not None


def test_streamed_bytes_that_do_not_hash_to_their_key_are_served_and_not_kept(streamed, caplog):
    key = put(streamed.inner, CONTENT)
    rotten = b"rotten" + CONTENT[6:]
    streamed.inner.blobs[key] = (rotten, streamed.inner.blobs[key][1])
    with caplog.at_level(logging.ERROR, logger="orchard.blobcache"):
        assert read(streamed.store, key) == rotten  # what the store answers without a cache
        streamed.copied()
    assert streamed.outcomes == ["miss", "corrupt"] and streamed.copies() == []
    assert f"Blob {key} is corrupt" in caplog.text


def test_a_copy_that_fails_mid_stream_leaves_the_download_whole(streamed, monkeypatch):
    key = put(streamed.inner, CONTENT)
    write = BlobCache._write

    def fails_after_one_chunk(self, temporary, chunks, **options):
        def some():
            iterator = iter(chunks)
            yield next(iterator)
            raise OSError(errno.ENOSPC, "No space left on device")

        return write(self, temporary, some(), **options)

    monkeypatch.setattr(BlobCache, "_write", fails_after_one_chunk)
    assert read(streamed.store, key) == CONTENT
    streamed.copied()
    assert streamed.outcomes == ["miss", "disk_error"] and streamed.copies() == []


def test_other_threads_missing_a_blob_being_streamed_read_the_store(streamed):
    key = put(streamed.inner, CONTENT)
    first = streamed.store.open(key)
    chunks = iter(first)
    head = next(chunks)  # the first download is under way, copying
    assert read(streamed.store, key) == CONTENT  # a second one does not wait for it
    assert head + b"".join(chunks) == CONTENT
    first.close()
    streamed.copied()
    assert streamed.outcomes == ["miss", "miss", "fill"] and streamed.inner.opened == 2
    assert [p.name for p in streamed.copies()] == [key]


def test_a_copy_whose_stream_stalls_is_given_up(streamed, monkeypatch):
    monkeypatch.setattr("adapters.blobstore_cache.STALLED", 0.05)
    key = put(streamed.inner, CONTENT)
    reader = streamed.store.open(key)
    next(iter(reader))  # and then neither read on nor closed
    streamed.copied()
    assert streamed.copies() == [] and streamed.outcomes == ["miss"]
    reader.close()


def test_a_large_blob_on_a_filesystem_store_is_copied_and_one_over_the_limit_is_sent_from_it(
    tmp_path,
):
    inner = FilesystemBlobStore(tmp_path / "blobs")
    cached = Cached(tmp_path / "cache", inner, stream_over=64 * KIB, max_blob_size=512 * KIB)
    key, big = put(inner, CONTENT), put(inner, CONTENT * 3)
    assert cached.store.local_path(key, len(CONTENT)) is None  # a miss: open() copies it
    assert read(cached.store, key) == CONTENT
    cached.copied()
    assert cached.store.local_path(key, len(CONTENT)) == cached.cache.path(key)
    assert cached.store.local_path(big, 3 * len(CONTENT)) == inner.local_path(big)
    assert cached.outcomes == ["miss", "fill", "hit", "skip"]


def test_a_range_of_a_large_blob_on_a_miss_is_read_from_the_store(streamed):
    key = put(streamed.inner, CONTENT)
    assert read(streamed.store, key, 100, 199) == CONTENT[100:200]
    streamed.copied()
    assert streamed.copies() == []


def test_delete_and_quarantine_drop_this_instances_copy(cached):
    one, two = put(cached.inner, b"one"), put(cached.inner, b"two")
    read(cached.store, one), read(cached.store, two)
    cached.store.delete(one)
    cached.store.quarantine(two)
    assert cached.copies() == []
    assert cached.inner.quarantined == {two: b"two"}


def test_without_reads_the_store_is_read_directly_and_removals_still_drop_copies(tmp_path):
    serving = Cached(tmp_path / "cache")
    key = put(serving.inner, CONTENT)
    read(serving.store, key)
    command_line = CachedBlobStore(serving.inner, serving.cache, reads=False)
    serving.inner.blobs[key] = (b"changed", serving.inner.blobs[key][1])
    assert read(command_line, key) == b"changed"  # fsck sees the store's bytes
    assert command_line.local_path(key) is None
    command_line.delete(key)
    assert serving.copies() == []


def test_eviction_deletes_the_least_recently_used_down_to_90_percent(tmp_path):
    cached = Cached(tmp_path / "cache")  # filled with room to spare, then bounded
    keys = [put(cached.inner, os.urandom(100 * KIB)) for _ in range(12)]
    now = time.time()
    for age, key in enumerate(keys):
        cached.store.local_path(key)
        os.utime(cached.cache.path(key), (now - 1000 * age, now - 1000 * age))
    cached.store.local_path(keys[-1])  # the oldest copy read again: the hit makes it young
    cached.settle()
    bounded = BlobCache(str(cached.root), 1000 * KIB, 16 * 1024**2)
    assert bounded.evict() == 900 * KIB
    kept = {key for key in keys if os.path.exists(cached.cache.path(key))}
    assert kept == {*keys[:8], keys[-1]}


def test_fills_past_the_bound_start_an_eviction_by_themselves(tmp_path):
    cached = Cached(tmp_path / "cache", max_bytes=1000 * KIB)
    for _ in range(30):
        cached.store.local_path(put(cached.inner, os.urandom(100 * KIB)))
    cached.settle()
    assert 0 < sum(p.stat().st_size for p in cached.copies()) <= 1000 * KIB


def test_copies_of_an_earlier_boot_are_never_served_and_are_evicted(tmp_path, monkeypatch):
    first = Cached(tmp_path / "cache")
    key = put(first.inner, CONTENT)
    old = Path(first.store.local_path(key))
    monkeypatch.setattr("adapters.blob_cache.boot_id", lambda: "boot-" + "1" * 32)
    after_reboot = Cached(tmp_path / "cache", inner=first.inner)
    assert after_reboot.cache.find(key) is None
    assert after_reboot.store.local_path(key) != str(old)
    first.settle(), after_reboot.settle()
    after_reboot.cache.evict()
    assert not old.exists()


def test_threads_missing_the_same_blob_at_once_share_one_fill(tmp_path):
    cached = Cached(tmp_path / "cache", CountingStore())
    key = put(cached.inner, CONTENT)
    results, barrier = [], threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        results.append(read(cached.store, key))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [CONTENT] * 8
    assert cached.copies() == [Path(cached.cache.path(key))]
    assert cached.inner.opened == 1 and cached.outcomes.count("fill") == 1
    assert cached.store._fills == {}  # nothing kept per blob once the fill is done


def _fill_in_a_process(root: str, blobs: str, key: str, start) -> None:
    inner = FilesystemBlobStore(blobs)
    store = CachedBlobStore(inner, BlobCache(root, 64 * 1024**2, 16 * 1024**2))
    start.wait()
    path = store.local_path(key)
    assert path is not None and hashlib.sha256(Path(path).read_bytes()).hexdigest() == key


def test_processes_filling_the_same_blob_at_once_leave_one_whole_copy(tmp_path):
    inner = FilesystemBlobStore(tmp_path / "blobs")
    key = put(inner, os.urandom(4 * 1024**2))
    context = multiprocessing.get_context("fork")
    start = context.Event()
    args = (str(tmp_path / "cache"), str(tmp_path / "blobs"), key, start)
    processes = [context.Process(target=_fill_in_a_process, args=args) for _ in range(4)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    files = sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert [p.name for p in files if p.name != ".lock"] == [key]


def test_an_unusable_directory_reads_the_store_with_one_warning(tmp_path, caplog):
    (tmp_path / "a-file").write_bytes(b"")
    cached = Cached(tmp_path / "a-file" / "cache")  # cannot become a directory
    keys = [put(cached.inner, b"one"), put(cached.inner, b"two")]
    with caplog.at_level(logging.WARNING, logger="orchard.blobcache"):
        assert [read(cached.store, key) for key in keys] == [b"one", b"two"]
        assert cached.store.local_path(keys[0]) is None
    assert cached.outcomes == ["miss", "disk_error", "skip", "skip"]
    assert caplog.text.count("cannot write to its directory") == 1


def test_a_full_disk_mid_fill_reads_the_store_and_leaves_no_partial_file(cached, monkeypatch):
    key = put(cached.inner, CONTENT)

    def full(self, temporary, chunks, **options):
        Path(temporary).parent.mkdir(parents=True, exist_ok=True)
        Path(temporary).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BlobCache, "_write", full)
    assert read(cached.store, key) == CONTENT
    assert cached.parts() == [] and cached.cache.find(key) is None
    monkeypatch.undo()
    cached.cache._off_until = 0.0  # its rest is over
    assert read(cached.store, key) == CONTENT and cached.cache.find(key) is not None


def test_the_server_reads_through_the_cache_and_the_command_line_does_not(tmp_path):
    settings = Settings(
        data_dir=str(tmp_path), secret_key="k", blob_cache_dir=str(tmp_path / "cache")
    )
    served = bootstrap(settings, uow=lambda **_: None, serving=True).blobs
    command_line = bootstrap(settings, uow=lambda **_: None).blobs
    plain = bootstrap(settings.with_overrides(blob_cache_dir=""), uow=lambda **_: None).blobs
    assert isinstance(served, CachedBlobStore) and isinstance(command_line, CachedBlobStore)
    assert isinstance(served.inner, FilesystemBlobStore)
    assert isinstance(plain, FilesystemBlobStore)
    key = put(served, CONTENT)
    assert command_line.local_path(key) == str(
        settings.resolved_blob_dir / key[:2] / key[2:4] / key
    )
    assert served.local_path(key).startswith(str(tmp_path / "cache"))


# ------------------------------------------------------------------ HTTP answers, byte for byte


def answer(store: BlobStore, artifact: Artifact, headers: dict, wrapper: bool):
    environ = {"wsgi.file_wrapper": SendfileWrapper} if wrapper else {}
    with Flask(__name__).test_request_context(headers=headers, environ_base=environ):
        response = downloads.send_blob(store, artifact, "pkg-1.0-py3-none-any.whl")
        body = b"".join(response.response)
        if hasattr(response.response, "close"):
            response.response.close()
        return response.status_code, sorted(response.headers.items()), body


RANGES = [None, "bytes=0-0", "bytes=1000-2000", "bytes=-4", "bytes=262140-", "bytes=9-999999",
          "bytes=999999-", "bytes=0-1,5-6"]  # fmt: skip


@pytest.mark.s3
@pytest.mark.parametrize("stream_over", [1024**2, 64 * KIB], ids=["filled-first", "streamed"])
@pytest.mark.parametrize("wrapper", [True, False], ids=["sendfile", "no-file-wrapper"])
def test_downloads_through_the_cache_answer_as_the_filesystem_store(
    s3_server, tmp_path, wrapper, stream_over
):
    """Each range twice: the first request fills the cache (a miss), the second is a hit
    (or, for a blob streamed while it is copied, a hit once the copy is over)."""
    from tests.integration.test_blobstore_contract import s3_store

    filesystem = FilesystemBlobStore(tmp_path / "blobs")
    key = put(filesystem, CONTENT)
    artifact = Artifact(
        id=key, size=len(CONTENT), content_type="application/octet-stream",
        md5="", sha1="", blake2b_256="", created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    s3 = s3_store(s3_server)
    put(s3, CONTENT)
    cache = BlobCache(str(tmp_path / "cache"), 64 * 1024**2, 1024**2)
    cached = CachedBlobStore(s3, cache, stream_over=stream_over)
    for headers in ({"Range": r} if r else {} for r in RANGES):
        cache.drop(key)
        expected = answer(filesystem, artifact, headers, wrapper)
        assert answer(cached, artifact, headers, wrapper) == expected, headers
        assert answer(cached, artifact, headers, wrapper) == expected, headers
