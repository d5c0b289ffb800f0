"""Version detection: explicit > package metadata > filename, tested with bare arguments."""

from __future__ import annotations

import pytest

from domain.errors import InvalidName
from domain.model import VersionSource
from domain.versioning import detect_version, version_from_filename


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        # the SPEC's examples
        ("name-1.2.3.tar.gz", "1.2.3"),
        ("package-2.0.0.zip", "2.0.0"),
        ("name-1.0.0-py3-none-any.whl", "1.0.0"),
        ("name_v1.2.jar", "1.2"),
        ("plain-file.bin", None),
        ("app.tar.gz", None),
        # wheels go through packaging: normalized PEP 440
        ("Foo_Bar-2.0rc1-cp312-cp312-manylinux_2_17_x86_64.whl", "2.0rc1"),
        ("foo-1.0-1-py3-none-any.whl", "1.0"),
        ("foo-1.0.0.post1-py2.py3-none-any.whl", "1.0.0.post1"),
        # archives of every kind
        ("app-1.0.0-beta.1.tgz", "1.0.0-beta.1"),
        ("tool-2.1.0rc1.tar.bz2", "2.1.0rc1"),
        ("tool-3.4.5.tar.xz", "3.4.5"),
        ("tool-3.4.5.tar", "3.4.5"),
        ("tool-3.4.5.7z", "3.4.5"),
        ("APP-1.0.TAR.GZ", "1.0"),
        ("lib-1.0.0-SNAPSHOT.jar", "1.0.0-SNAPSHOT"),
        ("spring-core-5.3.20.RELEASE.jar", "5.3.20.RELEASE"),
        ("log4j-core-2.17.1.jar", "2.17.1"),
        ("app-v2.0.1-arm64.dmg", "2.0.1"),
        ("thing-1.0+build.5.bin", "1.0+build.5"),
        ("foo-1.0.0.dev0.tar.gz", "1.0.0.dev0"),
        ("foo-1.0RC1.tar.gz", "1.0RC1"),
        ("release-2024.05.01.zip", "2024.05.01"),
        ("name-1.2.3", "1.2.3"),
        # platform qualifiers after the version are not the version
        ("app-1.2.3-linux-x86_64.tar.gz", "1.2.3"),
        ("app-2.1.0-cuda-11.8.tar.gz", "2.1.0"),
        ("bash-5.1.8-6.el9.x86_64.rpm", "5.1.8"),
        ("python3-foo-1.2.zip", "1.2"),
        # Debian: name_version_arch.deb
        ("name_1.2.3_amd64.deb", "1.2.3"),
        ("libfoo_1.2.3-1ubuntu1_arm64.deb", "1.2.3-1ubuntu1"),
        # sdist parsing is the fallback for single numbers and epochs
        ("tool-5.tar.gz", "5"),
        ("pkg-1!2.0.tar.gz", "1!2.0"),
        # no version at all
        ("file.bin", None),
        ("README", None),
        ("my-app-2-linux-x86_64.tar.gz", None),
        ("app-5.bin", None),
        ("x86_64.tar.gz", None),
        ("python3.11-tool.zip", None),
        ("", None),
        (".tar.gz", None),
        ("name_1.0~rc1-1_amd64.deb", None),
    ],
)
def test_version_from_filename(filename, version):
    assert version_from_filename(filename) == version


@pytest.mark.parametrize(
    ("explicit", "metadata", "filename", "expected"),
    [
        ("3.0", "2.0", "app-1.0.tar.gz", ("3.0", VersionSource.EXPLICIT)),
        (" 3.0 ", None, "app.tar.gz", ("3.0", VersionSource.EXPLICIT)),
        (None, "2.0", "app-1.0.tar.gz", ("2.0", VersionSource.METADATA)),
        ("", "2.0", "app-1.0.tar.gz", ("2.0", VersionSource.METADATA)),
        ("   ", "2.0", "app-1.0.tar.gz", ("2.0", VersionSource.METADATA)),
        (None, None, "app-1.0.tar.gz", ("1.0", VersionSource.FILENAME)),
        (None, "", "app-1.0.tar.gz", ("1.0", VersionSource.FILENAME)),
        (None, "1.0.0~x y", "app-1.0.tar.gz", ("1.0", VersionSource.FILENAME)),
        (None, None, "app.tar.gz", (None, None)),
        ("", "  ", "README", (None, None)),
    ],
)
def test_detect_version_priority(explicit, metadata, filename, expected):
    assert detect_version(explicit, metadata, filename) == expected


@pytest.mark.parametrize("explicit", ["tag:1.0", "1.0 beta", "../1.0", "-1"])
def test_an_invalid_explicit_version_is_refused(explicit):
    with pytest.raises(InvalidName):
        detect_version(explicit, "2.0", "app-1.0.tar.gz")
