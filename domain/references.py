"""Reference resolution for ``/+/{ref}`` (SPEC §1 Reference resolution).

``tag:NAME`` looks at tags only, ``version:V`` at versions only, ``artifact:SHA256`` at
the artifacts the package holds; a bare ``NAME`` tries tag, then version, then artifact
id. A tag and a version may share a name and point at different content: the prefixes
are how a client says which one it means.

The lookups are callbacks so that this stays pure and testable with dicts. A value that
cannot be a name (``tag:../x``, ``artifact:xyz``) is answered ``NotFound`` without calling
them: nothing of that name can exist, and junk never reaches a repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from domain.errors import InvalidName, NotFound
from domain.names import is_artifact_id, validate_tag_name, validate_version_name

ReferenceKind = Literal["tag", "version", "artifact", "any"]
_PREFIXES: tuple[tuple[str, ReferenceKind], ...] = (
    ("tag:", "tag"),
    ("version:", "version"),
    ("artifact:", "artifact"),
)


@dataclass(frozen=True)
class Reference:
    """What a client asked for: a kind (``any`` for a bare name) and the name itself."""

    kind: ReferenceKind
    value: str


def parse_reference(ref: str) -> Reference:
    """Split the prefix off a reference; a reference without one is of kind ``any``."""
    for prefix, kind in _PREFIXES:
        if ref.startswith(prefix):
            return Reference(kind, ref[len(prefix) :])
    return Reference("any", ref)


def resolve_reference(
    ref: str,
    *,
    find_tag: Callable[[str], str | None],
    find_version: Callable[[str], str | None],
    holds_artifact: Callable[[str], bool],
) -> tuple[str, Reference]:
    """The artifact id ``ref`` points at, and the reference that matched.

    The returned reference names what actually matched (kind ``tag``, ``version`` or
    ``artifact``, never ``any``), so a caller can tell a bare ``1.0`` resolved as a tag
    from one resolved as a version. Raises ``NotFound`` with a sentence naming what was
    looked for.
    """
    reference = parse_reference(ref)
    lookups: dict[ReferenceKind, Callable[[str], str | None]] = {
        "tag": lambda value: _by_name(value, validate_tag_name, find_tag),
        "version": lambda value: _by_name(value, validate_version_name, find_version),
        "artifact": lambda value: _by_artifact_id(value, holds_artifact),
    }
    kinds: list[ReferenceKind] = list(lookups) if reference.kind == "any" else [reference.kind]
    for kind in kinds:
        artifact_id = lookups[kind](reference.value)
        if artifact_id is not None:
            return artifact_id, Reference(kind, reference.value)
    raise NotFound(_not_found_message(reference))


def _by_name(
    value: str, validate: Callable[[str], str], find: Callable[[str], str | None]
) -> str | None:
    try:
        validate(value)
    except InvalidName:
        return None
    return find(value)


def _by_artifact_id(value: str, holds_artifact: Callable[[str], bool]) -> str | None:
    # Artifact ids are lowercase; an uppercase spelling of the same digest is accepted.
    artifact_id = value.lower()
    if is_artifact_id(artifact_id) and holds_artifact(artifact_id):
        return artifact_id
    return None


def _not_found_message(reference: Reference) -> str:
    value = reference.value
    shown = repr(value if len(value) <= 80 else value[:80] + "...")
    if reference.kind == "tag":
        return f"No tag named {shown} in this package."
    if reference.kind == "version":
        return f"No version {shown} in this package."
    if reference.kind == "artifact":
        if not is_artifact_id(value.lower()):
            return f"No artifact {shown} in this package: an artifact id is 64 hex characters."
        return f"No artifact {shown} in this package."
    return f"No tag, version or artifact named {shown} in this package."
