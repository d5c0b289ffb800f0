"""What one small upload costs the application itself: its SQL statements and its CPU.

Runs the Flask application in this process (no gunicorn, no sockets) on a throwaway
embedded default (SQLite + files) and uploads 4 KiB files to the generic API:

    .venv/bin/python -m benchmarks.upload_cost --statements      # the SQL of one upload
    .venv/bin/python -m benchmarks.upload_cost --uploads 300     # CPU ms per upload
    .venv/bin/python -m benchmarks.upload_cost --source /tmp/before --uploads 300

CPU time moves with the host's load; for a figure that does not, count instructions
under callgrind, once with ``--uploads 0`` and once with ``--uploads 30``, and divide the
difference by 30 (docs/performance.md, "Small files").
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from typing import Any

PASSWORD = "bench-admin-password"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upload_cost")
    parser.add_argument("--source", help="another source tree to import Orchard from")
    parser.add_argument("--uploads", type=int, default=200, help="timed uploads")
    parser.add_argument("--statements", action="store_true", help="print one upload's SQL")
    args = parser.parse_args(argv)
    if args.source:
        sys.path.insert(0, os.path.abspath(args.source))
    data = tempfile.mkdtemp(prefix="orchard-upload-cost-")
    try:
        upload = _uploader(data)
        for _ in range(20):  # warm: compiled statements, pools, caches
            upload()
        if args.statements:
            _print_statements(upload)
            return
        started = time.process_time()
        for _ in range(args.uploads):
            upload()
        spent = time.process_time() - started
        print(f"{args.uploads} uploads: {1000 * spent / max(args.uploads, 1):.2f} ms CPU each")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _uploader(data: str) -> Any:
    for name in [name for name in os.environ if name.startswith("ORCHARD_")]:
        del os.environ[name]  # the embedded default, whatever the caller's shell says
    os.environ.update(
        ORCHARD_DATA_DIR=data,
        ORCHARD_ADMIN_PASSWORD=PASSWORD,
        ORCHARD_SECRET_KEY="upload-cost-" + "x" * 32,
        ORCHARD_LOG_LEVEL="warning",
    )
    from entrypoints import startup
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import load_settings
    from entrypoints.http.app import create_app

    settings = load_settings()
    startup.migrate(settings)
    services = bootstrap(settings)
    startup.prepare(services, announce=lambda *_, **__: None)
    app = create_app(settings, services)
    session = app.test_client()
    session.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    key = session.post("/api/v1/auth/keys", json={"name": "cost"}).get_json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()  # a token, no cookie: what CI clients send
    client.post("/api/v1/projects", json={"name": "bench"}, headers=headers)
    client.post("/api/v1/project/bench/packages", json={"name": "small"}, headers=headers)

    def upload() -> None:
        name = f"small-{uuid.uuid4().hex}.bin"
        response = client.post(
            "/api/v1/project/bench/small/upload",
            data={"file": (io.BytesIO(os.urandom(4096)), name)},
            headers=headers,
            content_type="multipart/form-data",
        )
        if response.status_code != 200:
            raise SystemExit(f"upload failed: {response.status_code} {response.data!r}")

    return upload


def _print_statements(upload: Any) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if not message.startswith("[") and message.strip():  # not the parameters
                lines.append(" ".join(message.split()))

    engine_log = logging.getLogger("sqlalchemy.engine")
    engine_log.addHandler(Collect())
    engine_log.setLevel(logging.INFO)
    upload()
    engine_log.setLevel(logging.WARNING)
    for line in lines:
        print(line)
    sql = [line for line in lines if line.split(" ", 1)[0] in ("SELECT", "INSERT", "UPDATE")]
    print(f"{len(sql)} statements")


if __name__ == "__main__":
    main()
