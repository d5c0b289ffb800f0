"""Naming rules: what is accepted as it is, and what is refused with which reason."""

from __future__ import annotations

import pytest

from domain.errors import InvalidChecksum, InvalidName
from domain.names import (
    content_disposition,
    is_artifact_id,
    normalize_pypi_name,
    validate_checksum,
    validate_filename,
    validate_package_name,
    validate_project_name,
    validate_tag_name,
    validate_version_name,
)

SHA = "a" * 64


@pytest.mark.parametrize(
    "name",
    ["a", "0", "my-project", "my_project", "my.project", "p1", "a" * 64, "1.0-x_y"],
)
def test_valid_project_and_package_names_are_kept(name):
    assert validate_project_name(name) == name
    assert validate_package_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        ("a" * 65, "longer than 64 characters"),
        ("MyProject", "contains the character 'M'"),
        ("my project", "contains the character ' '"),
        ("../etc", "contains the character '/'"),
        ("a/b", "contains the character '/'"),
        ("a\\b", "contains the character '\\\\'"),
        ("a\nb", "contains the character '\\n'"),
        ("a\x00b", "contains the character '\\x00'"),
        ("<script>", "contains the character '<'"),
        ("café", "contains the character 'é'"),
        ("-leading", "must start with a letter or a digit"),
        (".hidden", "must start with a letter or a digit"),
        ("_private", "must start with a letter or a digit"),
    ],
)
def test_invalid_project_and_package_names_say_why(name, reason):
    for validate in (validate_project_name, validate_package_name):
        with pytest.raises(InvalidName, match=None) as error:
            validate(name)
        assert reason in str(error.value)


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Django", "django"),
        ("Foo_Bar", "foo-bar"),
        ("oslo.concurrency", "oslo-concurrency"),
        ("a--b__c..d", "a-b-c-d"),
        ("helm-test-package", "helm-test-package"),
        ("X", "x"),
    ],
)
def test_pypi_package_names_are_stored_pep503_normalized(name, stored):
    assert validate_package_name(name, pypi=True) == stored
    assert normalize_pypi_name(name) == stored


@pytest.mark.parametrize(
    "name", ["", "-foo", "foo-", "foo_", ".foo", "foo bar", "foo/bar", "café", "a" * 65]
)
def test_invalid_pypi_package_names_are_refused(name):
    with pytest.raises(InvalidName):
        validate_package_name(name, pypi=True)


@pytest.mark.parametrize(
    "name",
    ["latest", "v1.0.0", "1.0.0-beta.1+build.5", "1!2.0", "Stable_2", "a" * 128, "x", "tag"],
)
def test_valid_tag_and_version_names_are_kept(name):
    assert validate_tag_name(name) == name
    assert validate_version_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        ("a" * 129, "longer than 128 characters"),
        ("tag:latest", "must not start with 'tag:'"),
        ("version:1.0", "must not start with 'version:'"),
        ("artifact:" + SHA, "must not start with 'artifact:'"),
        ("TAG:latest", "must not start with 'tag:'"),
        ("a:b", "contains the character ':'"),
        ("1.0 beta", "contains the character ' '"),
        ("1.0~rc1", "contains the character '~'"),
        ("../x", "contains the character '/'"),
        ("x\r\nSet-Cookie: a", "contains the character '\\r'"),
        ("-rc", "must start with a letter or a digit"),
        ("+build", "must start with a letter or a digit"),
        (".1", "must start with a letter or a digit"),
    ],
)
def test_invalid_tag_and_version_names_say_why(name, reason):
    for validate in (validate_tag_name, validate_version_name):
        with pytest.raises(InvalidName) as error:
            validate(name)
        assert reason in str(error.value)


@pytest.mark.parametrize(
    "name",
    [
        "file.bin",
        "My File (1).tar.gz",
        "résumé.pdf",
        "数据.zip",
        "emoji-🍎.txt",
        ".hidden",
        "...",
        "a" * 255,
        "é" * 127,
        "<script>.html",
    ],
)
def test_filenames_are_kept_as_sent(name):
    assert validate_filename(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        (".", "is not a file name"),
        ("..", "is not a file name"),
        ("../etc/passwd", "must not contain '/'"),
        ("dir/file", "must not contain '/'"),
        ("C:\\evil.exe", "must not contain '/' or '\\'"),
        ("a\x00b", "control character '\\x00'"),
        ("a\nb", "control character '\\n'"),
        ("a\r\nContent-Type: x", "control character '\\r'"),
        ("tab\there", "control character '\\t'"),
        ("del\x7f", "control character '\\x7f'"),
        ("c1\x85", "control character '\\x85'"),
        ("line\u2028sep", "control character '\\u2028'"),
        ("lone\ud800", "control character '\\ud800'"),
        ("a" * 256, "longer than 255 bytes"),
        ("é" * 128, "longer than 255 bytes"),
        ("invoice\u202egnp.exe", "bidirectional control character U+202E"),
        ("a\u202ab", "bidirectional control character U+202A"),
        ("a\u202bb", "bidirectional control character U+202B"),
        ("a\u202cb", "bidirectional control character U+202C"),
        ("a\u202db", "bidirectional control character U+202D"),
        ("a\u2066b", "bidirectional control character U+2066"),
        ("a\u2067b", "bidirectional control character U+2067"),
        ("a\u2068b", "bidirectional control character U+2068"),
        ("a\u2069b", "bidirectional control character U+2069"),
        ("a\u200eb", "bidirectional control character U+200E"),
        ("a\u200fb", "bidirectional control character U+200F"),
        ("a\u061cb", "bidirectional control character U+061C"),
    ],
)
def test_unsafe_filenames_are_refused_with_the_reason(name, reason):
    with pytest.raises(InvalidName) as error:
        validate_filename(name)
    assert reason in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SHA, True),
        ("0123456789abcdef" * 4, True),
        ("A" * 64, False),
        ("a" * 63, False),
        ("a" * 65, False),
        ("g" * 64, False),
        ("", False),
        (SHA + "\n", False),
        ("artifact:" + SHA, False),
    ],
)
def test_artifact_ids_are_64_lowercase_hex(value, expected):
    assert is_artifact_id(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(SHA, SHA), ("AB" * 32, "ab" * 32), (f" {SHA} ", SHA)],
)
def test_checksums_are_returned_lowercase(value, expected):
    assert validate_checksum(value) == expected


@pytest.mark.parametrize("value", ["", "abc", "a" * 63, "a" * 65, "z" * 64, "sha256:" + SHA])
def test_malformed_checksums_are_refused(value):
    with pytest.raises(InvalidChecksum, match="X-Checksum-SHA256 must be 64 hexadecimal"):
        validate_checksum(value)


def test_long_names_are_shortened_in_messages():
    with pytest.raises(InvalidName) as error:
        validate_project_name("x" * 10_000)
    assert len(str(error.value)) < 200


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("plain.bin", 'attachment; filename="plain.bin"'),
        (
            'say "hi".txt',
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
        (
            "文件名.txt",
            "attachment; filename=\"___.txt\"; filename*=UTF-8''%E6%96%87%E4%BB%B6%E5%90%8D.txt",
        ),
        ("back\\slash", "attachment; filename=\"back_slash\"; filename*=UTF-8''back%5Cslash"),
        (  # stored before bidi controls were refused: served, never reordered
            "invoice\u202egnp.exe",
            'attachment; filename="invoicegnp.exe"',
        ),
        (
            "\u2067数据\u2069.zip",
            "attachment; filename=\"__.zip\"; filename*=UTF-8''%E6%95%B0%E6%8D%AE.zip",
        ),
    ],
)
def test_content_disposition_is_safe_and_keeps_the_exact_name(filename, expected):
    assert content_disposition(filename) == expected
