"""The pull-through cache of an upstream index: its values, its pure rules, its ports.

The rules are pure functions of plain values, table-tested in ``tests/unit``:

- which upstream a name may come from (``upstream_applies``): a name that exists locally
  hides the upstream project of that name entirely unless an admin opted it in to merging;
- what of the upstream a client may see (``offered``, ``merge_files``): the cooldown hides
  files younger than it, and files of unknown age while one is set; a local file wins over
  an upstream file of the same name;
- how old a cached page may be (``freshness``): fresh for the TTL, then revalidated; served
  stale when the upstream fails, for at most the stale max age; an upstream "not found" is
  remembered for the negative-cache time.

The ports (``UpstreamClient``, ``UpstreamRepository``) live here rather than in
``domain/ports.py`` so the cache stays one module to read.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from domain.ports import UnitOfWork


@dataclass(frozen=True)
class UpstreamSettings:
    """One project's upstream: where it is and how long what it says is kept."""

    url: str
    ttl: float = 600.0
    cooldown: float = 0.0
    stale_max_age: float = 7 * 86400.0
    negative_ttl: float = 60.0
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed, never shown

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class UpstreamFile:
    """One file as the upstream lists it (PEP 503/592/658/691/700/714)."""

    filename: str
    url: str  # absolute, http(s) only
    sha256: str
    size: int | None = None
    upload_time: datetime | None = None
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    metadata_sha256: str | None = None  # the upstream's core-metadata digest, if it gave one


@dataclass(frozen=True)
class UpstreamPage:
    """A project page read from the upstream, with its validators for the next GET."""

    name: str
    files: tuple[UpstreamFile, ...]
    etag: str | None = None
    last_modified: str | None = None


class PageFetch(enum.Enum):
    NOT_MODIFIED = "not-modified"  # the upstream's 304: the cached page holds
    MISSING = "missing"  # the upstream's 404/410: no such project there


@dataclass(frozen=True)
class CachedFile:
    """An upstream file Orchard knows of; ``artifact_id`` once its bytes are stored."""

    id: int
    page_id: int
    file: UpstreamFile
    artifact_id: str | None = None
    core_metadata: bytes | None = None  # fetched and verified against metadata_sha256


@dataclass(frozen=True)
class CachedPage:
    """What Orchard remembers of one upstream project page."""

    id: int
    project_id: int
    name: str
    checked_at: datetime  # the last time the upstream answered (200, 304 or 404)
    missing: bool = False  # the last answer was "not found"
    etag: str | None = None
    last_modified: str | None = None
    files: tuple[CachedFile, ...] = ()
    serial: int = 0  # grows whenever what the page lists changes (render-cache keys)


@dataclass(frozen=True)
class PageSummary:
    """One cached page as its admins see it: when the upstream last answered, how many
    files it lists and how many of them (and how many bytes) Orchard holds."""

    name: str
    checked_at: datetime
    missing: bool
    files: int
    stored_files: int
    stored_bytes: int


class Freshness(enum.Enum):
    FRESH = "fresh"  # serve what is cached, ask nobody
    EXPIRED = "expired"  # revalidate; serve the cache if the upstream fails
    TOO_OLD = "too-old"  # revalidate; if the upstream fails the cache may not be served


def freshness(
    checked_at: datetime, now: datetime, settings: UpstreamSettings, *, missing: bool
) -> Freshness:
    """How a cached page (or a remembered "not found") may be used at ``now``."""
    age = now - checked_at
    if age < timedelta(seconds=settings.negative_ttl if missing else settings.ttl):
        return Freshness.FRESH
    if age <= timedelta(seconds=settings.stale_max_age):
        return Freshness.EXPIRED
    return Freshness.TOO_OLD


def upstream_applies(*, local_exists: bool, merge_opted_in: bool) -> bool:
    """Whether the upstream may be asked for a name: never for a local name (a private
    package must not be shadowed by, nor leak to, a public one) unless an admin opted that
    very name in to merging."""
    return not local_exists or merge_opted_in


def offered(file: UpstreamFile, now: datetime, cooldown: float) -> bool:
    """Whether an upstream file may be listed and served: with a cooldown, only files whose
    upload-time is known and at least that old (fresh releases may be malicious)."""
    if cooldown <= 0:
        return True
    if file.upload_time is None:
        return False
    return now - file.upload_time >= timedelta(seconds=cooldown)


def cooldown_refusal(file: UpstreamFile, now: datetime, cooldown: float) -> str | None:
    """The sentence a refused download answers with, or None when the file is offered."""
    if offered(file, now, cooldown):
        return None
    if file.upload_time is None:
        return (
            f"'{file.filename}' has no known upload time and the upstream cooldown "
            f"({cooldown:g} s) is on: it is not offered."
        )
    return (
        f"'{file.filename}' was uploaded upstream less than the cooldown "
        f"({cooldown:g} s) ago: it is not offered yet."
    )


class Named(Protocol):
    @property
    def filename(self) -> str: ...


L = TypeVar("L", bound=Named)
U = TypeVar("U", bound=Named)


def merge_files(local: Iterable[L], upstream: Iterable[U]) -> list[L | U]:
    """Local files, then the upstream files whose filename no local file has."""
    merged: list[L | U] = list(local)
    taken = {f.filename for f in merged}
    merged.extend(f for f in upstream if f.filename not in taken)
    return merged


def visible_files(files: Iterable[CachedFile], now: datetime, cooldown: float) -> list[CachedFile]:
    return [f for f in files if offered(f.file, now, cooldown)]


def advertised_metadata(file: CachedFile) -> str | None:
    """The digest a page may show for ``<file>.metadata``: the upstream's, which is also the
    digest of the only bytes Orchard serves under that name (it verifies them)."""
    return file.file.metadata_sha256


# --------------------------------------------------------------------------- ports


class UpstreamStream(abc.ABC):
    """An open upstream response body."""

    size: int | None  # the upstream's Content-Length, if it sent one

    @abc.abstractmethod
    def __iter__(self) -> Iterator[bytes]:
        """The body in chunks; raises ``UpstreamUnavailable``/``UpstreamTimeout`` when the
        upstream fails or stalls mid-body (a short body is a failure too)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; safe to call twice."""


class UpstreamClient(abc.ABC):
    """Speaks to upstream indexes. Every failure is ``UpstreamUnavailable`` (refused,
    5xx, malformed) or ``UpstreamTimeout`` (no answer within the timeouts)."""

    @abc.abstractmethod
    def fetch_page(
        self,
        settings: UpstreamSettings,
        name: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> UpstreamPage | PageFetch:
        """The project page of ``name`` (PEP 691 JSON where offered, else PEP 503 HTML),
        a conditional GET when validators are given: ``PageFetch.NOT_MODIFIED`` for a 304,
        ``PageFetch.MISSING`` for a 404 or 410."""

    @abc.abstractmethod
    def open_file(self, settings: UpstreamSettings, url: str) -> UpstreamStream:
        """Start downloading a file; raises as above, ``NotFound`` for a 404/410."""

    @abc.abstractmethod
    def fetch_bytes(self, settings: UpstreamSettings, url: str, max_size: int) -> bytes:
        """A small document (a ``.metadata`` file) whole; at most ``max_size`` bytes."""


class UpstreamRepository(abc.ABC):
    """The cached upstream pages and files, and each project's upstream settings."""

    @abc.abstractmethod
    def settings(self, project_id: int) -> UpstreamSettings | None:
        """The project's own upstream settings, or None when it has none stored."""

    @abc.abstractmethod
    def set_settings(self, project_id: int, settings: UpstreamSettings | None) -> None:
        """Store (or, with None, remove) the project's upstream settings."""

    @abc.abstractmethod
    def merge_names(self, project_id: int) -> list[str]:
        """Names opted in to merging upstream files with local ones."""

    @abc.abstractmethod
    def set_merge(self, project_id: int, name: str, merge: bool) -> None:
        """Opt a name in to (or out of) merging."""

    @abc.abstractmethod
    def page(self, project_id: int, name: str, *, with_files: bool = True) -> CachedPage | None:
        """The cached page of a name, with its files in the upstream's order."""

    @abc.abstractmethod
    def page_names(self, project_id: int) -> list[str]:
        """Names of the pages cached with at least one file (the root listing)."""

    @abc.abstractmethod
    def page_summaries(
        self, project_id: int, *, offset: int, limit: int
    ) -> tuple[list[PageSummary], int]:
        """One slice of the project's cached pages by name (remembered "not found"
        answers too), and how many there are in all."""

    @abc.abstractmethod
    def save_page(self, project_id: int, page: UpstreamPage, at: datetime) -> dict[str, int]:
        """Replace the cached page's files with the upstream's (keeping stored bytes and
        metadata of files that stay); returns {artifact_id: count} of references the
        dropped files held, which the caller releases."""

    @abc.abstractmethod
    def mark_checked(self, project_id: int, name: str, at: datetime, *, missing: bool) -> None:
        """The upstream answered 304 (``missing=False``) or 404 (``missing=True``); a 404
        for a page with files keeps them (a flaky upstream must not erase the cache)."""

    @abc.abstractmethod
    def expire(self, project_id: int, name: str) -> bool:
        """Make the page revalidate at the next request; False when none is cached."""

    @abc.abstractmethod
    def purge(self, project_id: int, name: str) -> dict[str, int]:
        """Forget the page and its files; returns the references they held to release."""

    @abc.abstractmethod
    def find_file(self, project_id: int, sha256: str, filename: str) -> CachedFile | None:
        """A cached file of the project by its upstream sha256 and filename."""

    @abc.abstractmethod
    def find_file_by_id(self, file_id: int) -> CachedFile | None:
        """A cached file by its id (None once its page dropped it)."""

    @abc.abstractmethod
    def page_name_of(self, page_id: int) -> str | None:
        """The name of the page a file belongs to."""

    @abc.abstractmethod
    def attach_artifact(self, file_id: int, artifact_id: str) -> bool:
        """Record that the file's bytes are stored; False when the file is gone or already
        holds them (the caller then takes no reference)."""

    @abc.abstractmethod
    def attach_metadata(self, file_id: int, core_metadata: bytes) -> None:
        """Keep the verified ``.metadata`` bytes of the file."""

    @abc.abstractmethod
    def claim_fetch(self, key: str, owner: str, at: datetime, stale_before: datetime) -> bool:
        """Claim the right to fetch ``key`` (across workers and instances): True when this
        caller holds it, taking over a claim last renewed before ``stale_before``."""

    @abc.abstractmethod
    def renew_claim(self, key: str, owner: str, at: datetime) -> None:
        """Tell waiters the fetch is still progressing."""

    @abc.abstractmethod
    def release_claim(self, key: str, owner: str) -> None:
        """Give the claim up (done or failed)."""


def upstream_repository(uow: UnitOfWork) -> UpstreamRepository:
    """The cache's repository of a unit of work (every adapter provides one)."""
    return uow.upstream  # type: ignore[attr-defined]
