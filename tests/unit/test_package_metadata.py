"""ArchiveMetadataReader on real archives built here: good ones, broken ones, hostile ones."""

from __future__ import annotations

import io
import json
import resource
import tarfile
import time
import zipfile

import pytest

from adapters.package_metadata import ArchiveMetadataReader
from domain.errors import InvalidInput
from domain.ports import MetadataReader, PackageMetadata

METADATA = (
    b"Metadata-Version: 2.1\n"
    b"Name: Foo_Bar\n"
    b"Version: 1.2.3\n"
    b"Summary: A caf\xc3\xa9 of bars\n"
    b"Requires-Python: >=3.9\n"
    b"\n"
    b"The long description.\n"
)
FOO = PackageMetadata(
    name="Foo_Bar", version="1.2.3", requires_python=">=3.9", summary="A café of bars"
)
MiB = 1 << 20


class Zeros(io.RawIOBase):
    """``size`` zero bytes, produced on demand so that building a bomb costs no memory."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members, mode="w:gz"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def wheel(*metadata_paths, data=METADATA):
    return zip_bytes([("foo/__init__.py", b"")] + [(path, data) for path in metadata_paths])


def read(data, filename, reader=None):
    return (reader or ArchiveMetadataReader()).read(io.BytesIO(data), filename)


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def test_it_is_a_metadata_reader():
    assert isinstance(ArchiveMetadataReader(), MetadataReader)


# ------------------------------------------------------------------ what archives say


def test_a_wheel_gives_its_metadata_and_the_metadata_file_verbatim():
    data = wheel("foo_bar-1.2.3.dist-info/METADATA")
    expected = PackageMetadata(**{**FOO.__dict__, "core_metadata": METADATA})
    assert read(data, "foo_bar-1.2.3-py3-none-any.whl") == expected


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        (
            "foo-1.2.3.tar.gz",
            tar_bytes([("foo-1.2.3/setup.py", b""), ("foo-1.2.3/PKG-INFO", METADATA)]),
        ),
        ("foo-1.2.3.tgz", tar_bytes([("foo-1.2.3/PKG-INFO", METADATA)])),
        ("foo-1.2.3.tar.bz2", tar_bytes([("foo-1.2.3/PKG-INFO", METADATA)], "w:bz2")),
        ("foo-1.2.3.tar.xz", tar_bytes([("foo-1.2.3/PKG-INFO", METADATA)], "w:xz")),
        ("foo-1.2.3.tar", tar_bytes([("foo-1.2.3/PKG-INFO", METADATA)], "w")),
        ("FOO-1.2.3.TAR.GZ", tar_bytes([("./foo-1.2.3/PKG-INFO", METADATA)])),
        (
            "foo-1.2.3.zip",
            zip_bytes([("foo-1.2.3/setup.py", b""), ("foo-1.2.3/PKG-INFO", METADATA)]),
        ),
        # the top-level PKG-INFO, not the egg-info copy that comes first
        (
            "foo-1.2.3.tar.gz",
            tar_bytes(
                [
                    ("foo-1.2.3/src/foo.egg-info/PKG-INFO", b"Name: wrong\nVersion: 9\n"),
                    ("foo-1.2.3/PKG-INFO", METADATA),
                ]
            ),
        ),
    ],
)
def test_an_sdist_gives_its_pkg_info(filename, data):
    assert read(data, filename) == FOO


@pytest.mark.parametrize("filename", ["left-pad-1.3.0.tgz", "left-pad-1.3.0.tar.gz"])
def test_an_npm_tarball_gives_its_package_json(filename):
    document = {"name": "left-pad", "version": "1.3.0", "description": "String left pad"}
    data = tar_bytes(
        [("package/README.md", b"hi"), ("package/package.json", json.dumps(document).encode())]
    )
    assert read(data, filename) == PackageMetadata(
        name="left-pad", version="1.3.0", summary="String left pad"
    )


@pytest.mark.parametrize(
    ("package_json", "expected"),
    [
        (b'{"name": "x"}', PackageMetadata(name="x")),
        (b'{"name": 1, "version": ["1.0"]}', PackageMetadata()),
        (b'{"version": "  "}', PackageMetadata()),
        (b"[1, 2]", None),
        (b"{not json", None),
        (b"\xff\xfe\x00garbage", None),
        (b"", None),
    ],
)
def test_odd_package_json_gives_what_it_can(package_json, expected):
    assert read(tar_bytes([("package/package.json", package_json)]), "x.tgz") == expected


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("file.bin", zip_bytes([("foo.dist-info/METADATA", METADATA)])),
        ("README", b"hello"),
        ("foo-1.0.tar.gz", tar_bytes([("foo-1.0/setup.py", b"")])),
        ("foo-1.0.tar.gz", tar_bytes([("PKG-INFO", METADATA)])),
        ("foo-1.0.tar.gz", tar_bytes([("a/b/PKG-INFO", METADATA)])),
        ("foo-1.0.zip", zip_bytes([("foo-1.0/setup.py", b"")])),
        ("foo-1.0.tgz", tar_bytes([("other/package.json", b'{"version": "1"}')])),
        ("foo-1.0-py3-none-any.whl", wheel()),
        ("foo-1.0-py3-none-any.whl", wheel("a.dist-info/METADATA", "b.dist-info/METADATA")),
    ],
)
def test_archives_without_metadata_give_none(filename, data):
    assert read(data, filename) is None


def test_metadata_in_a_wrong_encoding_gives_no_name():
    data = wheel("foo.dist-info/METADATA", data=b"Name: caf\xe9\nVersion: 1.0\n")
    assert read(data, "foo-1.0-py3-none-any.whl").name is None


def test_the_file_is_left_at_its_start():
    file = io.BytesIO(wheel("foo.dist-info/METADATA"))
    file.seek(7)
    ArchiveMetadataReader().read(file, "foo-1.0-py3-none-any.whl")
    assert file.tell() == 0


# ------------------------------------------------------------------ broken archives


SDIST = tar_bytes([("foo-1.2.3/PKG-INFO", METADATA + b"x" * 50_000)])


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("foo-1.0-py3-none-any.whl", b"garbage" * 1000),
        ("foo-1.0.tar.gz", b"garbage" * 1000),
        ("foo-1.0.tgz", b"\x1f\x8bgarbage" * 1000),
        ("foo-1.0.tar.bz2", b"BZhgarbage" * 1000),
        ("foo-1.0.tar.xz", b"\xfd7zXZ\x00garbage" * 1000),
        ("foo-1.0.zip", b"PK\x03\x04garbage"),
        ("foo-1.0.tar.gz", b""),
        ("foo-1.0-py3-none-any.whl", b""),
        ("foo-1.2.3.tar.gz", SDIST[: len(SDIST) // 2]),
        ("foo-1.2.3.tar.bz2", tar_bytes([("foo-1.2.3/PKG-INFO", METADATA)], "w:bz2")[:60]),
        ("foo-1.2.3.tar.xz", tar_bytes([("foo-1.2.3/PKG-INFO", METADATA)], "w:xz")[:80]),
        ("foo-1.0-py3-none-any.whl", wheel("foo.dist-info/METADATA")[:100]),
    ],
)
def test_broken_archives_give_none_and_never_raise(filename, data):
    assert read(data, filename) is None


def test_a_stream_truncated_after_its_pkg_info_still_gives_it():
    # Tarballs are read as a stream: what comes after the metadata is never looked at.
    assert read(SDIST[:-8], "foo-1.2.3.tar.gz").version == "1.2.3"


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_raise(seed):
    import random

    data = random.Random(seed).randbytes(4096)
    for filename in ("x.whl", "x.zip", "x.tar.gz", "x.tgz", "x.tar.bz2", "x.tar.xz", "x.tar"):
        assert read(data, filename) is None


# ------------------------------------------------------------------ read_wheel_metadata


def test_read_wheel_metadata_gives_the_bytes_verbatim():
    data = wheel("foo.dist-info/METADATA")
    assert ArchiveMetadataReader().read_wheel_metadata(io.BytesIO(data)) == METADATA


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip", "The wheel is not a valid zip archive."),
        (b"", "The wheel is not a valid zip archive."),
        (wheel(), "The wheel has no .dist-info/METADATA file."),
        (wheel("foo/METADATA"), "The wheel has no .dist-info/METADATA file."),
        (wheel("x/foo.dist-info/METADATA"), "The wheel has no .dist-info/METADATA file."),
        (
            wheel("a.dist-info/METADATA", "b.dist-info/METADATA"),
            "The wheel has more than one .dist-info/METADATA file.",
        ),
        (
            wheel("foo.dist-info/METADATA", data=b"x" * (MiB + 1)),
            "METADATA is larger than 1048576 bytes once decompressed (a zip bomb?)",
        ),
    ],
)
def test_read_wheel_metadata_refuses_with_a_reason(data, reason):
    with pytest.raises(InvalidInput) as error:
        ArchiveMetadataReader().read_wheel_metadata(io.BytesIO(data))
    assert reason in str(error.value)


def test_an_encrypted_metadata_is_refused():
    data = bytearray(wheel("foo.dist-info/METADATA"))
    # Set the "encrypted" flag in every local and central header (zipfile cannot write it).
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + flag_offset] |= 0x1
            start = data.find(signature, start + 1)
    with pytest.raises(InvalidInput, match="encrypted"):
        ArchiveMetadataReader().read_wheel_metadata(io.BytesIO(data))
    assert read(bytes(data), "foo-1.0-py3-none-any.whl") is None


# ------------------------------------------------------------------ hostile archives


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    """A wheel whose METADATA is 200 MiB of zeros: about 200 KiB on disk."""
    path = tmp_path_factory.mktemp("bombs") / "bomb-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb-1.0.dist-info/METADATA", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(bytes(MiB))
    return path


@pytest.fixture(scope="module")
def tar_bomb(tmp_path_factory):
    """An sdist with 200 MiB of zeros before its PKG-INFO."""
    path = tmp_path_factory.mktemp("bombs") / "bomb-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        zeros = tarfile.TarInfo("bomb-1.0/zeros")
        zeros.size = 200 * MiB
        archive.addfile(zeros, io.BufferedReader(Zeros(zeros.size)))
        info = tarfile.TarInfo("bomb-1.0/PKG-INFO")
        info.size = len(METADATA)
        archive.addfile(info, io.BytesIO(METADATA))
    return path


def test_a_zip_bomb_is_refused_quickly_in_bounded_memory(zip_bomb):
    reader = ArchiveMetadataReader()
    before, start = max_rss_mib(), time.monotonic()
    with open(zip_bomb, "rb") as file:
        assert reader.read(file, zip_bomb.name) is None
        with pytest.raises(InvalidInput, match="a zip bomb"):
            reader.read_wheel_metadata(file)
    assert time.monotonic() - start < 5
    assert max_rss_mib() - before < 100


def test_a_tar_bomb_is_given_up_on_quickly_in_bounded_memory(tar_bomb):
    before, start = max_rss_mib(), time.monotonic()
    with open(tar_bomb, "rb") as file:
        assert ArchiveMetadataReader().read(file, tar_bomb.name) is None
    assert time.monotonic() - start < 5
    assert max_rss_mib() - before < 100


def test_a_pax_header_bomb_is_given_up_on_in_bounded_memory(tmp_path):
    # tarfile keeps a pax header in memory whole: only the stream meter bounds it.
    path = tmp_path / "pax-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        header = tarfile.TarInfo("pax-1.0/@PaxHeader")
        header.type, header.size = tarfile.XHDTYPE, 200 * MiB
        archive.addfile(header, io.BufferedReader(Zeros(header.size)))
    before, start = max_rss_mib(), time.monotonic()
    with open(path, "rb") as file:
        assert ArchiveMetadataReader().read(file, path.name) is None
    assert time.monotonic() - start < 5
    assert max_rss_mib() - before < 100


def test_a_tar_of_many_members_is_read_only_up_to_max_members(tmp_path):
    members = [(f"foo-1.0/f{i}", b"x") for i in range(20_000)] + [("foo-1.0/PKG-INFO", METADATA)]
    data = tar_bytes(members)
    start = time.monotonic()
    assert read(data, "foo-1.0.tar.gz") is None
    assert time.monotonic() - start < 5
    assert read(data, "foo-1.0.tar.gz", ArchiveMetadataReader(max_members=30_000)) == FOO


def test_a_member_larger_than_max_member_size_is_skipped():
    data = tar_bytes([("foo-1.2.3/PKG-INFO", METADATA + b"x" * 2000)])
    assert read(data, "foo-1.2.3.tar.gz", ArchiveMetadataReader(max_member_size=1000)) is None
    assert read(data, "foo-1.2.3.tar.gz", ArchiveMetadataReader(max_member_size=3000)) == FOO
