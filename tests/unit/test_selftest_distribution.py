"""The selftest's distribution: deterministic (a second ``helm test`` re-uploads the same
bytes), valid (RECORD hashes, metadata, names), and parsed by the server's own reader."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from adapters.package_metadata import ArchiveMetadataReader
from entrypoints.selftest.distribution import build


def test_the_same_name_and_version_give_the_same_bytes():
    first, second = build("helm-test-package", "1.0.0"), build("helm-test-package", "1.0.0")
    assert first.sdist.content == second.sdist.content
    assert first.wheel.content == second.wheel.content
    assert build("helm-test-package", "1.0.1").wheel.sha256 != first.wheel.sha256


def test_filenames_are_pep_625_and_427_names_of_the_release():
    dist = build("Helm.Test_Package", "1.0")
    assert dist.sdist.filename == "helm_test_package-1.0.tar.gz"
    assert dist.wheel.filename == "helm_test_package-1.0-py3-none-any.whl"
    assert parse_sdist_filename(dist.sdist.filename)[0] == "helm-test-package"
    assert str(parse_wheel_filename(dist.wheel.filename)[1]) == "1.0"


def test_the_wheel_record_lists_every_file_with_its_hash_and_size():
    dist = build("helm-test-package", "2.0.0")
    archive = zipfile.ZipFile(io.BytesIO(dist.wheel.content))
    record = archive.read("helm_test_package-2.0.0.dist-info/RECORD").decode().splitlines()
    rows = dict((row.split(",", 1)[0], row.split(",", 1)[1]) for row in record)
    assert set(rows) == set(archive.namelist())
    for member, hashed in rows.items():
        if member.endswith("RECORD"):
            assert hashed == ","
            continue
        data = archive.read(member)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert hashed == f"sha256={digest},{len(data)}"
    module = archive.read("helm_test_package/__init__.py").decode()
    assert '__version__ = "2.0.0"' in module


def test_the_sdist_has_pkg_info_pyproject_and_the_module_under_one_root():
    dist = build("helm-test-package", "1.0.0")
    with tarfile.open(fileobj=io.BytesIO(dist.sdist.content)) as archive:
        names = archive.getnames()
        pkg_info = archive.extractfile("helm_test_package-1.0.0/PKG-INFO").read().decode()
    assert all(name.startswith("helm_test_package-1.0.0") for name in names)
    assert "helm_test_package-1.0.0/pyproject.toml" in names
    assert "helm_test_package-1.0.0/helm_test_package/__init__.py" in names
    assert "Name: helm-test-package\nVersion: 1.0.0\n" in pkg_info


def test_the_servers_metadata_reader_reads_name_and_version_from_both_files():
    dist = build("helm-test-package", "1.0.1")
    for file in dist.files:
        found = ArchiveMetadataReader().read(io.BytesIO(file.content), file.filename)
        assert found is not None, file.filename
        assert (found.name, found.version) == ("helm-test-package", "1.0.1")
