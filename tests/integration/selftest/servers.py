"""Two small HTTP servers the selftest tests put beside a live Orchard:

- ``CorruptingProxy`` forwards every request to Orchard and flips one byte of each
  distribution file it serves (a broken cache or disk between the index and pip);
- ``PodApi`` answers the three Kubernetes API calls of the persistence check (list pods by
  label, delete a pod) for one pod whose "replacement" is a real restart of the live
  server, and insists on the service-account token as the API server does.

Both bind 127.0.0.1 on a free port and stop with their ``with`` block."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class CorruptingProxy(_Server):
    def __init__(self, upstream: str) -> None:
        super().__init__(_ProxyHandler)
        self.upstream = upstream.rstrip("/")
        self.corrupted: list[str] = []


class _ProxyHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _forward(self) -> None:
        proxy: CorruptingProxy = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
        reply = httpx.request(
            self.command, proxy.upstream + self.path, headers=headers, content=body, timeout=60
        )
        content = reply.content
        if "/files/" in self.path and self.command == "GET" and reply.status_code == 200:
            content = content[:-1] + bytes([content[-1] ^ 0xFF])
            proxy.corrupted.append(self.path.rsplit("/", 1)[-1])
        self.send_response(reply.status_code)
        for name, value in reply.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()


class PodApi(_Server):
    def __init__(self, live_server, token_file: Path, namespace: str, labels: dict) -> None:
        super().__init__(_PodApiHandler)
        self.live_server, self.namespace, self.labels = live_server, namespace, labels
        self.token = token_file.read_text().strip()
        self.generation, self.ready, self.deleted = 0, True, 0
        self.selectors: list[str] = []

    def pod(self) -> dict:
        status = "True" if self.ready else "False"
        return {
            "metadata": {"name": "orchard-0", "uid": f"uid-{self.generation}",
                         "labels": self.labels},
            "status": {"conditions": [{"type": "Ready", "status": status}]},
        }  # fmt: skip

    def replace(self) -> None:
        self.generation, self.ready = self.generation + 1, False
        self.live_server.restart()  # the StatefulSet's new pod: same data, new process
        self.ready = True


class _PodApiHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self, api: PodApi) -> bool:
        if self.headers.get("Authorization") == f"Bearer {api.token}":
            return True
        self._answer(401, {"kind": "Status", "message": "Unauthorized"})
        return False

    def do_GET(self) -> None:
        api: PodApi = self.server.owner  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        if not self._authorised(api):
            return
        if url.path != f"/api/v1/namespaces/{api.namespace}/pods":
            return self._answer(404, {"message": f"no route {url.path}"})
        selector = parse_qs(url.query).get("labelSelector", [""])[0]
        api.selectors.append(selector)
        wanted = dict(pair.split("=", 1) for pair in selector.split(",") if pair)
        matches = all(api.labels.get(k) == v for k, v in wanted.items())
        self._answer(200, {"kind": "PodList", "items": [api.pod()] if matches else []})

    def do_DELETE(self) -> None:
        api: PodApi = self.server.owner  # type: ignore[attr-defined]
        if not self._authorised(api):
            return
        if self.path != f"/api/v1/namespaces/{api.namespace}/pods/orchard-0":
            return self._answer(404, {"message": f"pods {self.path} not found"})
        api.deleted += 1
        threading.Thread(target=api.replace, daemon=True).start()
        self._answer(200, api.pod())
