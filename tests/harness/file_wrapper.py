"""A stand-in for gunicorn's ``wsgi.file_wrapper`` in view tests run without gunicorn."""

from __future__ import annotations

import io
from collections.abc import Iterator


class SendfileWrapper:
    """What gunicorn hands the app as ``wsgi.file_wrapper``: it sendfiles the descriptor.
    Here it reads the file in blocks, so a test sees the bytes the socket would."""

    def __init__(self, file: io.RawIOBase, block_size: int) -> None:
        self.file, self.block_size = file, block_size

    def __iter__(self) -> Iterator[bytes]:
        yield from iter(lambda: self.file.read(self.block_size), b"")

    def close(self) -> None:
        self.file.close()
