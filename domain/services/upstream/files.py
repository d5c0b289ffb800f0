"""Upstream files behind ``/files/<sha256>/<filename>``: served from the store once
cached, else fetched on this first request.

A fetch streams to the client while it is written to a temporary blob and hashed; the
last chunk is held back until the whole body matches the upstream's sha256, so a wrong
or short body never completes a download and is never stored. One request fetches: a
claim row in the database, renewed while the bytes flow, makes concurrent first requests
on any worker or instance wait for it and then read the stored blob. Bytes Orchard holds
already (an upload, another project's cache) are reused without asking the upstream.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.access import Principal
from domain.errors import InvalidInput, NotFound, UpstreamTimeout, UpstreamUnavailable
from domain.model import Artifact, Project
from domain.ports import StagedBlob
from domain.services.pypi.index import index_project
from domain.services.pypi.upload import SDIST_CONTENT_TYPES, WHEEL_CONTENT_TYPE
from domain.services.upstream.plan import UpstreamContext, hidden_by_local, settings_of
from domain.upstream import (
    CachedFile,
    UpstreamSettings,
    UpstreamStream,
    cooldown_refusal,
    upstream_repository,
)

log = logging.getLogger("orchard.upstream")
MAX_METADATA_BYTES = 16 * 1024 * 1024
RENEW_EVERY = timedelta(seconds=2)
WAIT_STEP = 0.1


@dataclass(frozen=True)
class StoredFile:
    """Serve these stored bytes."""

    artifact: Artifact
    filename: str


@dataclass(frozen=True)
class FetchingFile:
    """Stream these bytes as they arrive from the upstream (verified before the last)."""

    filename: str
    size: int | None
    content_type: str
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class _Found:
    project: Project
    settings: UpstreamSettings
    file: CachedFile


def upstream_file(
    context: UpstreamContext, actor: Principal | None, project: str, sha256: str, filename: str
) -> StoredFile | FetchingFile:
    """The cached upstream file of that digest and name; ``NotFound`` where the project
    lists none (or the cooldown or a local name hides it)."""
    found = _find(context, actor, project, sha256, filename)
    if found.file.artifact_id is not None:
        with context.uow(read_only=True) as uow:
            artifact = uow.artifacts.get(found.file.artifact_id)
        if artifact is not None:
            return StoredFile(artifact, filename)
    return _obtain(context, found)


def upstream_metadata(
    context: UpstreamContext, actor: Principal | None, project: str, sha256: str, filename: str
) -> bytes:
    """The ``.metadata`` of a cached upstream file: only bytes whose sha256 is the one
    the page advertised (fetched once, then kept)."""
    found = _find(context, actor, project, sha256, filename)
    expected = found.file.file.metadata_sha256
    if expected is None:
        raise NotFound(f"No metadata for '{filename}'.")
    if found.file.core_metadata is not None:
        return found.file.core_metadata
    url = found.file.file.url + ".metadata"
    body = context.client.fetch_bytes(found.settings, url, MAX_METADATA_BYTES)
    if hashlib.sha256(body).hexdigest() != expected:
        raise UpstreamUnavailable("The upstream's metadata does not match its advertised hash.")
    with context.uow() as uow:
        upstream_repository(uow).attach_metadata(found.file.id, body)
        uow.commit()
    return body


def _find(
    context: UpstreamContext, actor: Principal | None, project: str, sha256: str, filename: str
) -> _Found:
    if context.absent.holds(project, context.clock.now()):
        raise NotFound(f"File '{filename}' not found.")
    with context.uow(read_only=True) as uow:
        owner = index_project(uow, actor, project)
        repository = upstream_repository(uow)
        settings = settings_of(repository, context, owner)
        cached = repository.find_file(owner.id, sha256.lower(), filename) if settings else None
        name = repository.page_name_of(cached.page_id) if cached else None
        if settings is None or cached is None or name is None or hidden_by_local(uow, owner, name):
            raise NotFound(f"File '{filename}' not found.")
    refusal = cooldown_refusal(cached.file, context.clock.now(), settings.cooldown)
    if refusal is not None:
        raise NotFound(refusal)
    return _Found(owner, settings, cached)


def _obtain(context: UpstreamContext, found: _Found) -> StoredFile | FetchingFile:
    """Reuse stored bytes, or win the claim and fetch, or wait for whoever holds it."""
    key, token = f"upstream-file:{found.file.file.sha256}", uuid.uuid4().hex
    give_up = context.clock.now() + context.claim_lifetime * 2
    while True:
        stored = _reuse_stored(context, found.file)
        if stored is not None:
            return stored
        if _claim(context, key, token):
            stored = _reuse_stored(context, found.file)  # finished while we claimed
            if stored is None:
                return _fetch(context, found, key, token)
            _release(context, key, token)
            return stored
        if context.clock.now() > give_up:
            raise UpstreamTimeout("Another request is still fetching this file; try again.")
        context.pause(WAIT_STEP)


def _reuse_stored(context: UpstreamContext, cached: CachedFile) -> StoredFile | None:
    """Attach bytes the store holds already (this file's, fetched by another request, or
    the same bytes uploaded or cached elsewhere): one more reference, no download. Reads
    first, so a request waiting for another's fetch polls without taking a write lock."""
    sha256, filename = cached.file.sha256, cached.file.filename
    with context.uow(read_only=True) as uow:
        current = upstream_repository(uow).find_file_by_id(cached.id)
        held = current.artifact_id if current is not None else None
        artifact = uow.artifacts.get(held or sha256) if current is not None else None
    if artifact is None or held is not None:
        return StoredFile(artifact, filename) if artifact is not None else None
    with context.uow() as uow:
        uow.artifacts.add_reference(artifact)  # locks the row: GC cannot take it now
        if context.blobs.modified_at(sha256) is None:  # no such blob
            return None  # leaving the block rolls the reference back
        if not upstream_repository(uow).attach_artifact(cached.id, sha256):
            return None  # attached meanwhile (the next look finds it) or dropped
        uow.commit()
    return StoredFile(artifact, filename)


def _claim(context: UpstreamContext, key: str, token: str) -> bool:
    with context.uow() as uow:
        now = context.clock.now()
        won = upstream_repository(uow).claim_fetch(key, token, now, now - context.claim_lifetime)
        uow.commit()
    return won


def _release(context: UpstreamContext, key: str, token: str) -> None:
    with context.uow() as uow:
        upstream_repository(uow).release_claim(key, token)
        uow.commit()


def _fetch(context: UpstreamContext, found: _Found, key: str, token: str) -> FetchingFile:
    file = found.file.file
    try:
        stream = context.client.open_file(found.settings, file.url)
    except BaseException:
        _release(context, key, token)
        raise

    def cleanup() -> None:
        stream.close()
        _release(context, key, token)

    return FetchingFile(
        filename=file.filename,
        size=stream.size if stream.size is not None else file.size,
        content_type=_content_type(file.filename),
        chunks=_Chunks(_verified_chunks(context, found.file, stream, key, token), cleanup),
    )


class _Chunks(Iterator[bytes]):
    """The fetch's chunks; closing it before the first chunk was asked for (a HEAD, a
    client gone early) still closes the upstream response and gives the claim up, which
    closing a generator that never started would not."""

    def __init__(self, chunks: Iterator[bytes], cleanup: Callable[[], None]) -> None:
        self._chunks, self._cleanup, self._started = chunks, cleanup, False

    def __next__(self) -> bytes:
        self._started = True
        return next(self._chunks)

    def close(self) -> None:
        if self._started:
            self._chunks.close()  # type: ignore[attr-defined]  # a generator
        else:
            self._cleanup()


def _verified_chunks(
    context: UpstreamContext, cached: CachedFile, stream: UpstreamStream, key: str, token: str
) -> Iterator[bytes]:
    writer = context.blobs.writer(context.max_file_size)
    staged: StagedBlob | None = None
    renewed = context.clock.now()
    try:
        held: bytes | None = None
        for chunk in stream:
            writer.write(chunk)
            if held:
                yield held
            held = chunk
            if context.clock.now() - renewed > RENEW_EVERY:
                renewed = _renew(context, key, token)
        staged = writer.finish()
        if staged.sha256 != cached.file.sha256:
            log.warning("upstream file %s: sha256 %s, expected %s; discarded",
                        cached.file.filename, staged.sha256, cached.file.sha256)  # fmt: skip
            raise UpstreamUnavailable("The upstream sent bytes that do not match their hash.")
        _record(context, cached, staged)
        if held:
            yield held
    finally:
        if staged is None:
            writer.abort()
        else:
            context.blobs.discard(staged)  # a no-op once promoted
        stream.close()
        _release(context, key, token)


def _renew(context: UpstreamContext, key: str, token: str) -> datetime:
    with context.uow() as uow:
        now = context.clock.now()
        upstream_repository(uow).renew_claim(key, token, now)
        uow.commit()
    return now


def _record(context: UpstreamContext, cached: CachedFile, staged: StagedBlob) -> None:
    """Keep verified bytes: one reference for the file row, then the blob in place."""
    metadata = _wheel_metadata(context, cached, staged)
    with context.uow() as uow:
        now = context.clock.now()
        repository = upstream_repository(uow)
        if not repository.attach_artifact(cached.id, staged.sha256):
            context.blobs.discard(staged)  # the page dropped the file, or it is attached
            return
        if metadata is not None and cached.core_metadata is None:
            repository.attach_metadata(cached.id, metadata)
        sums = staged.checksums
        uow.artifacts.add_reference(
            Artifact(
                id=sums.sha256, size=sums.size, content_type=_content_type(cached.file.filename),
                md5=sums.md5, sha1=sums.sha1, blake2b_256=sums.blake2b_256, created_at=now,
            )
        )  # fmt: skip
        context.blobs.promote(staged)
        uow.commit()


def _wheel_metadata(
    context: UpstreamContext, cached: CachedFile, staged: StagedBlob
) -> bytes | None:
    """The wheel's METADATA, when it is the document the page advertised: kept with the
    file, so ``.metadata`` is served even if the upstream goes down before anyone asks."""
    expected = cached.file.metadata_sha256
    if context.reader is None or expected is None or not cached.file.filename.endswith(".whl"):
        return None
    try:
        with context.blobs.open_staged(staged) as file:
            body = context.reader.read_wheel_metadata(file)
    except InvalidInput:
        return None
    return body if hashlib.sha256(body).hexdigest() == expected else None


def _content_type(filename: str) -> str:
    suffix = next((s for s in SDIST_CONTENT_TYPES if filename.endswith(s)), None)
    return SDIST_CONTENT_TYPES[suffix] if suffix else WHEEL_CONTENT_TYPE
