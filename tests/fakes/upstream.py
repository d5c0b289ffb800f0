"""In-memory ``UpstreamRepository`` and ``UpstreamClient`` for unit tests (the SQL
repository and the httpx client are tested live)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from domain.upstream import (
    CachedFile,
    CachedPage,
    PageFetch,
    PageSummary,
    UpstreamClient,
    UpstreamPage,
    UpstreamRepository,
    UpstreamSettings,
    UpstreamStream,
)


class FakeUpstreamRepository(UpstreamRepository):
    def __init__(self) -> None:
        self._settings: dict[int, UpstreamSettings] = {}
        self._merge: set[tuple[int, str]] = set()
        self._pages: dict[tuple[int, str], CachedPage] = {}
        self._claims: dict[str, tuple[str, datetime]] = {}
        self._next = 0

    def _id(self) -> int:
        self._next += 1
        return self._next

    def settings(self, project_id: int) -> UpstreamSettings | None:
        return self._settings.get(project_id)

    def set_settings(self, project_id: int, settings: UpstreamSettings | None) -> None:
        if settings is None:
            self._settings.pop(project_id, None)
        else:
            self._settings[project_id] = settings

    def merge_names(self, project_id: int) -> list[str]:
        return sorted(name for pid, name in self._merge if pid == project_id)

    def set_merge(self, project_id: int, name: str, merge: bool) -> None:
        (self._merge.add if merge else self._merge.discard)((project_id, name))

    def page(self, project_id: int, name: str, *, with_files: bool = True) -> CachedPage | None:
        found = self._pages.get((project_id, name))
        return found if found is None or with_files else replace(found, files=())

    def page_names(self, project_id: int) -> list[str]:
        return sorted(
            n for (pid, n), page in self._pages.items() if pid == project_id and page.files
        )

    def page_summaries(
        self, project_id: int, *, offset: int, limit: int
    ) -> tuple[list[PageSummary], int]:
        pages = sorted(
            (p for (pid, _), p in self._pages.items() if pid == project_id), key=lambda p: p.name
        )
        items = [
            PageSummary(
                page.name,
                page.checked_at,
                page.missing,
                len(page.files),
                sum(1 for f in page.files if f.artifact_id),
                sum(f.file.size or 0 for f in page.files if f.artifact_id),  # stored: verified
            )
            for page in pages[offset : offset + limit]
        ]
        return items, len(pages)

    def save_page(self, project_id: int, page: UpstreamPage, at: datetime) -> dict[str, int]:
        old = self._pages.get((project_id, page.name))
        kept = {f.file.filename: f for f in old.files} if old else {}
        page_id = old.id if old else self._id()
        files = []
        for file in page.files:
            previous = kept.pop(file.filename, None)
            same = previous is not None and previous.file.sha256 == file.sha256
            if previous is not None and not same:
                kept[f"replaced:{file.filename}"] = previous
            artifact = previous.artifact_id if same else None
            files.append(CachedFile(self._id(), page_id, file, artifact))
        self._pages[(project_id, page.name)] = CachedPage(
            page_id, project_id, page.name, at, False, page.etag, page.last_modified,
            tuple(files), serial=(old.serial if old else 0) + 1,
        )  # fmt: skip
        return dict(Counter(f.artifact_id for f in kept.values() if f.artifact_id))

    def mark_checked(self, project_id: int, name: str, at: datetime, *, missing: bool) -> None:
        old = self._pages.get((project_id, name))
        if old is None:
            self._pages[(project_id, name)] = CachedPage(self._id(), project_id, name, at, missing)
        else:
            serial = old.serial + 1 if missing else old.serial
            self._pages[(project_id, name)] = replace(
                old, checked_at=at, missing=missing, serial=serial
            )

    def expire(self, project_id: int, name: str) -> bool:
        old = self._pages.get((project_id, name))
        if old is not None:
            self._pages[(project_id, name)] = replace(
                old, checked_at=datetime(1970, 1, 1, tzinfo=UTC)
            )
        return old is not None

    def purge(self, project_id: int, name: str) -> dict[str, int]:
        old = self._pages.pop((project_id, name), None)
        return dict(Counter(f.artifact_id for f in old.files if f.artifact_id)) if old else {}

    def _files(self) -> list[tuple[CachedPage, CachedFile]]:
        return [(page, f) for page in self._pages.values() for f in page.files]

    def find_file(self, project_id: int, sha256: str, filename: str) -> CachedFile | None:
        return next(
            (f for page, f in self._files() if page.project_id == project_id
             and f.file.sha256 == sha256 and f.file.filename == filename),
            None,
        )  # fmt: skip

    def find_file_by_id(self, file_id: int) -> CachedFile | None:
        return next((f for _, f in self._files() if f.id == file_id), None)

    def page_name_of(self, page_id: int) -> str | None:
        return next((p.name for p in self._pages.values() if p.id == page_id), None)

    def _replace_file(self, file_id: int, **changes: object) -> bool:
        for key, page in self._pages.items():
            files = [replace(f, **changes) if f.id == file_id else f for f in page.files]
            if any(f.id == file_id for f in page.files):
                self._pages[key] = replace(page, files=tuple(files))
                return True
        return False

    def attach_artifact(self, file_id: int, artifact_id: str) -> bool:
        current = self.find_file_by_id(file_id)
        if current is None or current.artifact_id is not None:
            return False
        return self._replace_file(file_id, artifact_id=artifact_id)

    def attach_metadata(self, file_id: int, core_metadata: bytes) -> None:
        self._replace_file(file_id, core_metadata=core_metadata)

    def claim_fetch(self, key: str, owner: str, at: datetime, stale_before: datetime) -> bool:
        held = self._claims.get(key)
        if held is None or held[1] < stale_before:
            self._claims[key] = (owner, at)
            return True
        return False

    def renew_claim(self, key: str, owner: str, at: datetime) -> None:
        if self._claims.get(key, ("",))[0] == owner:
            self._claims[key] = (owner, at)

    def release_claim(self, key: str, owner: str) -> None:
        if self._claims.get(key, ("",))[0] == owner:
            del self._claims[key]


class FakeUpstreamClient(UpstreamClient):
    """Answers from ``pages``; ``failure`` (an exception) makes every call fail."""

    def __init__(self) -> None:
        self.pages: dict[str, UpstreamPage | PageFetch] = {}
        self.failure: Exception | None = None
        self.asked: list[str] = []
        self.gate: threading.Event | None = None  # when set: answers wait for it (a hang)

    def fetch_page(self, settings, name, *, etag=None, last_modified=None):
        self.asked.append(name)
        if self.gate is not None:
            self.gate.wait(10)
        if self.failure is not None:
            raise self.failure
        return self.pages.get(name, PageFetch.MISSING)

    def open_file(self, settings: UpstreamSettings, url: str) -> UpstreamStream:
        raise NotImplementedError  # files are tested live

    def fetch_bytes(self, settings: UpstreamSettings, url: str, max_size: int) -> bytes:
        raise NotImplementedError
