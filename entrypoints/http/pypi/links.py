"""Where an index page sends clients for a file: a URL relative to the project page, so
the same page works at ``/simple/x/``, ``/pypi/<project>/simple/x/`` and behind a proxy
that mounts Orchard under a prefix."""

from __future__ import annotations

from urllib.parse import quote

from domain.services.pypi.index import IndexFile


def file_url(file: IndexFile) -> str:
    return f"../../files/{file.sha256}/{quote(file.filename, safe='')}"
