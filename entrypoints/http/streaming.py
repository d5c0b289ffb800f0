"""Uploads stream from the socket into the blob store, hashed on the way, in one pass.

werkzeug's multipart parser writes each file part to whatever ``_get_file_stream``
returns; ``OrchardRequest`` returns a ``BlobSink`` over a ``BlobWriter``, so the bytes go
straight into the store's temporary object with every digest computed as they pass.
Nothing is spooled to a second temporary file and no file is held in memory. Sinks the
view never claims (a failed parse, an extra part, an error) are aborted at teardown.
"""

from __future__ import annotations

import functools
import io
import re
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, Request, g, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from domain.errors import IncompleteContent
from domain.ports import BlobWriter, StagedBlob
from entrypoints.http.context import services
from entrypoints.http.multipart import FieldsFirstParser

PARSE_BUFFER = 1024 * 1024  # werkzeug's default is 64 KiB; larger chunks cost less per byte
# Below this a chunk is stored inline: a thread hand-off (~20 us) would cost more than the
# overlap saves (a 4 KiB upload is one small chunk).
PIPELINE_THRESHOLD = 64 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


@functools.cache
def _sink_pool() -> ThreadPoolExecutor:
    """Threads that hash and write chunks for the sinks; made on first use, per worker."""
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="orchard-sink")


class BlobSink(io.RawIOBase):
    """The file object werkzeug writes a file part into.

    Large chunks are hashed and written by a helper thread while the request thread reads
    and parses the next one (hashlib and file writes release the GIL), so receiving and
    storing overlap instead of taking turns; at most one chunk is in flight. An error
    from the store (too large, disk full) surfaces at the next write or at finish.
    """

    def __init__(self, writer: BlobWriter) -> None:
        super().__init__()
        self._writer = writer
        self._pending: Future[int] | None = None
        self.staged: StagedBlob | None = None
        self.received = 0  # bytes of file content written so far

    def writable(self) -> bool:
        return True

    # ignore: RawIOBase.write takes any buffer; werkzeug's parser only hands it bytes.
    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._wait()
        self.received += len(data)
        if len(data) < PIPELINE_THRESHOLD:
            return self._writer.write(data)
        # Only immutable bytes may cross threads: a caller may reuse its buffer.
        chunk = data if isinstance(data, bytes) else bytes(data)
        try:
            self._pending = _sink_pool().submit(self._writer.write, chunk)
        except RuntimeError:
            # A draining worker's process is exiting and its pool takes no new work:
            # the in-flight upload still finishes, inline.
            return self._writer.write(chunk)
        return len(chunk)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def seek(self, offset: int, whence: int = 0) -> int:
        # werkzeug rewinds the container when the part ends: that is where we finish.
        self._finish()
        return 0

    def _finish(self) -> StagedBlob:
        if self.staged is None:
            self._wait()
            self.staged = self._writer.finish()
        return self.staged

    def claim(self) -> StagedBlob:
        """Hand the staged blob to the caller, who now owns promote/discard."""
        staged = self._finish()
        g.orchard_sinks.remove(self)
        return staged

    def abort(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            wait([pending])  # its error, if any, is moot: everything is dropped
        self._writer.abort()


def claim_staged(file: FileStorage) -> StagedBlob:
    """The staged blob behind an uploaded file part, now the caller's to promote or discard.

    Every file part of an ``OrchardRequest`` streams into a ``BlobSink``
    (``_get_file_stream``); anything else is a wiring mistake, not a client's.
    """
    if not isinstance(file.stream, BlobSink):
        raise TypeError("The file part was not streamed into the blob store.")
    return file.stream.claim()


def declare_sha256(value: str | None = None, *, field: str | None = None) -> None:
    """The SHA-256 the client declared before its bytes: a header's ``value``, or the
    form ``field`` that precedes the file part (PyPI's ``sha256_digest``). The store may
    then write the file straight to its final key; the caller must still verify the
    digest (the use cases do), since a wrong one only makes the store keep nothing."""
    g.orchard_declared_sha256 = _digest(value)
    g.orchard_declared_field = field


def _declared_sha256() -> str | None:
    if g.get("orchard_declared_sha256"):
        return g.orchard_declared_sha256
    parser, field = g.get("orchard_form_parser"), g.get("orchard_declared_field")
    return _digest(parser.field(field)) if parser is not None and field else None


def _digest(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if _HEX64.fullmatch(value) else None


class _FormDataParser(FormDataParser):
    def _parse_multipart(self, stream, mimetype, content_length, options):
        # buffer_size must go to the constructor: MultiPartParser.__init__ sets it on the
        # instance, so a class attribute is silently ignored (it was, until measured).
        parser = g.orchard_form_parser = FieldsFirstParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=PARSE_BUFFER,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        budget = FieldBudget(stream, services().settings.max_body_size)
        form, files = parser.parse(budget, boundary, content_length)
        return stream, form, files


class FieldBudget:
    """The multipart stream, refused (413) once what is not file content passes a budget.

    werkzeug bounds each text field (``max_form_memory_size``) and the number of parts,
    but not their sum: 100 parts of 16 MiB each would all be held in memory. Here the
    fields, their headers and the framing together may use ``budget`` bytes (plus one read
    of the parser's buffer); file parts stream into the blob store and do not count.
    """

    def __init__(self, stream, budget: int) -> None:
        self._stream = stream
        self._budget = budget
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        file_bytes = sum(sink.received for sink in g.get("orchard_sinks", ()))
        if self._read - file_bytes > self._budget:
            raise RequestEntityTooLarge()
        data = self._stream.read(size)
        self._read += len(data)
        return data


class OrchardRequest(Request):
    form_data_parser_class = _FormDataParser
    # werkzeug applies this to its parse buffer too (leftover + one read), so it must stay
    # well above PARSE_BUFFER; it also bounds non-file fields (a PyPI long description).
    max_form_memory_size = 16 * PARSE_BUFFER
    max_form_parts = 100

    def __init__(self, environ: dict, *args, **kwargs) -> None:
        if "orchard.input" not in environ and "wsgi.input" in environ:
            environ["orchard.input"] = environ["wsgi.input"] = CountingInput(environ["wsgi.input"])
        super().__init__(environ, *args, **kwargs)

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        svc = services()
        writer = svc.blobs.writer(max_size=svc.settings.max_upload_size, sha256=_declared_sha256())
        sink = BlobSink(writer)
        g.setdefault("orchard_sinks", []).append(sink)
        return sink


class CountingInput:
    """``wsgi.input`` with a count of the bytes actually received.

    gunicorn marks its input as terminated and answers a client that closed early with a
    short read, not an error; counting is how a body shorter than its Content-Length is
    told apart from a complete one.
    """

    def __init__(self, stream) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size) if size is not None and size >= 0 else self._stream.read()
        self.count += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self.count += len(data)
        return data

    def __iter__(self):
        return iter(self.readline, b"")


def drain_body() -> None:
    """Read what the multipart parser left (the epilogue), then check that the whole
    announced body arrived: a shorter one is an incomplete message (RFC 9112 §8), and
    must be refused before anything is committed."""
    stream = request.stream
    while stream.read(PARSE_BUFFER):
        pass
    counter = request.environ.get("orchard.input")
    expected = request.content_length
    if isinstance(counter, CountingInput) and expected is not None and counter.count < expected:
        raise IncompleteContent(
            f"The request body ended after {counter.count} of its announced {expected} "
            "bytes; nothing was stored."
        )


def install(app: Flask) -> None:
    app.request_class = OrchardRequest

    @app.teardown_request
    def _abort_unclaimed(_exc: BaseException | None) -> None:
        for sink in g.pop("orchard_sinks", []):
            sink.abort()
