"""Read what a wheel, an sdist or an npm-style tarball says about itself.

Uploads are hostile until proven otherwise, so every read is bounded: no member is
decompressed past ``max_member_size`` (read in chunks, then stop), a tarball is read as a
stream through a meter that stops after ``max_total_size`` decompressed bytes and after
``max_members`` entries, and a zip member is never trusted for its declared size. Any
failure of the archive libraries means "no metadata" (``read``) or an ``InvalidInput``
with a reason (``read_wheel_metadata``): an upload never crashes on a bad archive.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import lzma
import tarfile
import zipfile
import zlib
from typing import IO, BinaryIO

from packaging.metadata import parse_email

from domain.errors import InvalidInput
from domain.ports import MetadataReader, PackageMetadata

_CHUNK = 64 * 1024
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar")
# What a broken or hostile archive makes these libraries raise; nothing broader.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    OSError,  # includes gzip.BadGzipFile and bz2's "Invalid data stream"
    EOFError,  # a truncated gzip/bz2/xz stream
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # a zip compression method this Python cannot read
    ValueError,  # includes json.JSONDecodeError and UnicodeDecodeError
    KeyError,
)


class _OverBudgetError(Exception):
    """A member or a stream went past its budget."""


class _MeteredReader:
    """A read-only stream that raises ``_OverBudgetError`` once ``limit`` bytes have passed.

    Put between the decompressor and ``tarfile`` it bounds everything tarfile reads,
    including the member data it skips and the pax headers it keeps in memory.
    """

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        wanted = _CHUNK if size is None or size < 0 else min(size, _CHUNK)
        data = self._stream.read(min(wanted, self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise _OverBudgetError
        return data


class ArchiveMetadataReader(MetadataReader):
    """Metadata from wheels, sdists (tar or zip) and npm ``package/package.json`` tarballs."""

    def __init__(
        self,
        max_member_size: int = 1 << 20,
        max_members: int = 10000,
        max_total_size: int = 64 << 20,
    ) -> None:
        self.max_member_size = max_member_size
        self.max_members = max_members
        self.max_total_size = max_total_size

    # ------------------------------------------------------------------ the port

    def read(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        lower = filename.lower()
        try:
            if lower.endswith(".whl"):
                return self._read_wheel(file)
            if lower.endswith(".zip"):
                return self._read_zip_sdist(file)
            if lower.endswith(_TAR_SUFFIXES):
                return self._read_tarball(file)
        except (_OverBudgetError, *_ARCHIVE_ERRORS):
            return None
        finally:
            _rewind(file)
        return None

    def read_sdist_metadata(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        # pypi.org refuses a source distribution it cannot open as what its name says;
        # an index that kept one would hand pip a file it cannot unpack.
        is_zip = filename.lower().endswith(".zip")
        kind = "zip" if is_zip else "gzip-compressed tar"
        try:
            file.seek(0)
            if not is_zip and not file.read(2) == b"\x1f\x8b":
                raise InvalidInput(
                    f"The source distribution {_shown(filename)} is not gzip-compressed: "
                    "a .tar.gz must be a gzip-compressed tar archive."
                )
            found = self._read_zip_sdist(file) if is_zip else self._read_tarball(file)
        except _OverBudgetError:
            return None  # too large to look through here: not refused for that
        except _ARCHIVE_ERRORS:
            raise InvalidInput(
                f"The source distribution {_shown(filename)} is not a readable {kind} "
                "archive (corrupt, truncated or of another format)."
            ) from None
        finally:
            _rewind(file)
        if found is None:
            raise InvalidInput(
                f"The source distribution {_shown(filename)} has no PKG-INFO at its top "
                "level (<name>-<version>/PKG-INFO), which every sdist carries."
            )
        return found

    def read_wheel_metadata(self, file: BinaryIO) -> bytes:
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                return self._wheel_metadata(archive)
        except zipfile.BadZipFile:
            raise InvalidInput("The wheel is not a valid zip archive.") from None
        except _OverBudgetError:
            raise InvalidInput(
                f"The wheel's METADATA is larger than {self.max_member_size} bytes once "
                "decompressed (a zip bomb?)."
            ) from None
        except _ARCHIVE_ERRORS:
            raise InvalidInput(
                "The wheel's METADATA cannot be read: the archive is corrupt "
                "or uses an unsupported compression."
            ) from None
        finally:
            _rewind(file)

    # ------------------------------------------------------------------ zip

    def _read_wheel(self, file: BinaryIO) -> PackageMetadata | None:
        try:
            core_metadata = self.read_wheel_metadata(file)
        except InvalidInput:
            return None
        return _from_core_metadata(core_metadata, keep=True)

    def _wheel_metadata(self, archive: zipfile.ZipFile) -> bytes:
        found = [info for info in archive.infolist() if _is_wheel_metadata(info.filename)]
        if not found:
            raise InvalidInput("The wheel has no .dist-info/METADATA file.")
        if len(found) > 1:
            raise InvalidInput("The wheel has more than one .dist-info/METADATA file.")
        if found[0].flag_bits & 0x1:
            raise InvalidInput("The wheel's METADATA is encrypted.")
        return self._read_zip_member(archive, found[0])

    def _read_zip_sdist(self, file: BinaryIO) -> PackageMetadata | None:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            found = [info for info in archive.infolist() if _is_pkg_info(info.filename)]
            if len(found) != 1 or found[0].flag_bits & 0x1:
                return None
            return _from_core_metadata(self._read_zip_member(archive, found[0]))

    def _read_zip_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        # The declared size is a hint to fail fast; the capped read is the real bound.
        if info.file_size > self.max_member_size:
            raise _OverBudgetError
        with archive.open(info) as member:
            return _read_capped(member, self.max_member_size)

    # ------------------------------------------------------------------ tar

    def _read_tarball(self, file: BinaryIO) -> PackageMetadata | None:
        file.seek(0)
        with _decompressed(file) as stream:
            metered = _MeteredReader(stream, self.max_total_size)
            # ignore: typeshed's overloads want a whole file object; a stream ("r|") only
            # ever calls read(), which is all _MeteredReader has.
            with tarfile.open(fileobj=metered, mode="r|") as archive:  # type: ignore[call-overload]
                return self._scan_tar(archive)

    def _scan_tar(self, archive: tarfile.TarFile) -> PackageMetadata | None:
        for count, member in enumerate(archive, start=1):
            if count > self.max_members:
                raise _OverBudgetError
            name = member.name.removeprefix("./")
            if not member.isfile() or member.size > self.max_member_size:
                continue
            if _is_pkg_info(name) or name == "package/package.json":
                member_file = archive.extractfile(member)
                if member_file is None:
                    return None
                data = _read_capped(member_file, self.max_member_size)
                if name.endswith(".json"):
                    return _from_package_json(data)
                return _from_core_metadata(data)
        return None


def _decompressed(file: BinaryIO) -> contextlib.AbstractContextManager[BinaryIO]:
    """The tarball's bytes as a stream, decompressed by what its magic number says.

    None of these close ``file``: it belongs to the caller. The ignores: typeshed types
    the decompressors as ``BufferedIOBase``/``BinaryIO``-less classes, yet each is a
    binary reader, which is all the caller asks of it.
    """
    magic = file.read(6)
    file.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=file, mode="rb")  # type: ignore[return-value]
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(file)  # type: ignore[return-value]
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(file)  # type: ignore[return-value]
    return contextlib.nullcontext(file)


def _read_capped(stream: IO[bytes], limit: int) -> bytes:
    """Read at most ``limit`` bytes in chunks; raise ``_OverBudgetError`` if there are more."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(min(_CHUNK, limit + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _OverBudgetError
    return b"".join(chunks)


def _is_wheel_metadata(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA"


def _is_pkg_info(path: str) -> bool:
    # Only the top-level "name-1.0/PKG-INFO": an sdist also carries *.egg-info/PKG-INFO.
    parts = path.split("/")
    return len(parts) == 2 and bool(parts[0]) and parts[1] == "PKG-INFO"


def _from_core_metadata(data: bytes, *, keep: bool = False) -> PackageMetadata:
    """Core metadata (METADATA / PKG-INFO) headers; ``keep`` stores the bytes verbatim."""
    raw, _unparsed = parse_email(data)
    return PackageMetadata(
        name=_text(raw.get("name")),
        version=_text(raw.get("version")),
        requires_python=_text(raw.get("requires_python")),
        summary=_text(raw.get("summary")),
        core_metadata=data if keep else None,
    )


def _from_package_json(data: bytes) -> PackageMetadata | None:
    document = json.loads(data)
    if not isinstance(document, dict):
        return None
    return PackageMetadata(
        name=_text(document.get("name")),
        version=_text(document.get("version")),
        summary=_text(document.get("description")),
    )


def _text(value: object) -> str | None:
    """A non-empty stripped string, or None for anything else (lists, numbers, blanks)."""
    return value.strip() or None if isinstance(value, str) else None


def _shown(value: str, limit: int = 120) -> str:
    """A client's filename in a message (twine prints it): escaped and bounded."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _rewind(file: BinaryIO) -> None:
    # The caller goes on with the same file (to store or hash it): leave it at the start.
    with contextlib.suppress(OSError, ValueError):
        file.seek(0)
