"""Naming rules for projects, packages, tags, versions, filenames and checksums.

Every name a client sends passes through one of these validators before it reaches
storage, a blob key, an HTTP header or an HTML page, so these rules are what keeps path
traversal, header injection and markup out (SPEC §1 Names, §5 Safe names). Each
validator returns the name to store, or raises ``InvalidName`` with a sentence saying
what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from packaging.utils import InvalidName as InvalidPythonName
from packaging.utils import canonicalize_name

from domain.errors import BlobNotFound, InvalidChecksum, InvalidName

MAX_NAME_LENGTH = 64
MAX_REF_NAME_LENGTH = 128
MAX_FILENAME_BYTES = 255
REFERENCE_PREFIXES = ("tag:", "version:", "artifact:")

_NAME_CHARS = "a-z 0-9 . _ -"
_NAME_ALLOWED = re.compile(r"[a-z0-9._-]")
_REF_CHARS = "A-Z a-z 0-9 . _ + ! -"
_REF_ALLOWED = re.compile(r"[A-Za-z0-9._+!-]")
_ARTIFACT_ID = re.compile(r"[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# Cc: C0/C1 controls, DEL (CR, LF, NUL...); Zl/Zp: Unicode line/paragraph separators.
# Cs: lone surrogates, which cannot be encoded and so cannot be stored or sent.
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp", "Cs"}
# Unicode bidirectional controls (embeddings, overrides, isolates, marks): they reorder how
# the characters after them are displayed, so "invoice\u202egnp.exe" shows in a browser's
# download bar as "invoiceexe.png". No honest filename needs one.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _shown(value: str, limit: int = 80) -> str:
    """Quote a client's value for an error message: escaped, and never unboundedly long."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _check_shape(
    what: str, name: str, max_length: int, allowed: re.Pattern[str], chars: str
) -> str:
    """The checks common to every name: length, first character, alphabet."""
    if not name:
        raise InvalidName(f"The {what} must not be empty.")
    if len(name) > max_length:
        raise InvalidName(f"The {what} {_shown(name)} is longer than {max_length} characters.")
    bad = next((char for char in name if not allowed.fullmatch(char)), None)
    if bad is not None:
        raise InvalidName(
            f"The {what} {_shown(name)} contains the character {bad!r}; only {chars} are allowed."
        )
    if not name[0].isascii() or not name[0].isalnum():
        raise InvalidName(f"The {what} {_shown(name)} must start with a letter or a digit.")
    return name


def validate_project_name(name: str) -> str:
    """A project name: 1-64 of ``a-z 0-9 . _ -``, starting with a letter or digit."""
    return _check_shape("project name", name, MAX_NAME_LENGTH, _NAME_ALLOWED, _NAME_CHARS)


def validate_package_name(name: str, *, pypi: bool = False) -> str:
    """A package name; for a ``pypi`` package any PEP 508 name, stored PEP 503-normalized.

    The normalized form is what pip asks for (``/simple/foo-bar/``), so storing it makes
    ``Foo_Bar`` and ``foo.bar`` the same package, as on pypi.org.
    """
    if not pypi:
        return _check_shape("package name", name, MAX_NAME_LENGTH, _NAME_ALLOWED, _NAME_CHARS)
    try:
        normalized = str(canonicalize_name(name, validate=True))
    except InvalidPythonName:
        raise InvalidName(
            f"The package name {_shown(name)} is not a valid Python project name: use "
            "letters, digits, '.', '_' and '-', starting and ending with a letter or digit."
        ) from None
    if len(normalized) > MAX_NAME_LENGTH:
        raise InvalidName(
            f"The package name {_shown(name)} is longer than {MAX_NAME_LENGTH} characters."
        )
    return normalized


def normalize_pypi_name(name: str) -> str:
    """The PEP 503 form of a Python project name (``Foo.Bar_baz`` -> ``foo-bar-baz``)."""
    return str(canonicalize_name(name))


def _reject_prefix(what: str, name: str) -> None:
    # "tag:latest" is a reference to the tag "latest", never a name of its own.
    prefix = next((p for p in REFERENCE_PREFIXES if name.lower().startswith(p)), None)
    if prefix is not None:
        raise InvalidName(
            f"The {what} {_shown(name)} must not start with {prefix!r}: "
            f"'tag:', 'version:' and 'artifact:' are reference prefixes, not part of a name."
        )


def validate_tag_name(name: str) -> str:
    """A tag name: 1-128 of ``A-Z a-z 0-9 . _ + ! -``, starting with a letter or digit."""
    _reject_prefix("tag name", name)
    return _check_shape("tag name", name, MAX_REF_NAME_LENGTH, _REF_ALLOWED, _REF_CHARS)


def validate_version_name(name: str) -> str:
    """A version: the same alphabet as tags, so PEP 440, SemVer and Debian-ish all fit."""
    _reject_prefix("version", name)
    return _check_shape("version", name, MAX_REF_NAME_LENGTH, _REF_ALLOWED, _REF_CHARS)


def validate_filename(name: str) -> str:
    """An original filename, kept as sent (Unicode allowed) but never usable as a path
    or to break a header: no separators, no control characters, at most 255 bytes."""
    if not name:
        raise InvalidName("The filename must not be empty.")
    if name in (".", ".."):
        raise InvalidName(f"The filename {_shown(name)} is not a file name.")
    if "/" in name or "\\" in name:
        raise InvalidName(f"The filename {_shown(name)} must not contain '/' or '\\'.")
    bad = next((c for c in name if unicodedata.category(c) in _FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        raise InvalidName(f"The filename {_shown(name)} contains the control character {bad!r}.")
    bidi = next((c for c in name if c in BIDI_CONTROLS), None)
    if bidi is not None:
        raise InvalidName(
            f"The filename {_shown(name)} contains the bidirectional control character "
            f"U+{ord(bidi):04X}, which makes a name display as something it is not."
        )
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise InvalidName(
            f"The filename {_shown(name)} is longer than {MAX_FILENAME_BYTES} bytes in UTF-8."
        )
    return name


def is_artifact_id(value: object) -> bool:
    """Whether ``value`` has the shape of an artifact id: 64 lowercase hex characters."""
    return isinstance(value, str) and _ARTIFACT_ID.fullmatch(value) is not None


def blob_key(sha256: object) -> str:
    """Where a blob lives in every store, relative to its root: ``ab/cd/<sha256>``.

    Two levels of two hex digits keep a directory (or an S3 listing page) small at any
    size. Anything but an artifact id is ``BlobNotFound``: no caller-supplied string
    becomes a path or an object key, so none can reach outside the store.
    """
    if not isinstance(sha256, str) or not is_artifact_id(sha256):
        raise BlobNotFound("The blob does not exist.")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def blob_of_key(key: str) -> str | None:
    """The artifact id a relative key names when it is laid out as ``blob_key`` lays it
    out, else None (a listing meets temporary and quarantined objects too)."""
    fan_1, _, rest = key.partition("/")
    fan_2, _, sha256 = rest.partition("/")
    if is_artifact_id(sha256) and sha256[:2] == fan_1 and sha256[2:4] == fan_2:
        return sha256
    return None


def validate_checksum(value: str) -> str:
    """A client's ``X-Checksum-SHA256``, lowercased; any hex case is accepted."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value.strip()):
        raise InvalidChecksum("X-Checksum-SHA256 must be 64 hexadecimal characters")
    return value.strip().lower()


def content_disposition(filename: str) -> str:
    """``attachment; filename="..."``, plus RFC 5987 ``filename*=UTF-8''...`` when the
    name is not plain printable ASCII: old clients get a safe fallback, new ones the
    exact name. Quotes, backslashes and control characters never reach the header, and
    bidirectional controls (refused at upload since; a name stored before may hold one)
    are dropped, so no browser shows the name reordered."""
    filename = "".join(c for c in filename if c not in BIDI_CONTROLS)
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
