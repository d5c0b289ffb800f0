"""``FieldsFirstParser`` parses as werkzeug's ``MultiPartParser`` does, and shows the
fields parsed so far when a file part starts (PyPI's ``sha256_digest`` before ``content``)."""

from __future__ import annotations

import io
import os

import pytest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser

from entrypoints.http.multipart import FieldsFirstParser

BOUNDARY = b"b0undary"


def body(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += b"--" + BOUNDARY + f"\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n"


PARTS = [
    ("name", None, b"demo"),
    ("sha256_digest", None, b"ab" * 32),
    ("content", "demo-1.0.tar.gz", os.urandom(300_000)),
    ("comment", None, "caf\u00e9".encode()),
    ("content", "second.bin", b""),
]


@pytest.mark.parametrize("buffer_size", [7, 1024, 1024 * 1024])
def test_it_parses_what_werkzeug_parses(buffer_size):
    raw = body(*PARTS)
    ours = FieldsFirstParser(buffer_size=buffer_size).parse(io.BytesIO(raw), BOUNDARY, len(raw))
    theirs = MultiPartParser(buffer_size=buffer_size).parse(io.BytesIO(raw), BOUNDARY, len(raw))
    assert list(ours[0].items(multi=True)) == list(theirs[0].items(multi=True))
    ours_files = [(k, f.filename, f.read()) for k, f in ours[1].items(multi=True)]
    theirs_files = [(k, f.filename, f.read()) for k, f in theirs[1].items(multi=True)]
    assert ours_files == theirs_files


def test_the_fields_before_a_file_are_known_when_it_starts():
    seen = []

    def factory(**_kwargs):
        seen.append(parser.field("sha256_digest"))
        return io.BytesIO()

    parser = FieldsFirstParser(stream_factory=factory, buffer_size=64)
    raw = body(*PARTS)
    parser.parse(io.BytesIO(raw), BOUNDARY, len(raw))
    assert seen == ["ab" * 32, "ab" * 32]


def test_a_field_over_the_memory_limit_is_refused():
    raw = body(("big", None, b"x" * 5000))
    parser = FieldsFirstParser(max_form_memory_size=1000, buffer_size=256)
    with pytest.raises(RequestEntityTooLarge):
        parser.parse(io.BytesIO(raw), BOUNDARY, len(raw))
