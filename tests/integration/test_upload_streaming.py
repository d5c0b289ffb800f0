"""Uploads whose bodies arrive in awkward pieces still stream through in one pass.

werkzeug bounds its multipart buffer (leftover + one read) with max_form_memory_size; a
body delivered in odd-sized pieces once tripped that limit and answered 413.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import httpx
import pytest

BOUNDARY = "orchard-streaming-test"


def multipart_pieces(content: bytes, piece: int):
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="odd.bin"\r\n\r\n'
    ).encode()
    body = head + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    return len(body), (body[i : i + piece] for i in range(0, len(body), piece))


@pytest.mark.parametrize("piece", [1_000_003, 3 * 1024 * 1024 + 7, 65_537])
def test_odd_sized_body_pieces_upload_intact(live_server, piece):
    content = os.urandom(9 * 1024 * 1024 + 123)
    name = f"stream-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=live_server.url, timeout=120) as http:
        http.post(
            "/api/v1/auth/login",
            json={"username": live_server.admin_user, "password": live_server.admin_password},
        )
        http.post("/api/v1/projects", json={"name": name})
        http.post(f"/api/v1/project/{name}/packages", json={"name": "pkg"})
        length, pieces = multipart_pieces(content, piece)
        response = http.post(
            f"/api/v1/project/{name}/pkg/upload",
            content=pieces,
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(length),
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["artifact_id"] == hashlib.sha256(content).hexdigest()
        http.delete(f"/api/v1/projects/{name}")
