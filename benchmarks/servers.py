"""The contenders, each started on a free loopback port and stopped at the end.

Every server exposes the same handles: ``simple_url`` (what pip reads), ``upload_url``
and ``auth`` (what twine posts to), ``pid`` (whose process tree's memory we sample) and
``version``. Orchard also exposes its generic API (``api_key``).
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import peers
from benchmarks.util import VENV_BIN, free_port, run, spawn, stop, wait_http

ADMIN_PASSWORD = "bench-admin-password"


@dataclass
class Server:
    name: str
    workdir: Path
    port: int = field(default_factory=free_port)
    process: object = None
    version: str = ""
    auth: tuple[str, str] | None = None
    index_path: str = "/"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def simple_url(self) -> str:
        return f"{self.base}{self.index_path}simple/"

    @property
    def upload_url(self) -> str:
        return f"{self.base}{self.index_path}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def project_url(self, project: str) -> str:
        return f"{self.simple_url}{project}/"

    def stop(self) -> None:
        stop(self.process)


class Orchard(Server):
    """``orchard serve`` (gunicorn, the shipped worker and thread counts)."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str], source=None) -> None:
        super().__init__(name, workdir)
        self.env = env
        self.api_key = ""
        # gunicorn runs ``python -m``, so its workers import from the working directory:
        # another source tree there serves that tree's code (an A/B of a change).
        self.source = source

    def start(self) -> None:
        import os

        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
        env.update(
            ORCHARD_HOST="127.0.0.1",
            ORCHARD_PORT=str(self.port),
            ORCHARD_DATA_DIR=str(data),
            ORCHARD_ADMIN_PASSWORD=ADMIN_PASSWORD,
            ORCHARD_SECRET_KEY="bench-" + self.name,
            ORCHARD_LOG_LEVEL="warning",
            **self.env,
        )
        self.process = spawn(
            [str(VENV_BIN / "orchard"), "serve"], self.workdir / "log", env, cwd=self.source
        )
        wait_http(f"{self.base}/ready", self.process)
        self.api_key = self._create_key()
        self.auth = ("__token__", self.api_key)
        self.version = _orchard_version()

    def _create_key(self) -> str:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        _post_json(opener, f"{self.base}/api/v1/auth/login", body)
        return _post_json(opener, f"{self.base}/api/v1/auth/keys", {"name": "bench"})["key"]

    def api(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            f"{self.base}/api/v1{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.load(response)


def _post_json(opener, url: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own loopback URL
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with opener.open(request, timeout=60) as response:
        return json.load(response)


def _orchard_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("orchard")


class PypiServer(Server):
    """pypiserver under gunicorn with Orchard's worker shape (4 x gthread 8), the
    cached-dir backend, uploads without authentication and no fallback to pypi.org."""

    def start(self) -> None:
        bin_dir = peers.ensure("pypiserver")
        packages = self.workdir / "packages"
        packages.mkdir(parents=True, exist_ok=True)
        app = (
            f"pypiserver:app(root={str(packages)!r}, authenticate=[], password_file='.', "
            "hash_algo='sha256', backend_arg='cached-dir', disable_fallback=True)"
        )
        argv = [str(bin_dir / "gunicorn"), "-w", "4", "-k", "gthread", "--threads", "8"]
        argv += ["-b", f"127.0.0.1:{self.port}", "--timeout", "600", app]
        self.process = spawn(argv, self.workdir / "log")
        wait_http(f"{self.base}/simple/", self.process)
        self.auth = ("bench", "bench")  # not checked (authenticate=[]); twine wants some
        self.version = peers.version("pypiserver")


class Devpi(Server):
    """devpi-server with one non-mirroring index (``root/bench``, no root/pypi base)."""

    def start(self) -> None:
        bin_dir = peers.ensure("devpi")
        serverdir = self.workdir / "server"
        if not serverdir.exists():
            run(
                [
                    str(bin_dir / "devpi-init"),
                    "--serverdir",
                    str(serverdir),
                    "--no-root-pypi",
                    "--root-passwd",
                    ADMIN_PASSWORD,
                ]
            )
        argv = [str(bin_dir / "devpi-server"), "--serverdir", str(serverdir)]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.process = spawn(argv, self.workdir / "log")
        wait_http(f"{self.base}/+api", self.process)
        client = [str(bin_dir / "devpi"), "--clientdir", str(self.workdir / "client")]
        run([*client, "use", self.base])
        run([*client, "login", "root", "--password", ADMIN_PASSWORD])
        self.create_index(client)
        self.auth = ("root", ADMIN_PASSWORD)
        self.version = peers.version("devpi")

    def create_index(self, client: list[str]) -> None:
        run([*client, "index", "-c", "root/bench", "bases=", "volatile=True"])
        self.index_path = "/root/bench/"

    @property
    def simple_url(self) -> str:
        return f"{self.base}/root/bench/+simple/"


class Nginx(Server):
    """nginx serving a pre-rendered static copy of the index: the floor."""

    def __init__(self, name: str, workdir: Path, root: Path) -> None:
        super().__init__(name, workdir)
        self.root = root

    @staticmethod
    def available() -> str | None:
        """None when nginx can run here, else why not."""
        return None if shutil.which("nginx") else "nginx is not installed (apt-get install nginx)"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(port=self.port, root=self.root, work=self.workdir))
        argv = ["nginx", "-c", str(conf), "-p", str(self.workdir), "-g", "daemon off;"]
        self.process = spawn(argv, self.workdir / "log")
        wait_http(f"{self.base}/simple/", self.process)
        self.version = run(["nginx", "-v"]).stderr.strip().split("/")[-1]


NGINX_CONF = """\
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    # text/plain for PEP 658 ``.metadata`` files, as Orchard serves them
    types {{ text/html html; text/plain metadata; application/octet-stream whl bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""
