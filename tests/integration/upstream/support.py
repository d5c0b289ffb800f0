"""Helpers of the upstream scenarios: wheels with dependencies for the fake upstream, and
a live Orchard whose default project pulls through it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.harness.fake_upstream import FakeFile
from tests.integration.pypi.distributions import module_name, write_wheel


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wheel_file(
    root: Path,
    name: str,
    version: str,
    *,
    requires: tuple[str, ...] = (),
    requires_python: str | None = None,
    uploaded: datetime | None = datetime(2024, 1, 1, tzinfo=UTC),
    yanked: str | bool = False,
) -> FakeFile:
    """An installable wheel (with its METADATA also served as ``.metadata``)."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    metadata = ("\n".join(lines) + "\n\n").encode()
    path = write_wheel(root / uuid.uuid4().hex, name, version, metadata=metadata)
    return FakeFile(
        filename=path.name,
        content=path.read_bytes(),
        upload_time=uploaded,
        requires_python=requires_python,
        yanked=yanked,
        metadata=metadata,
    )


__all__ = ["module_name", "unique", "wheel_file"]
