"""PEP 691 JSON, API version 1.1 (PEP 700: ``versions``, ``size``, ``upload-time``)."""

from __future__ import annotations

import json
from datetime import UTC

from domain.services.pypi.index import IndexFile, ProjectPage, RootPage
from entrypoints.http.pypi.links import file_url

API_VERSION = "1.1"


def render_root(page: RootPage) -> str:
    return _dump({"meta": _meta(), "projects": [{"name": name} for name in page.names]})


def render_project(page: ProjectPage) -> str:
    return _dump(
        {
            "meta": {**_meta(), "_last-serial": page.serial},
            "name": page.name,
            "versions": list(page.versions),
            "files": [_file(f) for f in page.files],
        }
    )


def _meta() -> dict[str, str]:
    return {"api-version": API_VERSION}


def _file(file: IndexFile) -> dict[str, object]:
    metadata: dict[str, str] | bool = (
        {"sha256": file.metadata_sha256} if file.metadata_sha256 else False
    )
    entry: dict[str, object] = {
        "filename": file.filename,
        "url": file_url(file),
        "hashes": {"sha256": file.sha256},
        "core-metadata": metadata,
        "dist-info-metadata": metadata,
        "yanked": (file.yanked_reason or True) if file.yanked else False,
    }
    if file.size is not None:
        entry["size"] = file.size
    if file.upload_time is not None:
        entry["upload-time"] = file.upload_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    return entry


def _dump(document: dict[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
