"""Reference resolution, with dicts standing in for the package's tags, versions, artifacts."""

from __future__ import annotations

import pytest

from domain.errors import NotFound
from domain.references import Reference, parse_reference, resolve_reference

A = "a" * 64
B = "b" * 64
C = "c" * 64
D = "d" * 64
HEXTAG = "e" * 64

TAGS = {"latest": A, "shared": A, HEXTAG: B}
VERSIONS = {"1.0.0": B, "shared": B}
HELD = {A, B, C}


class Callbacks:
    """The three lookups over the dicts above, remembering what they were asked."""

    def __init__(self):
        self.asked: list[str] = []

    def find_tag(self, name):
        self.asked.append(name)
        return TAGS.get(name)

    def find_version(self, name):
        self.asked.append(name)
        return VERSIONS.get(name)

    def holds_artifact(self, artifact_id):
        self.asked.append(artifact_id)
        return artifact_id in HELD


def resolve(ref, callbacks=None):
    callbacks = callbacks or Callbacks()
    return resolve_reference(
        ref,
        find_tag=callbacks.find_tag,
        find_version=callbacks.find_version,
        holds_artifact=callbacks.holds_artifact,
    )


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("tag:latest", Reference("tag", "latest")),
        ("version:1.0.0", Reference("version", "1.0.0")),
        (f"artifact:{A}", Reference("artifact", A)),
        ("latest", Reference("any", "latest")),
        ("tag:", Reference("tag", "")),
        ("tag:version:1", Reference("tag", "version:1")),
        ("Tag:x", Reference("any", "Tag:x")),
        ("", Reference("any", "")),
    ],
)
def test_parse_reference(ref, expected):
    assert parse_reference(ref) == expected


@pytest.mark.parametrize(
    ("ref", "artifact_id", "matched"),
    [
        ("tag:latest", A, Reference("tag", "latest")),
        ("version:1.0.0", B, Reference("version", "1.0.0")),
        (f"artifact:{C}", C, Reference("artifact", C)),
        (f"artifact:{C.upper()}", C, Reference("artifact", C.upper())),
        # a tag and a version may share a name: the prefix decides
        ("tag:shared", A, Reference("tag", "shared")),
        ("version:shared", B, Reference("version", "shared")),
        # bare: tag, then version, then artifact id
        ("shared", A, Reference("tag", "shared")),
        ("latest", A, Reference("tag", "latest")),
        ("1.0.0", B, Reference("version", "1.0.0")),
        (C, C, Reference("artifact", C)),
        (HEXTAG, B, Reference("tag", HEXTAG)),
    ],
)
def test_resolve_reference(ref, artifact_id, matched):
    assert resolve(ref) == (artifact_id, matched)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("tag:1.0.0", "No tag named '1.0.0' in this package."),
        ("version:latest", "No version 'latest' in this package."),
        (f"artifact:{D}", f"No artifact '{D}' in this package."),
        ("artifact:xyz", "No artifact 'xyz' in this package: an artifact id is 64 hex"),
        ("artifact:", "No artifact '' in this package: an artifact id is 64 hex"),
        ("nothing", "No tag, version or artifact named 'nothing' in this package."),
        (D, f"No tag, version or artifact named '{D}' in this package."),
        ("tag:", "No tag named '' in this package."),
        ("", "No tag, version or artifact named '' in this package."),
    ],
)
def test_unresolvable_references_are_not_found_with_a_sentence(ref, message):
    with pytest.raises(NotFound) as error:
        resolve(ref)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "ref",
    [
        "artifact:xyz",
        "artifact:" + "g" * 64,
        "artifact:" + "a" * 63,
        "artifact:../../etc/passwd",
        "tag:../x",
        "version:1.0\r\nX: y",
        "tag:" + "a" * 129,
    ],
)
def test_junk_never_reaches_the_callbacks(ref):
    callbacks = Callbacks()
    with pytest.raises(NotFound):
        resolve(ref, callbacks)
    assert callbacks.asked == []


def test_a_bare_reference_tries_each_kind_in_order():
    callbacks = Callbacks()
    with pytest.raises(NotFound):
        resolve(D, callbacks)
    assert callbacks.asked == [D, D, D]


def test_an_artifact_the_package_does_not_hold_is_not_found():
    # D may exist elsewhere: a hash must not reveal content of another package.
    with pytest.raises(NotFound):
        resolve(f"artifact:{D}")
