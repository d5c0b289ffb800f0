"""The storage check: fresh random bytes written through the REST API, read back through
the server, optionally found in the blob store itself, then released for ``orchard gc``.

Random bytes make every run a real write (never a deduplicated hit on an old blob). The
blob store is opened, when asked, from the server's own ``ORCHARD_*`` settings: in the
scale-out shape the test pod gets the bucket's settings and credentials, so "the object
is in the bucket" is checked in the bucket, not inferred from an HTTP answer."""

from __future__ import annotations

import hashlib
import os

from entrypoints.selftest.client import Reply, SelftestFailure, Server

STORAGE_PACKAGE = "orchard-selftest-storage"  # a generic package: never on /simple/
SIZE = 256 * 1024


def round_trip(server: Server, *, verify_blob_store: bool) -> str:
    base = f"/api/v1/project/{server.project}/{STORAGE_PACKAGE}"
    _ensure_package(server)
    content = os.urandom(SIZE)
    sha256 = hashlib.sha256(content).hexdigest()
    file = (f"selftest-{sha256[:12]}.bin", content, "application/octet-stream")
    written = server.post_form(f"{base}/upload", [("file", file)], {"X-Checksum-SHA256": sha256})
    _expect(written, 200, f"Writing {SIZE} bytes through {base}/upload")
    read = server.request("GET", f"{base}/+/artifact:{sha256}?mode=proxy")
    _expect(read, 200, f"Reading artifact {sha256[:12]} back")
    if hashlib.sha256(read.body).hexdigest() != sha256:
        raise SelftestFailure(
            f"The server read back other bytes than it stored (artifact {sha256[:12]})."
        )
    where = _in_blob_store(sha256) if verify_blob_store else ""
    _expect(server.request("DELETE", f"{base}/artifacts/{sha256}"), 204, "Releasing it")
    return f"{SIZE} random bytes written and read back intact through the API{where}."


def _ensure_package(server: Server) -> None:
    path = f"/api/v1/project/{server.project}/packages"
    if server.request("GET", f"{path}/{STORAGE_PACKAGE}").status == 200:
        return
    made = server.request(
        "POST",
        path,
        json={"name": STORAGE_PACKAGE, "format": "generic", "description": "orchard selftest"},
    )
    if made.status not in (200, 409):  # 409: made meanwhile by another run
        _expect(made, 200, f"Creating package {STORAGE_PACKAGE} in project {server.project}")


def _in_blob_store(sha256: str) -> str:
    """Look for the blob where the server keeps it, with the server's settings."""
    from domain.errors import BackendUnavailable
    from entrypoints.bootstrap import BLOB_STORES
    from entrypoints.config import load_settings

    try:
        settings = load_settings()
    except ValueError as error:  # a setting that cannot be read: its own sentence
        raise SelftestFailure(f"The blob store settings are wrong: {error}") from None
    try:
        store = BLOB_STORES[settings.blob_store](settings)
        present = store.modified_at(sha256) is not None  # None: no such blob
    except BackendUnavailable as error:
        raise SelftestFailure(
            f"The {settings.blob_store} blob store did not answer: {error}"
        ) from None
    except Exception as error:  # e.g. S3 refusing the keys (403): no port error names that
        raise SelftestFailure(
            f"Looking in the {settings.blob_store} blob store failed: "
            f"{type(error).__name__}: {error}"
        ) from None
    if not present:
        raise SelftestFailure(
            f"The server answered 200 but blob {sha256[:12]} is not in the "
            f"{settings.blob_store} blob store this pod was configured with."
        )
    return f", and the blob is in the {settings.blob_store} blob store"


def _expect(reply: Reply, status: int, what: str) -> None:
    if reply.status != status:
        raise SelftestFailure(f"{what} answered {reply.status}: {reply.detail}.")
