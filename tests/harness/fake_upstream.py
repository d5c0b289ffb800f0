"""A fake upstream index: a small real HTTP server that tests control.

It serves PEP 503 HTML and (when ``json`` is on and asked for) PEP 691 JSON project pages,
files and ``.metadata`` files, answers conditional GETs with 304, and logs every request.
Fault modes (``mode``): ``ok``, ``refuse`` (the port is closed), ``503``, ``hang`` (no
answer until released), ``drip`` (bodies one byte every ``drip_seconds``), ``truncated``
(files shorter than their Content-Length), ``wrong`` (files with other bytes than their
hash) and ``404`` (every request answers 404, as after a 200).
"""

from __future__ import annotations

import hashlib
import html
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class FakeFile:
    filename: str
    content: bytes
    upload_time: datetime | None = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=UTC))
    requires_python: str | None = None
    yanked: str | bool = False
    metadata: bytes | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class FakeUpstream:
    def __init__(self) -> None:
        self.projects: dict[str, list[FakeFile]] = {}
        self.mode = "ok"
        self.json = True  # offer PEP 691 JSON when asked
        self.drip_seconds = 0.5
        self.file_delay = 0.0  # seconds before a file's headers (concurrent first requests)
        self.requests: list[str] = []
        self.released = threading.Event()
        self.etag_serial = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def add(self, project: str, *files: FakeFile) -> None:
        self.projects.setdefault(project, []).extend(files)
        self.etag_serial += 1

    def changed(self) -> None:
        self.etag_serial += 1

    def requested(self, fragment: str) -> list[str]:
        return [path for path in self.requests if fragment in path]

    def set_mode(self, mode: str) -> None:
        if mode == "refuse" and self._server is not None:
            self._stop_server()
        elif mode != "refuse" and self._server is None:
            self._start_server()
        self.mode = mode
        if mode != "hang":
            self.released.set()
        else:
            self.released.clear()

    def start(self) -> FakeUpstream:
        self._start_server()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._stop_server()

    def _start_server(self) -> None:
        handler = type("Handler", (_Handler,), {"upstream": self})
        server = _Server(("127.0.0.1", self.port), handler, False)
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.server_bind()
        server.server_activate()
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _stop_server(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    # ------------------------------------------------------------------ pages

    def page(self, name: str, as_json: bool) -> tuple[bytes, str]:
        files = self.projects[name]
        if as_json:
            document = {
                "meta": {"api-version": "1.1"},
                "name": name,
                "files": [_json_file(f) for f in files],
            }
            return json.dumps(document).encode(), "application/vnd.pypi.simple.v1+json"
        links = "".join(_anchor(f) for f in files)
        body = f"<!DOCTYPE html><html><body><h1>{name}</h1>{links}</body></html>"
        return body.encode(), "text/html"

    def find(self, filename: str) -> FakeFile | None:
        return next(
            (f for files in self.projects.values() for f in files if f.filename == filename), None
        )


def _json_file(f: FakeFile) -> dict[str, object]:
    entry: dict[str, object] = {
        "filename": f.filename,
        "url": f"../../files/{f.filename}",
        "hashes": {"sha256": f.sha256},
        "size": len(f.content),
        "yanked": f.yanked,
        "core-metadata": {"sha256": hashlib.sha256(f.metadata).hexdigest()}
        if f.metadata
        else False,
    }
    if f.upload_time is not None:
        entry["upload-time"] = f.upload_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if f.requires_python:
        entry["requires-python"] = f.requires_python
    return entry


def _anchor(f: FakeFile) -> str:
    attributes = [f'href="/files/{f.filename}#sha256={f.sha256}"']
    if f.requires_python:
        attributes.append(f'data-requires-python="{html.escape(f.requires_python)}"')
    if f.yanked:
        reason = f.yanked if isinstance(f.yanked, str) else ""
        attributes.append(f'data-yanked="{html.escape(reason)}"')
    if f.metadata:
        attributes.append(f'data-core-metadata="sha256={hashlib.sha256(f.metadata).hexdigest()}"')
    return f"<a {' '.join(attributes)}>{html.escape(f.filename)}</a><br>"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up on a drip or a hang is what the tests do


class _Handler(BaseHTTPRequestHandler):
    upstream: FakeUpstream
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        up = self.upstream
        up.requests.append(self.path)
        if up.mode == "hang":
            up.released.wait(60)
            self.close_connection = True
            return
        if up.mode in ("503", "404"):
            self._send(int(up.mode), b"nope", "text/plain")
            return
        if self.path.startswith("/simple/"):
            self._page(unquote(self.path.removeprefix("/simple/").strip("/")))
        elif self.path.startswith("/files/"):
            self._file(unquote(self.path.removeprefix("/files/")))
        else:
            self._send(404, b"no", "text/plain")

    def _page(self, name: str) -> None:
        up = self.upstream
        if name not in up.projects:
            self._send(404, b"no such project", "text/plain")
            return
        as_json = up.json and "application/vnd.pypi.simple.v1+json" in self.headers.get(
            "Accept", ""
        )
        etag = f'"{up.etag_serial}-{int(as_json)}"'
        conditional = up.mode not in ("drip", "truncated")  # those modes need a body
        if conditional and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = up.page(name, as_json)
        if up.mode == "truncated":
            self._truncated(body)
            return
        self._send(200, body, content_type, {"ETag": etag})

    def _file(self, filename: str) -> None:
        up = self.upstream
        if filename.endswith(".metadata"):
            found = up.find(filename.removesuffix(".metadata"))
            if found is None or found.metadata is None:
                self._send(404, b"no", "text/plain")
            else:
                self._send(200, found.metadata, "text/plain")
            return
        found = up.find(filename)
        if found is None:
            self._send(404, b"no", "text/plain")
            return
        time.sleep(up.file_delay)
        content = found.content
        if up.mode == "wrong":
            content = bytes(reversed(content)) + b"!"
            content = content[: len(found.content)]
        if up.mode == "truncated":
            self._truncated(content)
            return
        self._send(200, content, "application/octet-stream")

    def _truncated(self, body: bytes) -> None:
        """Announce the whole body, send half of it, hang up."""
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.upstream.mode == "drip":
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(self.upstream.drip_seconds)
            return
        self.wfile.write(body)
