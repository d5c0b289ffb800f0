"""One contract for every BlobStore: the fake, the filesystem store, S3 (over real HTTP) and
S3 behind the local read-through cache (``CachedBlobStore``).

The same cases run on each; they assert end state (blob present, temporary objects gone,
no multipart upload left), never calls. S3 runs against the session's ``s3_server``
(moto unless configured otherwise); the S3-only cases at the end take it down and back.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.blob_cache import BlobCache
from adapters.blobstore_cache import CachedBlobStore
from adapters.blobstore_fs import FilesystemBlobStore
from adapters.blobstore_s3 import S3BlobStore
from domain.errors import BackendUnavailable, BlobNotFound, TooLarge
from domain.ports import BlobStore, StagedBlob, TemporaryUsage
from tests.fakes.blobs import FakeBlobStore
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

KIB = 1024
MIB = 1024 * KIB


@dataclass
class Subject:
    """A store under test, with how to read its clock and how to let time pass for it."""

    store: BlobStore
    now: Callable[[], datetime]
    let_time_pass: Callable[[], None]
    temporary_count: Callable[[], int]


def _fake() -> Subject:
    clock = FakeClock()
    store = FakeBlobStore(clock)
    return Subject(store, clock.now, lambda: clock.advance(seconds=5), store.temporary_count)


def _filesystem(root, direct_io: bool = True) -> Subject:
    store = FilesystemBlobStore(root / "blobs", direct_io=direct_io)
    return Subject(
        store, lambda: datetime.now(UTC), lambda: time.sleep(0.05), store.temporary_count
    )


def s3_store(server, **options) -> S3BlobStore:
    settings = {"connect_timeout": 2, "read_timeout": 5, "max_attempts": 2} | options
    return S3BlobStore(
        server.make_bucket(),
        endpoint_url=server.endpoint_url,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
        prefix="orchard",
        **settings,
    )


def _s3(server) -> Subject:
    store = s3_store(server)
    # LastModified has one-second resolution.
    return Subject(store, lambda: datetime.now(UTC), lambda: time.sleep(1.1), store.temporary_count)


def _s3_behind_a_cache(server, root) -> Subject:
    inner = _s3(server)
    cache = BlobCache(str(root / "cache"), max_bytes=64 * MIB, max_blob_size=32 * MIB)
    inner.store = CachedBlobStore(inner.store, cache)
    return inner


@pytest.fixture(
    params=[
        "fake",
        "filesystem",
        "filesystem-cached",
        pytest.param("s3", marks=pytest.mark.s3),
        pytest.param("s3-behind-local-cache", marks=pytest.mark.s3),
    ]
)
def subject(request, tmp_path) -> Subject:
    if request.param == "fake":
        return _fake()
    if request.param == "filesystem":
        return _filesystem(tmp_path)
    if request.param == "filesystem-cached":  # ORCHARD_DIRECT_IO=false
        return _filesystem(tmp_path, direct_io=False)
    if request.param == "s3-behind-local-cache":  # ORCHARD_BLOB_CACHE_DIR
        return _s3_behind_a_cache(request.getfixturevalue("s3_server"), tmp_path)
    return _s3(request.getfixturevalue("s3_server"))


@pytest.fixture
def store(subject: Subject) -> BlobStore:
    return subject.store


def stage(store: BlobStore, content: bytes, chunk: int = MIB) -> StagedBlob:
    writer = store.writer()
    for offset in range(0, len(content), chunk):
        writer.write(content[offset : offset + chunk])
    return writer.finish()


def put(store: BlobStore, content: bytes) -> str:
    staged = stage(store, content)
    store.promote(staged)
    return staged.sha256


def read(store: BlobStore, sha256: str, start: int = 0, end: int | None = None) -> bytes:
    reader = store.open(sha256, start, end)
    try:
        data = b"".join(reader)
    finally:
        reader.close()
    assert reader.size == len(data)
    return data


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# ------------------------------------------------------------------ writing and staging


@pytest.mark.parametrize("size", [0, 1, 3 * MIB + 17, 17 * MIB + 5])
def test_finish_reports_the_four_digests_and_size_of_the_bytes(store, size):
    content = os.urandom(size)
    checksums = stage(store, content).checksums
    assert checksums.sha256 == sha(content)
    assert checksums.md5 == hashlib.md5(content, usedforsecurity=False).hexdigest()
    assert checksums.sha1 == hashlib.sha1(content, usedforsecurity=False).hexdigest()
    assert checksums.blake2b_256 == hashlib.blake2b(content, digest_size=32).hexdigest()
    assert checksums.size == size


@pytest.mark.parametrize("content", [b"not yet", b"multipart " * MIB])
def test_a_staged_blob_is_invisible_until_promoted(store, content):
    staged = stage(store, content)
    assert store.modified_at(staged.sha256) is None
    assert list(store.iter_blobs()) == []
    with pytest.raises(BlobNotFound):
        store.open(staged.sha256)
    store.promote(staged)
    assert store.modified_at(staged.sha256) is not None
    assert read(store, staged.sha256) == content


def test_promote_drops_the_temporary_object(subject):
    subject.store.promote(stage(subject.store, os.urandom(9 * MIB)))
    assert subject.temporary_count() == 0


def test_promote_is_idempotent_and_refreshes_modified_at(subject):
    store = subject.store
    staged = stage(store, b"twice")
    store.promote(staged)
    first = store.modified_at(staged.sha256)
    subject.let_time_pass()
    store.promote(staged)
    assert store.modified_at(staged.sha256) > first
    assert list(store.iter_blobs()) == [staged.sha256]
    assert read(store, staged.sha256) == b"twice"


def test_identical_bytes_staged_twice_give_one_blob_and_no_leftovers(subject):
    store = subject.store
    one, two = stage(store, b"same"), stage(store, b"same")
    store.promote(one)
    store.promote(two)
    assert list(store.iter_blobs()) == [sha(b"same")]
    assert subject.temporary_count() == 0


@pytest.mark.parametrize("size", [5, 9 * MIB])
def test_place_new_places_only_absent_bytes_and_leaves_promote_nothing_to_do(subject, size):
    """Placed: visible, whole, no temporary object left, promote a harmless refresh.
    Not placed (the bytes exist, or the store cannot create-if-absent): the staged blob
    is untouched and promote or discard go on as before."""
    store, content = subject.store, os.urandom(size)
    first = stage(store, content)
    placed = store.place_new(first)
    if placed:
        assert read(store, first.sha256) == content and subject.temporary_count() == 0
    else:
        assert store.modified_at(first.sha256) is None
    store.promote(first)  # a no-op refresh when placed
    assert read(store, first.sha256) == content and subject.temporary_count() == 0
    second = stage(store, content)
    assert store.place_new(second) is False  # never replaces a blob that is there
    store.discard(second)
    assert read(store, first.sha256) == content and subject.temporary_count() == 0


def test_the_filesystem_places_new_bytes_with_a_fresh_modification_time(tmp_path):
    """What keeps a placed blob from garbage collection until its row commits."""
    store = FilesystemBlobStore(tmp_path)
    staged = stage(store, b"placed early")
    before = datetime.now(UTC) - timedelta(seconds=2)
    assert store.place_new(staged) is True
    assert store.modified_at(staged.sha256) >= before
    assert list(store.iter_blobs()) == [staged.sha256]


@pytest.mark.parametrize("size", [5, 9 * MIB])
def test_discard_leaves_nothing_behind(subject, size):
    staged = stage(subject.store, os.urandom(size))
    subject.store.discard(staged)
    subject.store.discard(staged)  # a second discard is harmless
    assert subject.store.modified_at(staged.sha256) is None
    assert subject.temporary_count() == 0


def test_abort_mid_upload_leaves_nothing_behind(subject):
    writer = subject.store.writer()
    writer.write(os.urandom(9 * MIB))  # past one S3 part: a multipart upload is open
    writer.abort()
    writer.abort()
    assert subject.temporary_count() == 0


def test_abort_after_finish_drops_the_unclaimed_staged_blob(subject):
    writer = subject.store.writer()
    writer.write(b"unclaimed")
    staged = writer.finish()
    writer.abort()
    assert subject.temporary_count() == 0
    assert subject.store.modified_at(staged.sha256) is None


def test_content_exactly_at_the_limit_is_accepted(store):
    writer = store.writer(max_size=10)
    writer.write(b"12345")
    writer.write(b"67890")
    assert writer.finish().size == 10


@pytest.mark.parametrize("chunks", [[b"12345678901"], [b"123456", b"78901"]])
def test_one_byte_over_the_limit_is_too_large_and_leaves_nothing(subject, chunks):
    writer = subject.store.writer(max_size=10)
    with pytest.raises(TooLarge):
        for chunk in chunks:
            writer.write(chunk)
    writer.abort()
    assert subject.temporary_count() == 0
    assert list(subject.store.iter_blobs()) == []


def test_open_staged_is_a_seekable_file_over_the_bytes(store):
    content = os.urandom(300 * KIB) + b"END!"
    with store.open_staged(stage(store, content)) as file:
        file.seek(-4, os.SEEK_END)
        assert file.read() == b"END!"
        file.seek(100)
        assert file.read(10) == content[100:110]
        file.seek(0)
        assert file.read() == content


# ------------------------------------------------------------------ reading

CONTENT = bytes(range(256)) * 1024 + b"tail"  # 256 KiB + 4: several 64 KiB boundaries
LAST = len(CONTENT) - 1


@pytest.fixture
def stored(store) -> str:
    return put(store, CONTENT)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, None),
        (0, 0),
        (LAST, LAST),
        (LAST, None),
        (1000, 2000),
        (0, 64 * KIB - 2),
        (0, 64 * KIB - 1),
        (0, 64 * KIB),
        (64 * KIB - 1, 64 * KIB),
        (64 * KIB, 128 * KIB + 1),
        (64 * KIB + 1, LAST),
        (10, LAST + 500),
    ],
)
def test_open_returns_the_inclusive_byte_range(store, stored, start, end):
    last = LAST if end is None else min(end, LAST)
    assert read(store, stored, start, end) == CONTENT[start : last + 1]


def test_a_range_starting_past_the_end_reads_as_nothing(store, stored):
    assert read(store, stored, LAST + 10) == b""
    assert read(store, stored, LAST + 10, LAST + 20) == b""


def test_an_empty_blob_reads_as_nothing(store):
    assert read(store, put(store, b"")) == b""


@pytest.mark.parametrize("key", [sha(b"never stored"), "../../etc/passwd", "AB" * 32, ""])
def test_open_of_a_missing_or_malformed_key_is_blob_not_found(store, key):
    with pytest.raises(BlobNotFound):
        store.open(key)
    assert store.modified_at(key) is None if key else True


def test_delete_removes_the_blob_and_ignores_a_missing_one(store, stored):
    store.delete(stored)
    store.delete(stored)
    assert store.modified_at(stored) is None
    with pytest.raises(BlobNotFound):
        store.open(stored)


def test_quarantine_moves_a_blob_out_of_sight_and_leaves_the_others(store, stored):
    other = put(store, b"a healthy neighbour")
    store.quarantine(stored)
    assert store.modified_at(stored) is None
    assert list(store.iter_blobs()) == [other]
    with pytest.raises(BlobNotFound):
        store.open(stored)
    assert read(store, other) == b"a healthy neighbour"
    with pytest.raises(BlobNotFound):
        store.quarantine(stored)


def test_a_quarantined_key_can_be_stored_again(store, stored):
    content = read(store, stored)
    store.quarantine(stored)
    assert put(store, content) == stored
    assert read(store, stored) == content


def test_iter_blobs_lists_every_promoted_blob_and_nothing_else(store):
    keys = {put(store, b"one"), put(store, b"two")}
    stage(store, b"staged only")
    assert sorted(store.iter_blobs()) == sorted(keys)


def test_sweep_removes_only_temporary_objects_older_than_the_cutoff(subject):
    store = subject.store
    kept = put(store, b"promoted")
    stage(store, os.urandom(9 * MIB))  # staged past one part (S3 keeps smaller in memory)
    crashed = store.writer()
    crashed.write(os.urandom(9 * MIB))  # on S3: an open multipart upload
    assert store.sweep_temporary(subject.now() - timedelta(hours=1)) == 0
    assert subject.temporary_count() == 2
    assert store.sweep_temporary(subject.now() + timedelta(hours=1)) == 2
    assert subject.temporary_count() == 0
    assert list(store.iter_blobs()) == [kept]
    crashed.abort()  # harmless once swept


def wait_for_usage(store: BlobStore, older_than: datetime, at_least: int) -> TemporaryUsage:
    deadline = time.monotonic() + 30
    while (usage := store.stale_temporary(older_than)).bytes < at_least:
        assert time.monotonic() < deadline, f"the store never held {at_least} bytes: {usage}"
        time.sleep(0.1)
    return usage


def test_stale_temporary_reports_what_the_sweep_removes_and_removes_nothing(subject):
    store = subject.store
    kept = put(store, b"promoted")
    stage(store, os.urandom(9 * MIB))  # staged, never promoted nor discarded
    crashed = store.writer()  # a worker killed mid-upload: never finished nor aborted
    crashed.write(os.urandom(9 * MIB))  # on S3: a multipart upload holding one 8 MiB part
    assert store.stale_temporary(subject.now() - timedelta(hours=1)) == TemporaryUsage(0, 0)
    later = subject.now() + timedelta(hours=1)
    # S3 holds the whole parts sent (the writer sends them in the background: wait for
    # the first to land); a file holds every byte written.
    usage = wait_for_usage(store, later, at_least=9 * MIB + 8 * MIB)
    assert usage.count == 2 and subject.temporary_count() == 2
    assert usage.bytes <= 18 * MIB
    assert store.sweep_temporary(later) == usage.count
    assert store.stale_temporary(later) == TemporaryUsage(0, 0)
    assert list(store.iter_blobs()) == [kept]
    crashed.abort()


def test_check_passes_on_a_working_store(store):
    store.check()


def test_presigned_url_serves_the_bytes_under_the_given_name(store, stored):
    url = store.presigned_url(stored, "résumé v1.bin", "application/x-test", 60)
    if not isinstance(getattr(store, "inner", store), S3BlobStore):
        assert url is None
        return
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == CONTENT
    assert answer.headers["content-type"] == "application/x-test"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="r_sum_ v1.bin"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20v1.bin" in disposition


def test_local_path_is_the_blob_on_disk_or_none(store, stored):
    path = store.local_path(stored)
    if isinstance(store, FilesystemBlobStore | CachedBlobStore):  # the cache: its copy
        with open(path, "rb") as file:
            assert file.read() == CONTENT
    else:
        assert path is None


# ------------------------------------------------------------------ filesystem only


def test_a_broken_disk_is_unavailable_with_a_message_naming_no_path(tmp_path):
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    store = FilesystemBlobStore(root)
    for action in (store.check, store.writer):
        with pytest.raises(BackendUnavailable) as raised:
            action()
        assert str(tmp_path) not in str(raised.value)


def test_iter_blobs_skips_temporary_and_quarantine_folders(tmp_path):
    store = FilesystemBlobStore(tmp_path)
    key = put(store, b"real")
    (tmp_path / "quarantine" / "ab" / "cd").mkdir(parents=True)
    (tmp_path / "quarantine" / "ab" / "cd" / ("abcd" + "0" * 60)).write_bytes(b"x")
    (tmp_path / key[:2] / key[2:4] / "stray.txt").write_bytes(b"x")
    stage(store, b"staged")
    assert list(store.iter_blobs()) == [key]


# ------------------------------------------------------------------ S3 only: a failing endpoint


@pytest.mark.s3
def test_create_bucket_makes_a_missing_bucket_on_first_use(s3_server):
    bucket = f"orchard-created-{uuid.uuid4().hex[:12]}"
    store = S3BlobStore(
        bucket,
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        create_bucket=True,
    )
    store.check()
    assert read(store, put(store, b"in a new bucket")) == b"in a new bucket"


@pytest.mark.s3
def test_a_missing_bucket_is_unavailable_not_missing_blobs(s3_server):
    store = S3BlobStore(
        "orchard-no-such-bucket",
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
    )
    with pytest.raises(BackendUnavailable):
        store.check()
    with pytest.raises(BackendUnavailable):
        store.open(sha(b"anything"))


def _fails_fast(action: Callable[[], object], limit: float = 10) -> None:
    began = time.monotonic()
    with pytest.raises(BackendUnavailable) as raised:
        action()
    assert time.monotonic() - began < limit
    assert str(raised.value) == "The blob store is unavailable."


@pytest.mark.s3
def test_a_stopped_endpoint_is_unavailable_fast_then_works_after_restart(s3_server):
    store = s3_store(s3_server)
    staged = stage(store, os.urandom(9 * MIB))  # a temporary object before the outage
    writer = store.writer()
    writer.write(os.urandom(9 * MIB))  # a multipart upload is open when S3 goes away
    s3_server.stop()
    try:
        # Parts go out in the background: a failure surfaces by finish() at the latest.
        _fails_fast(lambda: (writer.write(os.urandom(9 * MIB)), writer.finish()))
        _fails_fast(lambda: store.promote(stage(store, b"held in memory until promote")))
        _fails_fast(lambda: store.promote(staged))
        _fails_fast(lambda: store.open(sha(b"anything")))
        _fails_fast(store.check)
    finally:
        s3_server.start()
    store.check()
    key = put(store, b"after the restart")
    assert read(store, key) == b"after the restart"


@pytest.mark.s3
def test_a_hung_endpoint_times_out_instead_of_hanging(s3_server):
    store = s3_store(s3_server, connect_timeout=1, read_timeout=1, max_attempts=2)
    s3_server.pause()
    try:
        _fails_fast(store.check, limit=8)
        _fails_fast(lambda: store.open(sha(b"anything")), limit=8)
    finally:
        s3_server.resume()
    store.check()


# ------------------------------------------------------------------ a digest declared up front
# (S3 writes straight to the final key; the other stores ignore the declaration.)


def stage_declared(store: BlobStore, content: bytes, declared: str | None = None) -> StagedBlob:
    writer = store.writer(sha256=declared or sha(content))
    for offset in range(0, len(content), MIB):
        writer.write(content[offset : offset + MIB])
    return writer.finish()


@pytest.mark.parametrize("size", [1, 300 * KIB, 9 * MIB, 17 * MIB + 5])
def test_declared_bytes_are_invisible_until_promoted_then_whole(subject, size):
    store, content = subject.store, os.urandom(size)
    staged = stage_declared(store, content)
    assert staged.sha256 == sha(content) and staged.size == size
    assert store.modified_at(staged.sha256) is None
    assert list(store.iter_blobs()) == []
    store.promote(staged)
    assert read(store, staged.sha256) == content
    assert subject.temporary_count() == 0


@pytest.mark.parametrize("size", [5, 9 * MIB])
def test_a_wrong_declared_digest_stores_nothing_and_reports_the_real_one(subject, size):
    store, content = subject.store, os.urandom(size)
    wrong = sha(b"something else")
    staged = stage_declared(store, content, declared=wrong)
    assert staged.sha256 == sha(content)  # the caller compares and refuses
    assert store.modified_at(wrong) is None and store.modified_at(staged.sha256) is None
    store.discard(staged)
    assert list(store.iter_blobs()) == []
    assert subject.temporary_count() == 0


@pytest.mark.parametrize("size", [5, 9 * MIB])
def test_declared_bytes_already_stored_refresh_the_blob_and_leave_nothing(subject, size):
    store, content = subject.store, os.urandom(size)
    sha256 = put(store, content)
    first = store.modified_at(sha256)
    subject.let_time_pass()
    staged = stage_declared(store, content)
    store.promote(staged)
    assert store.modified_at(sha256) > first
    assert read(store, sha256) == content
    assert list(store.iter_blobs()) == [sha256]
    assert subject.temporary_count() == 0


@pytest.mark.parametrize("size", [5, 9 * MIB])
def test_declared_bytes_discarded_or_aborted_leave_nothing(subject, size):
    store, content = subject.store, os.urandom(size)
    store.discard(stage_declared(store, content))
    writer = store.writer(sha256=sha(content))
    writer.write(content)
    writer.abort()
    unclaimed = store.writer(sha256=sha(content))
    unclaimed.write(content)
    unclaimed.finish()
    unclaimed.abort()  # the HTTP layer's teardown of a part nobody claimed
    assert store.modified_at(sha(content)) is None
    assert subject.temporary_count() == 0


@pytest.mark.parametrize("size", [300 * KIB, 9 * MIB])
def test_open_staged_reads_declared_bytes_before_promote(store, size):
    content = os.urandom(size - 4) + b"END!"
    staged = stage_declared(store, content)
    with store.open_staged(staged) as file:
        file.seek(-4, os.SEEK_END)
        assert file.read() == b"END!"
        file.seek(0)
        assert file.read() == content
    store.promote(staged)
    assert read(store, staged.sha256) == content


def test_declared_bytes_over_the_limit_are_too_large_and_leave_nothing(subject):
    writer = subject.store.writer(max_size=9 * MIB, sha256=sha(b"x"))
    with pytest.raises(TooLarge):
        for _ in range(10):
            writer.write(os.urandom(MIB))
    writer.abort()
    assert subject.temporary_count() == 0
    assert list(subject.store.iter_blobs()) == []


def test_a_crashed_declared_upload_is_swept_and_the_blob_never_appears(subject):
    store, content = subject.store, os.urandom(9 * MIB)
    crashed = store.writer(sha256=sha(content))  # killed mid-upload: never finished
    crashed.write(content)
    later = subject.now() + timedelta(hours=1)
    wait_for_usage(store, later, at_least=0)
    store.sweep_temporary(later)
    assert subject.temporary_count() == 0
    assert store.modified_at(sha(content)) is None


@pytest.mark.s3
def test_a_present_blob_removed_before_promote_fails_unavailable_and_records_nothing(s3_server):
    store, content = s3_store(s3_server), os.urandom(9 * MIB)
    sha256 = put(store, content)
    staged = stage_declared(store, content)  # found present: the bytes were dropped
    store.delete(sha256)  # GC got there first (its lock was taken before ours)
    with pytest.raises(BackendUnavailable):
        store.promote(staged)
    assert store.modified_at(sha256) is None
    assert store.temporary_count() == 0


@pytest.mark.s3
def test_a_crashed_declared_upload_to_the_final_key_is_counted_and_swept(s3_server):
    store, content = s3_store(s3_server), os.urandom(9 * MIB)
    crashed = store.writer(sha256=sha(content))
    crashed.write(content)  # one part sent to the final key's multipart upload
    later = datetime.now(UTC) + timedelta(hours=1)
    assert wait_for_usage(store, later, at_least=8 * MIB).count == 1
    assert store.sweep_temporary(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert store.sweep_temporary(later) == 1
    assert store.stale_temporary(later) == TemporaryUsage(0, 0)
    assert store.modified_at(sha(content)) is None


@pytest.mark.s3
def test_a_small_body_reaches_s3_only_when_promoted(s3_server):
    """Under one part the digest is known before anything is sent: no temporary object,
    one PutObject to the final key in promote."""
    store = s3_store(s3_server)
    staged = stage(store, b"small and undeclared")
    assert store.temporary_count() == 0
    assert store.modified_at(staged.sha256) is None
    store.promote(staged)
    assert read(store, staged.sha256) == b"small and undeclared"
    assert store.temporary_count() == 0
