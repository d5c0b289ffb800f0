"""The multipart parse loop, over werkzeug's sans-IO decoder, with the text fields parsed
so far visible when a file part starts.

twine and uv send ``sha256_digest`` as a field before the ``content`` part; knowing it
when the file starts lets the blob store write straight to the final key
(``adapters/s3_direct.py``). werkzeug's ``MultiPartParser.parse`` keeps its fields in a
local list until the end, so the loop is ours; the decoding, the limits on parts and on
each field's size, and ``FileStorage`` stay werkzeug's.
"""

from __future__ import annotations

from typing import IO, Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData


class FieldsFirstParser(MultiPartParser):
    """``MultiPartParser`` whose ``fields`` (name, value) grow as the body is parsed."""

    fields: list[tuple[str, str]]

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        decoder = MultipartDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        self.fields, files = [], []
        part: Field | File | None = None
        text: list[bytes] = []
        container: Any = None
        while True:
            data = stream.read(self.buffer_size)
            decoder.receive_data(data or None)  # None: the body ended
            event = decoder.next_event()
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, Field):
                    part, text = event, []
                elif isinstance(event, File):
                    part, container = event, self.start_file_streaming(event, content_length)
                elif isinstance(event, Data) and isinstance(part, Field):
                    text.append(event.data)
                    if self._too_large(text):
                        raise RequestEntityTooLarge()
                    if not event.more_data:
                        charset = self.get_part_charset(part.headers)
                        self.fields.append((part.name, b"".join(text).decode(charset, "replace")))
                elif isinstance(event, Data) and isinstance(part, File):
                    container.write(event.data)
                    if not event.more_data:
                        container.seek(0)
                        headers = part.headers
                        storage = FileStorage(container, part.filename, part.name, headers=headers)
                        files.append((part.name, storage))
                event = decoder.next_event()
            if not data:
                return self.cls(self.fields), self.cls(files)

    def _too_large(self, text: list[bytes]) -> bool:
        limit = self.max_form_memory_size
        return limit is not None and sum(map(len, text)) > limit

    def field(self, name: str) -> str | None:
        """The last value of a field parsed so far."""
        found = [value for key, value in self.fields if key == name]
        return found[-1] if found else None
