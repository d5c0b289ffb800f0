"""A metadata reader that knows what the test told it about each filename."""

from __future__ import annotations

from typing import BinaryIO

from domain.errors import InvalidInput
from domain.ports import MetadataReader, PackageMetadata


class FakeMetadataReader(MetadataReader):
    def __init__(self, by_filename: dict[str, PackageMetadata] | None = None) -> None:
        self.by_filename = dict(by_filename or {})

    def read(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        return self.by_filename.get(filename)

    def read_sdist_metadata(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        return self.by_filename.get(filename)

    def read_wheel_metadata(self, file: BinaryIO) -> bytes:
        raise InvalidInput("The fake reader extracts no wheel metadata.")
