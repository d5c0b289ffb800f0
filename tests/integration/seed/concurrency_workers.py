"""The steps every upstream concurrency worker repeats, written once.

Each call opens its own client (as the upstream workers do), so requests spread over the
server's gunicorn workers. Failures become sentences in an ``errors`` list instead of
exceptions, so a test asserts on all of its workers at once, as upstream does.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from httpx import Client, HTTPError, Response


def upload(
    base_url: str, api_key: str, project: str, package: str, content: bytes, *,
    filename: str, tag: str,
) -> Response:  # fmt: skip
    """POST the content as ``filename`` with ``tag``, authenticated by the API key."""
    with Client(base_url=base_url, timeout=60.0) as client:
        return client.post(
            f"/api/v1/project/{project}/{package}/upload",
            files={"file": (filename, io.BytesIO(content), "application/octet-stream")},
            data={"tag": tag},
            headers={"Authorization": f"Bearer {api_key}"},
        )


def download(base_url: str, project: str, package: str, ref: str) -> Response:
    """GET a reference through the server (``mode=proxy``), anonymously."""
    with Client(base_url=base_url, timeout=60.0) as client:
        return client.get(f"/api/v1/project/{project}/{package}/+/{ref}", params={"mode": "proxy"})


def attempt(
    errors: list[str], label: str, request: Callable[[], Response],
    on_success: Callable[[Response], None],
) -> None:  # fmt: skip
    """Run one request; hand a 200 to ``on_success``, note anything else in ``errors``."""
    try:
        response = request()
    except HTTPError as error:
        errors.append(f"{label}: {error!s}")
        return
    if response.status_code == 200:
        on_success(response)
    else:
        errors.append(f"{label}: Status {response.status_code}: {response.text[:200]}")


def run_concurrently(max_workers: int, jobs: list[Callable[[], None]]) -> None:
    """Run every job in a pool of ``max_workers`` threads and wait for all of them."""
    with ThreadPoolExecutor(max_workers=max_workers) as executor:
        for future in as_completed([executor.submit(job) for job in jobs]):
            future.result()
