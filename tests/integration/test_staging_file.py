"""The file an upload streams into: the bytes that arrive are the bytes on disk, whether
whole blocks go past the page cache (``O_DIRECT``) or the filesystem refuses that."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from adapters import staging_file
from adapters.staging_file import BLOCK, StagingFile

pytestmark = pytest.mark.integration


def direct_io_works_in(folder: Path) -> bool:
    """Ask the filesystem itself, without the code under test."""
    if not hasattr(os, "O_DIRECT"):
        return False
    probe = folder / "probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)
    os.close(fd)
    return True


def write_in_chunks(path: Path, content: bytes, chunks: list[int], direct: bool) -> StagingFile:
    staging = StagingFile(path, direct=direct)
    offset = 0
    for size in chunks:
        staging.write(content[offset : offset + size])
        offset += size
    staging.write(content[offset:])
    staging.close_synced()
    return staging


SHAPES = {
    "empty": (0, []),
    "one byte": (1, []),
    "one block exactly": (BLOCK, []),
    "a block and a tail": (BLOCK + 17, []),
    "odd chunks across three blocks": (3 * BLOCK + 5, [7, BLOCK - 3, 2 * BLOCK + 1, 4096]),
    "chunks larger than a block": (5 * BLOCK, [2 * BLOCK + 99, 2 * BLOCK]),
}


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "cached"])
@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_the_file_holds_exactly_the_bytes_written(tmp_path, shape, direct):
    size, chunks = SHAPES[shape]
    content = os.urandom(size)
    target = tmp_path / "upload.part"
    staging = write_in_chunks(target, content, chunks, direct)
    assert staging.closed
    assert target.read_bytes() == content


def test_memoryview_and_bytearray_chunks_are_written_as_they_are(tmp_path):
    content = os.urandom(BLOCK + 1000)
    staging = StagingFile(tmp_path / "f", direct=True)
    staging.write(memoryview(content)[:500])
    staging.write(bytearray(content[500:]))
    staging.close_synced()
    assert (tmp_path / "f").read_bytes() == content


def test_direct_io_is_used_wherever_the_filesystem_allows_it(tmp_path):
    staging = StagingFile(tmp_path / "f", direct=True)
    staging.close()
    assert staging.direct is direct_io_works_in(tmp_path)


def test_asked_not_to_it_never_uses_direct_io(tmp_path):
    staging = StagingFile(tmp_path / "f", direct=False)
    staging.close()
    assert staging.direct is False


def refuse_direct_io(monkeypatch) -> None:
    """Make F_SETFL refuse O_DIRECT with EINVAL, as filesystems without direct I/O do
    (older tmpfs, some FUSE and network filesystems); this kernel's tmpfs accepts it."""
    real = fcntl.fcntl

    def fcntl_without_direct(fd, command, arg=0):
        if command == fcntl.F_SETFL and arg & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, command, arg)

    monkeypatch.setattr(staging_file.fcntl, "fcntl", fcntl_without_direct)


@pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT on this system")
def test_a_filesystem_without_direct_io_still_gets_every_byte(tmp_path, monkeypatch):
    refuse_direct_io(monkeypatch)
    content = os.urandom(2 * BLOCK + 333)
    staging = write_in_chunks(tmp_path / "f", content, [BLOCK + 1], direct=True)
    assert staging.direct is False
    assert (tmp_path / "f").read_bytes() == content


def refuse_direct_writes(monkeypatch) -> None:
    """Accept the flag but refuse every write made with it, as some FUSE filesystems do."""
    real = os.write

    def write_without_direct(fd, data):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data)

    monkeypatch.setattr(staging_file.os, "write", write_without_direct)


@pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT on this system")
def test_a_filesystem_that_refuses_direct_writes_gets_every_byte_through_the_cache(
    tmp_path, monkeypatch
):
    if not direct_io_works_in(tmp_path):
        pytest.skip("this filesystem refuses O_DIRECT already at the flag")
    refuse_direct_writes(monkeypatch)
    content = os.urandom(3 * BLOCK + 77)
    staging = StagingFile(tmp_path / "f", direct=True)
    assert staging.direct is True
    staging.write(content[:100])
    staging.write(content[100:])
    staging.close_synced()
    assert staging.direct is False
    assert (tmp_path / "f").read_bytes() == content


@pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT on this system")
def test_bytes_gathered_before_a_refused_direct_write_keep_their_place(tmp_path, monkeypatch):
    if not direct_io_works_in(tmp_path):
        pytest.skip("this filesystem refuses O_DIRECT already at the flag")
    refuse_direct_writes(monkeypatch)
    content = os.urandom(3 * BLOCK + 77)
    # The fallback comes mid-chunk: the second chunk leaves bytes gathered in the block
    # that must land before the third chunk's, which is written straight through.
    staging = write_in_chunks(tmp_path / "f", content, [100, BLOCK + 50, 4096], direct=True)
    assert staging.direct is False
    assert (tmp_path / "f").read_bytes() == content


def test_the_file_is_created_exclusively(tmp_path):
    (tmp_path / "taken").write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        StagingFile(tmp_path / "taken")
    assert (tmp_path / "taken").read_bytes() == b"someone else's"


def test_close_without_sync_keeps_whole_blocks_only_and_can_be_repeated(tmp_path):
    """An aborted upload: its file is removed next, so the tail is not worth writing."""
    staging = StagingFile(tmp_path / "f", direct=True)
    staging.write(os.urandom(BLOCK + 10))
    staging.close()
    staging.close()
    assert staging.closed
    assert (tmp_path / "f").stat().st_size == BLOCK


@pytest.mark.parametrize(("setting", "wanted"), [(None, True), ("false", False), ("true", True)])
def test_orchard_direct_io_reaches_the_filesystem_store(tmp_path, setting, wanted):
    from entrypoints.bootstrap import _filesystem_store
    from entrypoints.config import load_settings

    environ = {"ORCHARD_DATA_DIR": str(tmp_path)}
    if setting is not None:
        environ["ORCHARD_DIRECT_IO"] = setting
    writer = _filesystem_store(load_settings(environ)).writer()
    try:
        assert writer._file.direct is (wanted and direct_io_works_in(tmp_path))
    finally:
        writer.abort()
