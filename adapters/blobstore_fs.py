"""Blobs as files under one root directory, fanned out as ``ab/cd/<sha256>``.

Uploads stream into ``<root>/.tmp/`` (the same filesystem, so ``os.replace`` into place is
atomic: readers see the whole blob or none), hashed on the way and fsynced on finish;
whole blocks are written with ``O_DIRECT`` where the filesystem allows (``staging_file``).
Promotion renames and fsyncs the directory; a blob that exists already only gets its
modification time refreshed, which restarts garbage collection's grace period. A new
blob may be placed before the upload's transaction (``place_new``: a hard link, which
fails rather than replace an existing blob).
Every key is checked to be 64 lowercase hex characters before it becomes a path, and every
temporary token to be one of ours, so no caller-supplied string can reach outside the root.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from adapters.hashing import MultiHasher
from adapters.staging_file import StagingFile
from domain.errors import BackendUnavailable, BlobNotFound, TooLarge
from domain.names import blob_key, is_artifact_id
from domain.ports import BlobReader, BlobStore, BlobWriter, StagedBlob, TemporaryUsage

CHUNK = 1024 * 1024
_FAN = re.compile(r"[0-9a-f]{2}")
_TOKEN = re.compile(r"[0-9a-f]{32}\.part")


@contextlib.contextmanager
def _disk_errors() -> Iterator[None]:
    """Missing files become BlobNotFound; other OS errors a sentence that names no path."""
    try:
        yield
    except FileNotFoundError:
        raise BlobNotFound("The blob does not exist.") from None
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise BackendUnavailable("The blob store is full.") from error
        raise BackendUnavailable("The blob store is unavailable.") from error


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FileWriter(BlobWriter):
    def __init__(self, path: Path, max_size: int | None, direct_io: bool) -> None:
        self._path = path
        self._max_size = max_size
        self._hasher = MultiHasher()
        with _disk_errors():
            self._file: StagingFile | None = StagingFile(path, direct=direct_io)

    def write(self, data: bytes) -> int:
        if self._file is None:
            raise ValueError("I/O operation on a finished or aborted upload.")
        if self._max_size is not None and self._hasher.size + len(data) > self._max_size:
            self.abort()
            raise TooLarge(f"The content exceeds the maximum size of {self._max_size} bytes.")
        self._hasher.update(data, alongside=lambda: self._store(data))
        return len(data)

    def _store(self, data: bytes) -> None:
        assert self._file is not None
        with _disk_errors():
            self._file.write(data)

    def finish(self) -> StagedBlob:
        if self._file is None:
            raise ValueError("I/O operation on a finished or aborted upload.")
        try:
            with _disk_errors():
                self._file.close_synced()
        except BackendUnavailable:
            self.abort()
            raise
        self._file = None
        return StagedBlob(token=self._path.name, checksums=self._hasher.checksums())

    def abort(self) -> None:
        # Also after finish: an unclaimed staged blob is dropped (the HTTP layer relies on it).
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError):
            self._path.unlink(missing_ok=True)


class FileReader(BlobReader):
    """Bytes ``start`` to ``end`` inclusive of an open file (the blob cache serves its
    copies with it too, so both answer a range alike)."""

    def __init__(self, file: BinaryIO, start: int, end: int) -> None:
        self._file = file
        self._start = start
        self.size = max(0, end - start + 1)

    def __iter__(self) -> Iterator[bytes]:
        remaining = self.size
        with _disk_errors():
            self._file.seek(self._start)
            while remaining > 0:
                chunk = self._file.read(min(CHUNK, remaining))
                if not chunk:
                    break  # the file shrank under us: stop rather than spin
                remaining -= len(chunk)
                yield chunk

    def close(self) -> None:
        self._file.close()


class FilesystemBlobStore(BlobStore):
    """Content-addressed files under ``root``; temporary files in ``root/.tmp``."""

    def __init__(self, root: str | Path, direct_io: bool = True) -> None:
        self._root = Path(root)
        self._direct_io = direct_io  # large uploads bypass the page cache (staging_file.py)
        self._root_name = str(self._root)
        self._tmp = self._root / ".tmp"

    def _path(self, sha256: str) -> Path:
        return Path(self._file_name(sha256))

    def _file_name(self, sha256: str) -> str:
        """Where the blob lives: ``<root>/ab/cd/abcd...`` (``names.blob_key``; BlobNotFound
        for anything but an artifact id). A string: every download from disk asks, and
        pathlib's joins cost more than the stat that follows."""
        return os.path.join(self._root_name, blob_key(sha256))

    def _staged_path(self, staged: StagedBlob) -> Path:
        if not _TOKEN.fullmatch(staged.token):
            raise BlobNotFound("The staged blob does not exist.")
        return self._tmp / staged.token

    def writer(self, max_size: int | None = None, sha256: str | None = None) -> BlobWriter:
        with _disk_errors():
            self._tmp.mkdir(parents=True, exist_ok=True)
        return _FileWriter(self._tmp / f"{uuid.uuid4().hex}.part", max_size, self._direct_io)

    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        with _disk_errors():
            return open(self._staged_path(staged), "rb")

    def promote(self, staged: StagedBlob) -> None:
        source, target = self._staged_path(staged), self._path(staged.sha256)
        with _disk_errors():
            if self._refresh(target):
                source.unlink(missing_ok=True)
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            _fsync_directory(target.parent)

    def place_new(self, staged: StagedBlob) -> bool:
        # link(2) fails when the target exists: the atomic create-if-absent the port asks
        # for (rename would replace an existing blob without telling us).
        source, target = self._staged_path(staged), self._path(staged.sha256)
        with _disk_errors():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except FileExistsError:
                return False
            except OSError as error:
                if error.errno in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    return False  # no hard links here: promote renames under the lock
                raise
            _fsync_directory(target.parent)
            source.unlink(missing_ok=True)
        return True

    @staticmethod
    def _refresh(target: Path) -> bool:
        try:
            os.utime(target)
        except FileNotFoundError:
            return False
        return True

    def discard(self, staged: StagedBlob) -> None:
        with _disk_errors():
            self._staged_path(staged).unlink(missing_ok=True)

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        path = self._path(sha256)
        with _disk_errors():
            file = open(path, "rb")  # noqa: SIM115 - the reader closes it
            size = os.fstat(file.fileno()).st_size
        last = size - 1 if end is None else min(end, size - 1)
        return FileReader(file, start, last)

    def delete(self, sha256: str) -> None:
        with _disk_errors():
            self._path(sha256).unlink(missing_ok=True)

    def quarantine(self, sha256: str) -> None:
        # Same filesystem: an atomic rename; a blob quarantined again replaces the older copy.
        source, aside = self._path(sha256), self._root / ".quarantine" / sha256
        with _disk_errors():
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, aside)

    def modified_at(self, sha256: str) -> datetime | None:
        try:
            with _disk_errors():
                mtime = self._path(sha256).stat().st_mtime
        except BlobNotFound:
            return None
        return datetime.fromtimestamp(mtime, UTC)

    def iter_blobs(self) -> Iterator[str]:
        with _disk_errors():
            for first in _fan_dirs(self._root):
                for second in _fan_dirs(first):
                    for entry in os.scandir(second):
                        if _is_blob(entry, first.name + second.name):
                            yield entry.name

    def sweep_temporary(self, older_than: datetime) -> int:
        removed = 0
        for entry, _size in self._stale_files(older_than):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
        return removed

    def stale_temporary(self, older_than: datetime) -> TemporaryUsage:
        sizes = [size for _entry, size in self._stale_files(older_than)]
        return TemporaryUsage(len(sizes), sum(sizes))

    def _stale_files(self, older_than: datetime) -> list[tuple[os.DirEntry[str], int]]:
        """Files in ``.tmp/`` last written before that time, with their sizes. A writer
        touches its file with every chunk, so an upload still arriving is never stale."""
        cutoff, stale = older_than.timestamp(), []
        with _disk_errors():
            entries = list(os.scandir(self._tmp)) if self._tmp.is_dir() else []
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                info = entry.stat(follow_symlinks=False)
                if entry.is_file(follow_symlinks=False) and info.st_mtime < cutoff:
                    stale.append((entry, info.st_size))
        return stale

    def temporary_count(self) -> int:
        """How many temporary files exist now (tests and fsck assert it falls to 0)."""
        with _disk_errors():
            return len(list(self._tmp.iterdir())) if self._tmp.is_dir() else 0

    def presigned_url(
        self, sha256: str, filename: str, content_type: str, expires_in: int
    ) -> str | None:
        return None

    def local_path(self, sha256: str, size: int | None = None) -> str | None:
        try:
            path = self._file_name(sha256)
        except BlobNotFound:  # not an artifact id: no such file
            return None
        with _disk_errors():
            return path if os.path.isfile(path) else None

    def check(self) -> None:
        probe = self._tmp / f"health-{uuid.uuid4().hex}"
        with _disk_errors():
            self._tmp.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            probe.unlink()


def _fan_dirs(parent: Path) -> list[Path]:
    """The two-hex-digit directories of one fan-out level (skips .tmp, quarantine, ...)."""
    if not parent.is_dir():
        return []
    return sorted(
        Path(e.path)
        for e in os.scandir(parent)
        if e.is_dir(follow_symlinks=False) and _FAN.fullmatch(e.name)
    )


def _is_blob(entry: os.DirEntry[str], fan: str) -> bool:
    return (
        entry.is_file(follow_symlinks=False)
        and is_artifact_id(entry.name)
        and entry.name.startswith(fan)
    )
