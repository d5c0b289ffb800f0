"""Python distribution filenames and their agreement with the upload form."""

from __future__ import annotations

import pytest

from domain.distributions import (
    DistributionFile,
    check_matches_form,
    parse_distribution_filename,
)
from domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("filename", "name", "version", "packagetype"),
    [
        ("foo-1.0.tar.gz", "foo", "1.0", "sdist"),
        ("foo-1.0.zip", "foo", "1.0", "sdist"),
        ("Foo_Bar-1.0.0.tar.gz", "foo-bar", "1.0.0", "sdist"),
        ("foo.bar-2.0RC1.tar.gz", "foo-bar", "2.0rc1", "sdist"),
        ("helm-test-package-1.0.0.tar.gz", "helm-test-package", "1.0.0", "sdist"),
        ("foo-1!2.0.post1.tar.gz", "foo", "1!2.0.post1", "sdist"),
        ("foo-1.0-py3-none-any.whl", "foo", "1.0", "bdist_wheel"),
        ("foo_bar-1.0.0-py3-none-any.whl", "foo-bar", "1.0.0", "bdist_wheel"),
        ("foo-1.0-1-py3-none-any.whl", "foo", "1.0", "bdist_wheel"),
        (
            "numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "numpy",
            "2.0.0",
            "bdist_wheel",
        ),
        ("foo-1.0+local.1-py3-none-any.whl", "foo", "1.0+local.1", "bdist_wheel"),
    ],
)
def test_parse_distribution_filename(filename, name, version, packagetype):
    assert parse_distribution_filename(filename) == DistributionFile(name, version, packagetype)
    assert parse_distribution_filename(filename).filename == filename


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("x.exe", "a wheel ends in '.whl'"),
        ("foo-1.0.tgz", "a wheel ends in '.whl'"),
        ("foo-1.0.tar.bz2", "a wheel ends in '.whl'"),
        ("foo-1.0.TAR.GZ", "a wheel ends in '.whl'"),
        ("foo.tar.gz", "Invalid sdist filename"),
        ("foo-bar.tar.gz", "invalid version"),
        ("-1.0.tar.gz", "empty project name"),
        ("foo_-1.0.tar.gz", "not a valid Python project name"),
        ("../foo-1.0.tar.gz", "not a valid Python project name"),
        ("foo bar-1.0.zip", "not a valid Python project name"),
        ("foo-1.0.whl", "wrong number of parts"),
        ("foo-x-py3-none-any.whl", "invalid version"),
        ("fo o-1.0-py3-none-any.whl", "Invalid project name"),
        ("", "a wheel ends in '.whl'"),
    ],
)
def test_invalid_distribution_filenames_say_why(filename, reason):
    with pytest.raises(InvalidInput) as error:
        parse_distribution_filename(filename)
    assert str(error.value).startswith(f"Invalid distribution filename {filename!r}: ")
    assert reason in str(error.value)


@pytest.mark.parametrize(
    ("filename", "form_name", "form_version"),
    [
        ("foo-1.0.tar.gz", "foo", "1.0"),
        ("foo-1.0.tar.gz", "FOO", "1.0.0"),
        ("Foo_Bar-1.0.tar.gz", "foo.bar", "1.0"),
        ("foo_bar-2.0rc1-py3-none-any.whl", "Foo-Bar", "2.0.0-rc.1"),
        ("foo-1.0.post1.zip", "foo", "1.0-1"),
    ],
)
def test_a_form_that_agrees_after_normalization_matches(filename, form_name, form_version):
    check_matches_form(parse_distribution_filename(filename), form_name, form_version)


@pytest.mark.parametrize(
    ("filename", "form_name", "form_version", "message"),
    [
        (
            "foo-1.0.tar.gz",
            "bar",
            "1.0",
            "The filename 'foo-1.0.tar.gz' does not match the name 'bar'",
        ),
        (
            "foo-1.0.tar.gz",
            "foo",
            "1.1",
            "The filename 'foo-1.0.tar.gz' does not match the version '1.1'",
        ),
        (
            "foo-1.0-py3-none-any.whl",
            "foo",
            "not a version",
            "The version 'not a version' in the upload form is not a valid PEP 440",
        ),
    ],
)
def test_a_form_that_disagrees_is_refused(filename, form_name, form_version, message):
    with pytest.raises(InvalidInput) as error:
        check_matches_form(parse_distribution_filename(filename), form_name, form_version)
    assert str(error.value).startswith(message)


def test_a_distribution_built_by_hand_is_described_without_a_filename():
    with pytest.raises(InvalidInput, match="does not match the name 'bar'"):
        check_matches_form(DistributionFile("foo", "1.0", "sdist"), "bar", "1.0")
