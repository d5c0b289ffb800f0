"""The upstream cache's tables: per-project settings, merge opt-ins, cached pages and
files, and the claims that make one worker fetch a file while the others wait."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update

from adapters.sql.base import SqlRepository
from adapters.tables import (
    artifacts,
    upstream_fetches,
    upstream_files,
    upstream_merge_names,
    upstream_pages,
    upstream_settings,
)
from domain.upstream import (
    CachedFile,
    CachedPage,
    PageSummary,
    UpstreamFile,
    UpstreamPage,
    UpstreamRepository,
    UpstreamSettings,
)

# The columns that describe a file as the upstream lists it (compared on every refresh;
# not its position: one release added at the top must not rewrite thousands of rows).
_DESCRIBED = (
    "url", "size", "upload_time", "requires_python", "yanked", "yanked_reason",
    "metadata_sha256",
)  # fmt: skip
_LISTED = [c for c in upstream_files.c if c.name != "core_metadata"]


class SqlUpstreamRepository(SqlRepository, UpstreamRepository):
    # ------------------------------------------------------------------ settings

    def settings(self, project_id: int) -> UpstreamSettings | None:
        query = select(upstream_settings).where(upstream_settings.c.project_id == project_id)
        row = self._execute(query).first()
        if row is None:
            return None
        return UpstreamSettings(
            url=row.url, ttl=row.ttl, cooldown=row.cooldown, stale_max_age=row.stale_max_age,
            negative_ttl=row.negative_ttl, username=row.username, password=row.password,
        )  # fmt: skip

    def set_settings(self, project_id: int, settings: UpstreamSettings | None) -> None:
        where = upstream_settings.c.project_id == project_id
        self._execute(delete(upstream_settings).where(where))
        if settings is None:
            return
        values = {
            "project_id": project_id, "url": settings.url, "ttl": settings.ttl,
            "cooldown": settings.cooldown, "stale_max_age": settings.stale_max_age,
            "negative_ttl": settings.negative_ttl, "username": settings.username,
            "password": settings.password,
        }  # fmt: skip
        self._execute(self._insert(upstream_settings).values(values))

    def merge_names(self, project_id: int) -> list[str]:
        query = (
            select(upstream_merge_names.c.name)
            .where(upstream_merge_names.c.project_id == project_id)
            .order_by(upstream_merge_names.c.name)
        )
        return list(self._execute(query).scalars())

    def set_merge(self, project_id: int, name: str, merge: bool) -> None:
        table = upstream_merge_names
        if merge:
            statement = self._insert(table).values(project_id=project_id, name=name)
            self._execute(statement.on_conflict_do_nothing())
        else:
            where = (table.c.project_id == project_id) & (table.c.name == name)
            self._execute(delete(table).where(where))

    # ------------------------------------------------------------------ pages

    def page(self, project_id: int, name: str, *, with_files: bool = True) -> CachedPage | None:
        query = select(upstream_pages).where(
            upstream_pages.c.project_id == project_id, upstream_pages.c.name == name
        )
        row = self._execute(query).first()
        if row is None:
            return None
        files: tuple[CachedFile, ...] = ()
        if with_files:
            listed = (
                select(*_LISTED)
                .where(upstream_files.c.page_id == row.id)
                .order_by(upstream_files.c.id)
            )
            files = tuple(_cached_file(f) for f in self._execute(listed))
        return CachedPage(
            id=row.id, project_id=row.project_id, name=row.name, checked_at=row.checked_at,
            missing=row.missing, etag=row.etag, last_modified=row.last_modified, files=files,
            serial=row.serial,
        )  # fmt: skip

    def page_names(self, project_id: int) -> list[str]:
        has_files = exists().where(upstream_files.c.page_id == upstream_pages.c.id)
        query = (
            select(upstream_pages.c.name)
            .where(upstream_pages.c.project_id == project_id, has_files)
            .order_by(upstream_pages.c.name)
        )
        return list(self._execute(query).scalars())

    def page_summaries(
        self, project_id: int, *, offset: int, limit: int
    ) -> tuple[list[PageSummary], int]:
        files = upstream_files
        counts = (
            select(
                files.c.page_id,
                func.count().label("files"),
                func.count(files.c.artifact_id).label("stored_files"),
                func.coalesce(func.sum(artifacts.c.size), 0).label("stored_bytes"),
            )
            .select_from(files.outerjoin(artifacts, artifacts.c.id == files.c.artifact_id))
            .group_by(files.c.page_id)
            .subquery()
        )
        pages = upstream_pages
        query = (
            select(
                pages.c.name, pages.c.checked_at, pages.c.missing,
                func.coalesce(counts.c.files, 0).label("files"),
                func.coalesce(counts.c.stored_files, 0).label("stored_files"),
                func.coalesce(counts.c.stored_bytes, 0).label("stored_bytes"),
            )
            .select_from(pages.outerjoin(counts, counts.c.page_id == pages.c.id))
            .where(pages.c.project_id == project_id)
            .order_by(pages.c.name)
            .offset(offset)
            .limit(limit)
        )  # fmt: skip
        items = [
            PageSummary(
                row.name,
                row.checked_at,
                row.missing,
                int(row.files),
                int(row.stored_files),
                int(row.stored_bytes),
            )
            for row in self._execute(query)
        ]
        total = select(func.count()).select_from(pages).where(pages.c.project_id == project_id)
        return items, int(self._execute(total).scalar_one())

    def save_page(self, project_id: int, page: UpstreamPage, at: datetime) -> dict[str, int]:
        page_id = self._page_row(project_id, page.name, at, missing=False)
        self._execute(
            update(upstream_pages)
            .where(upstream_pages.c.id == page_id)
            .values(
                etag=page.etag,
                last_modified=page.last_modified,
                serial=upstream_pages.c.serial + 1,  # a 200: re-render whatever changed
            )
        )
        query = select(*_LISTED).where(upstream_files.c.page_id == page_id)
        stored = {row.filename: row for row in self._execute(query)}
        released: Counter[str] = Counter()
        seen: set[str] = set()
        new_rows = []
        for position, file in enumerate(page.files):
            if file.filename in seen:
                continue  # a page listing a filename twice: the first one counts
            seen.add(file.filename)
            values = _file_values(file, position)
            old = stored.pop(file.filename, None)
            if old is not None and old.sha256 == file.sha256:
                if any(getattr(old, k) != v for k, v in values.items() if k in _DESCRIBED):
                    self._update_file(old, values)
                continue
            if old is not None:  # the upstream replaced the bytes: forget the old ones
                released.update(self._delete_files([old]))
            new_rows.append(values | {"page_id": page_id, "filename": file.filename,
                                      "sha256": file.sha256, "core_metadata": None})  # fmt: skip
        released.update(self._delete_files(list(stored.values())))
        if new_rows:  # one statement (executemany): a page may list thousands of files
            self._execute(upstream_files.insert(), new_rows)
        return dict(released)

    def _update_file(self, old: Any, values: dict[str, Any]) -> None:
        if old.metadata_sha256 != values["metadata_sha256"]:
            values = values | {"core_metadata": None}  # verified against the old digest
        self._execute(update(upstream_files).where(upstream_files.c.id == old.id).values(values))

    def _delete_files(self, rows: list[Any]) -> Counter[str]:
        if rows:
            ids = [row.id for row in rows]
            self._execute(delete(upstream_files).where(upstream_files.c.id.in_(ids)))
        return Counter(row.artifact_id for row in rows if row.artifact_id)

    def _page_row(self, project_id: int, name: str, at: datetime, *, missing: bool) -> int:
        values = {
            "project_id": project_id, "name": name, "checked_at": at, "missing": missing,
            "serial": 0,
        }  # fmt: skip
        self._execute(self._insert(upstream_pages).values(values).on_conflict_do_nothing())
        where = (upstream_pages.c.project_id == project_id) & (upstream_pages.c.name == name)
        statement = (
            update(upstream_pages)
            .where(where)
            .values(checked_at=at, missing=missing)
            .returning(upstream_pages.c.id)
        )
        return self._execute(statement).scalar_one()

    def mark_checked(self, project_id: int, name: str, at: datetime, *, missing: bool) -> None:
        page_id = self._page_row(project_id, name, at, missing=missing)
        if missing:
            statement = update(upstream_pages).where(upstream_pages.c.id == page_id)
            self._execute(statement.values(serial=upstream_pages.c.serial + 1))

    def expire(self, project_id: int, name: str) -> bool:
        where = (upstream_pages.c.project_id == project_id) & (upstream_pages.c.name == name)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        result = self._execute(update(upstream_pages).where(where).values(checked_at=epoch))
        return bool(result.rowcount)

    def purge(self, project_id: int, name: str) -> dict[str, int]:
        page = self.page(project_id, name, with_files=False)
        if page is None:
            return {}
        query = select(*_LISTED).where(upstream_files.c.page_id == page.id)
        released = self._delete_files(list(self._execute(query)))
        self._execute(delete(upstream_pages).where(upstream_pages.c.id == page.id))
        return dict(released)

    # ------------------------------------------------------------------ files

    def find_file(self, project_id: int, sha256: str, filename: str) -> CachedFile | None:
        query = (
            select(upstream_files)
            .join(upstream_pages, upstream_pages.c.id == upstream_files.c.page_id)
            .where(
                upstream_pages.c.project_id == project_id,
                upstream_files.c.sha256 == sha256,
                upstream_files.c.filename == filename,
            )
        )
        row = self._execute(query).first()
        return _cached_file(row, with_metadata=True) if row else None

    def find_file_by_id(self, file_id: int) -> CachedFile | None:
        row = self._execute(select(*_LISTED).where(upstream_files.c.id == file_id)).first()
        return _cached_file(row) if row else None

    def page_name_of(self, page_id: int) -> str | None:
        query = select(upstream_pages.c.name).where(upstream_pages.c.id == page_id)
        return self._execute(query).scalar()

    def attach_artifact(self, file_id: int, artifact_id: str) -> bool:
        statement = (
            update(upstream_files)
            .where(upstream_files.c.id == file_id, upstream_files.c.artifact_id.is_(None))
            .values(artifact_id=artifact_id)
        )
        return bool(self._execute(statement).rowcount)

    def attach_metadata(self, file_id: int, core_metadata: bytes) -> None:
        statement = update(upstream_files).where(upstream_files.c.id == file_id)
        self._execute(statement.values(core_metadata=core_metadata))

    # ------------------------------------------------------------------ claims

    def claim_fetch(self, key: str, owner: str, at: datetime, stale_before: datetime) -> bool:
        values = {"key": key, "owner": owner, "claimed_at": at}
        inserted = self._execute(
            self._insert(upstream_fetches)
            .values(values)
            .on_conflict_do_nothing()
            .returning(upstream_fetches.c.key)
        ).scalar()
        if inserted is not None:
            return True
        taken_over = self._execute(
            update(upstream_fetches)
            .where(upstream_fetches.c.key == key, upstream_fetches.c.claimed_at < stale_before)
            .values(owner=owner, claimed_at=at)
        )
        return bool(taken_over.rowcount)

    def renew_claim(self, key: str, owner: str, at: datetime) -> None:
        self._execute(
            update(upstream_fetches)
            .where(upstream_fetches.c.key == key, upstream_fetches.c.owner == owner)
            .values(claimed_at=at)
        )

    def release_claim(self, key: str, owner: str) -> None:
        self._execute(
            delete(upstream_fetches).where(
                upstream_fetches.c.key == key, upstream_fetches.c.owner == owner
            )
        )


def _file_values(file: UpstreamFile, position: int) -> dict[str, Any]:
    return {
        "position": position, "url": file.url, "size": file.size,
        "upload_time": file.upload_time, "requires_python": file.requires_python,
        "yanked": file.yanked, "yanked_reason": file.yanked_reason,
        "metadata_sha256": file.metadata_sha256,
    }  # fmt: skip


def _cached_file(row: Any, *, with_metadata: bool = False) -> CachedFile:
    file = UpstreamFile(
        filename=row.filename, url=row.url, sha256=row.sha256, size=row.size,
        upload_time=row.upload_time, requires_python=row.requires_python, yanked=row.yanked,
        yanked_reason=row.yanked_reason, metadata_sha256=row.metadata_sha256,
    )  # fmt: skip
    return CachedFile(
        id=row.id, page_id=row.page_id, file=file, artifact_id=row.artifact_id,
        core_metadata=row.core_metadata if with_metadata else None,
    )  # fmt: skip
