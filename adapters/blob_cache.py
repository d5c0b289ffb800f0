"""A directory of verified local copies of blobs: the disk side of the read-through cache
(``adapters/blobstore_cache.py`` puts it in front of a store).

Blobs are immutable and named by their SHA-256, so a copy never goes stale: there is no
invalidation, only eviction. Layout, under the configured root:

- ``boot-<id>/ab/cd/<sha256>``: the copies (``names.blob_key``, the stores' layout);
- ``boot-<id>/.tmp/<uuid>.part``: fills under way;
- ``.lock``: taken (``flock``, never waited for) by the process that evicts.

A fill streams the whole blob into its own temporary file while hashing it, and renames
it into place only when the SHA-256 is the key (``os.replace`` within one filesystem is
atomic: a reader finds the whole copy or none, and concurrent fills of one blob, in
threads or processes, leave one of their identical copies). Nothing is fsynced; instead
the copies live under the kernel's boot id, so a crash of the machine, which could leave
a renamed file whose data never reached the disk, also retires every copy written before
it (the first eviction after the reboot deletes them). A process that dies mid-fill
leaves only a ``.part`` file, which eviction sweeps after an hour.

Eviction is least recently used, approximately: a hit refreshes the copy's mtime when it
is more than ``TOUCH_AFTER`` seconds old (one ``utime`` per copy per five minutes, atime
being unreliable under ``noatime``/``relatime``), and when a process has added 1/32 of
the bound since it last looked, or thinks the bound is passed, a background thread scans
the copies and deletes the oldest until they hold 90 % of it. Between two scans each
process may add up to 1/32 of the bound, so the directory can briefly pass it by that
much per worker process.

A disk failure (unwritable, full, gone) is never an error to the caller: the fill is
dropped, a warning is logged, and the cache stays out of the way for ``RETRY_AFTER``
seconds before it tries again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator

from adapters.blobstore_fs import FileReader
from domain.errors import BlobNotFound
from domain.names import blob_key, is_artifact_id
from domain.ports import BlobReader

TOUCH_AFTER = 300.0  # seconds: how stale a copy's mtime may get before a hit refreshes it
RETRY_AFTER = 60.0  # seconds the cache stays out of the way after its disk failed
STALE_FILL = 3600.0  # a .part file untouched this long belongs to a fill that died
LOW_WATER = 0.9  # eviction deletes down to this fraction of the bound
SCAN_EVERY = 32  # a process rescans after adding 1/32 of the bound
_FAN = re.compile(r"[0-9a-f]{2}")
_BOOT = re.compile(r"boot-[0-9a-f]{32}")

log = logging.getLogger("orchard.blobcache")


def boot_id() -> str:
    """The kernel's id of this boot (changes with every reboot), as a directory name."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as file:
            return "boot-" + file.read().strip().replace("-", "")
    except OSError:
        return "boot-" + "0" * 32  # no /proc: copies survive reboots, unprotected


class BlobCache:
    """Verified copies of blobs under ``root``, at most ``max_bytes`` of them (about: see
    the module's docstring), each at most ``max_blob_size`` bytes.

    ``observe(outcome)`` is told ``fill``, ``corrupt`` or ``disk_error`` for each fill.
    """

    def __init__(
        self,
        root: str,
        max_bytes: int,
        max_blob_size: int,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self._root = os.path.abspath(root)
        self._copies = os.path.join(self._root, boot_id())
        self._tmp = os.path.join(self._copies, ".tmp")
        self.max_bytes, self.max_blob_size = max_bytes, max_blob_size
        self._observe = observe or (lambda outcome: None)
        self._lock = threading.Lock()
        self._added = 0  # bytes this process filled since its last scan
        self._estimate: int | None = None  # what the last scan found (None: never scanned)
        self._evicting = False
        self._off_until = 0.0  # monotonic time before which the cache stays out of the way

    # ------------------------------------------------------------------ reading

    def path(self, sha256: str) -> str:
        """Where the copy of ``sha256`` lives (``BlobNotFound`` for a malformed key)."""
        return os.path.join(self._copies, blob_key(sha256))

    def find(self, sha256: str) -> str | None:
        """The copy's path when there is one (its mtime refreshed if stale), else None."""
        try:
            path = self.path(sha256)
            mtime = os.stat(path).st_mtime
        except (BlobNotFound, OSError):
            return None
        if mtime < time.time() - TOUCH_AFTER:
            with contextlib.suppress(OSError):  # a read-only cache still serves
                os.utime(path)
        return path

    @staticmethod
    def open_copy(path: str, start: int = 0, end: int | None = None) -> BlobReader:
        """Bytes ``start``..``end`` of a copy, read as the filesystem store reads a blob.
        ``FileNotFoundError`` when it was evicted since it was found."""
        file = open(path, "rb")  # noqa: SIM115 - the reader closes it
        size = os.fstat(file.fileno()).st_size
        return FileReader(file, start, size - 1 if end is None else min(end, size - 1))

    # ------------------------------------------------------------------ filling

    def admits(self, size: int) -> bool:
        """Whether a blob of ``size`` bytes would be filled now."""
        return size <= min(self.max_blob_size, self.max_bytes) and self.usable

    @property
    def usable(self) -> bool:
        return time.monotonic() >= self._off_until

    def fill(self, sha256: str, chunks: Iterable[bytes], *, hash_after: bool = False) -> str | None:
        """Copy the blob's bytes to the cache; its path, or None when nothing was kept:
        the bytes do not hash to ``sha256`` (reported as a corrupt blob) or the disk
        failed (a warning; the cache then rests). Errors of ``chunks`` (the store's)
        propagate, after the temporary file is removed.

        ``hash_after``: hash the written file once ``chunks`` are over (read back from the
        page cache) instead of each chunk as it comes, so that whoever produces the chunks
        (a download streaming to its client) is not held back by the hashing."""
        temporary = os.path.join(self._tmp, f"{uuid.uuid4().hex}.part")
        try:
            digest, size = self._write(temporary, chunks, hash_after=hash_after)
            if digest != sha256:
                self._corrupt(sha256, digest)
                return None
            target = self.path(sha256)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(temporary, target)
        except OSError as error:
            self._disk_failed(error)
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)  # gone already once renamed
        self._observe("fill")
        self._added_bytes(size)
        return target

    def _write(
        self, temporary: str, chunks: Iterable[bytes], hash_after: bool = False
    ) -> tuple[str, int]:
        hasher, size = hashlib.sha256(), 0
        try:
            file = open(temporary, "xb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            os.makedirs(self._tmp, exist_ok=True)
            file = open(temporary, "xb")  # noqa: SIM115
        with file:
            for chunk in chunks:
                if not hash_after:
                    hasher.update(chunk)
                file.write(chunk)
                size += len(chunk)
        if hash_after:
            with open(temporary, "rb") as written:
                hasher = hashlib.file_digest(written, "sha256")
        return hasher.hexdigest(), size

    def _corrupt(self, sha256: str, digest: str) -> None:
        self._observe("corrupt")
        log.error(
            "Blob %s is corrupt in the blob store: its bytes hash to %s. It was not cached "
            "and is served as the store has it; run `orchard fsck --repair`.",
            sha256,
            digest,
        )

    def _disk_failed(self, error: OSError) -> None:
        self._observe("disk_error")
        with self._lock:
            warn, self._off_until = self.usable, time.monotonic() + RETRY_AFTER
        if warn:
            log.warning(
                "The blob cache cannot write to its directory (%s): downloads read the "
                "blob store directly for the next %.0f seconds.",
                error.strerror or type(error).__name__,
                RETRY_AFTER,
            )

    def drop(self, sha256: str) -> None:
        """Remove the copy of ``sha256`` if this instance has one."""
        with contextlib.suppress(BlobNotFound, OSError):
            os.unlink(self.path(sha256))

    # ------------------------------------------------------------------ eviction

    def _added_bytes(self, size: int) -> None:
        with self._lock:
            self._added += size
            if not self._due() or self._evicting:
                return
            self._evicting = True
        threading.Thread(target=self._evict, name="orchard-blob-cache", daemon=True).start()

    def _due(self) -> bool:
        """Whether a scan is due (called with ``_lock`` held)."""
        if self._estimate is None or self._estimate + self._added > self.max_bytes:
            return True
        return self._added * SCAN_EVERY >= self.max_bytes

    def _evict(self) -> None:
        """Evict until no scan is due: fills that land during a scan start another."""
        while True:
            try:
                done = self.evict() is not None  # None: another process is at it
            except OSError as error:
                log.warning("The blob cache could not evict (%s).", error.strerror or error)
                done = False
            with self._lock:
                if not done or not self._due():
                    self._evicting = False
                    return

    def evict(self) -> int | None:
        """Scan the copies and delete the oldest past the bound; return the bytes kept, or
        None when another process is evicting (it holds the lock) ."""
        with self._exclusive() as mine:
            if not mine:
                return None
            with self._lock:
                self._added = 0
            copies = sorted(self._scan())
            total = sum(size for _mtime, size, _path in copies)
            if total > self.max_bytes:
                goal = self.max_bytes * LOW_WATER
                for _mtime, size, path in copies:
                    if total <= goal:
                        break
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    total -= size
            with self._lock:
                self._estimate = total
            return total

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[bool]:
        os.makedirs(self._root, exist_ok=True)
        fd = os.open(os.path.join(self._root, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock

    def _scan(self) -> Iterator[tuple[float, int, str]]:
        """(mtime, size, path) of every copy of this boot; on the way, removes earlier
        boots' copies and the ``.part`` files of fills that died."""
        for entry in os.scandir(self._root):
            if _BOOT.fullmatch(entry.name) and entry.path != self._copies:
                shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.isdir(self._copies):
            return
        stale = time.time() - STALE_FILL
        if os.path.isdir(self._tmp):
            for entry in os.scandir(self._tmp):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < stale:
                        os.unlink(entry.path)
        for first in _fans(self._copies):
            for second in _fans(first):
                for entry in os.scandir(second):
                    if is_artifact_id(entry.name):
                        with contextlib.suppress(FileNotFoundError):
                            info = entry.stat(follow_symlinks=False)
                            yield info.st_mtime, info.st_size, entry.path


def _fans(parent: str) -> list[str]:
    return [e.path for e in os.scandir(parent) if e.is_dir() and _FAN.fullmatch(e.name)]
