"""The file an upload streams into: whole blocks with ``O_DIRECT``, the tail through the cache.

A buffered write copies every byte into the page cache, which costs kernel time on the
critical path of every chunk (most when the pages were freed a moment ago), and the
closing ``fsync`` then waits for the writeback. A large upload also pushes whatever is
hot (index pages' metadata, small wheels) out of the cache for bytes nobody reads again
soon. Written with ``O_DIRECT``, the kernel time nearly vanishes and the ``fsync`` is
nearly free; the measured figures are in ``docs/performance.md`` ("Module figures").

``O_DIRECT`` wants the buffer's address, the length and the file offset aligned to the
device's block size, so bytes are gathered in a page-aligned (``mmap``) block of
``BLOCK`` bytes and written a whole block at a time; the tail, shorter than a block, goes
through the page cache once ``O_DIRECT`` is switched off again. Filesystems without
direct I/O (tmpfs before Linux 6.6, some FUSE and network filesystems) refuse the flag,
and then every block is an ordinary write: same bytes, same durability, just cached; so
is every block after a direct write that the filesystem refused with ``EINVAL``. The
``fsync`` in ``close_synced`` is kept either way: ``O_DIRECT`` does not make the file's
size and extents durable.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os

BLOCK = 1024 * 1024  # a multiple of every block size in use; one block of memory per upload
_DIRECT = getattr(os, "O_DIRECT", 0)  # Linux and the BSDs; 0 where there is none (macOS)


class StagingFile:
    """An exclusive new file at ``path``, written in order, then synced or dropped."""

    def __init__(self, path: str | os.PathLike[str], direct: bool = True) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        self.direct = direct and _switch_direct(self._fd, on=True)
        self._block: mmap.mmap | None = None  # made on the first write: most uploads are small
        self._filled = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        if not self.direct:  # the block exists for alignment only: no copy through it
            self._write_gathered()
            _write_all(self._fd, view)
            return
        block = self._block or self._new_block()
        while view:
            take = min(len(view), BLOCK - self._filled)
            block[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == BLOCK:
                self._write_block(block)
                self._filled = 0

    def _write_block(self, block: mmap.mmap) -> None:
        try:
            _write_all(self._fd, block)
        except OSError as error:
            # Some filesystems take the flag and then refuse the I/O itself (EINVAL,
            # before writing anything): write through the cache from here on.
            if not (self.direct and error.errno == errno.EINVAL):
                raise
            _switch_direct(self._fd, on=False)
            self.direct = False
            _write_all(self._fd, block)

    def _write_gathered(self) -> None:
        """Write what the block holds short of a whole block (the tail, or what was
        gathered before a fallback to the cache), through the cache."""
        if self._filled:
            assert self._block is not None
            _write_all(self._fd, memoryview(self._block)[: self._filled])
            self._filled = 0

    def _new_block(self) -> mmap.mmap:
        self._block = mmap.mmap(-1, BLOCK)  # anonymous mappings are page-aligned
        return self._block

    def close_synced(self) -> None:
        """Write the tail, make the whole file durable, and close it."""
        try:
            if self._filled and self.direct:  # an unaligned tail cannot go direct
                _switch_direct(self._fd, on=False)
            self._write_gathered()
            os.fsync(self._fd)
        finally:
            self.close()

    def close(self) -> None:
        """Close without syncing (an aborted upload; its file is about to be removed)."""
        if self._block is not None:
            self._block.close()
            self._block = None
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    @property
    def closed(self) -> bool:
        return self._fd < 0


def _switch_direct(fd: int, on: bool) -> bool:
    """Set or clear ``O_DIRECT`` on ``fd``; False where the filesystem refuses it."""
    if not _DIRECT:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _DIRECT if on else flags & ~_DIRECT)
    except OSError:
        return False
    return True


def _write_all(fd: int, data: bytes | memoryview | mmap.mmap) -> None:
    view, written = memoryview(data), 0
    while written < len(view):
        written += os.write(fd, view[written:])
