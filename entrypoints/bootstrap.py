"""The composition root: the only code that reads settings and picks adapters.

``bootstrap(settings, ...)`` builds the adapters the settings name (blob stores from a
name→factory table) and returns a frozen ``Services``; tests pass fakes in their place.
Nothing is created at import time.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from domain.ports import BlobStore, Clock, MetadataReader, PasswordHasher, UnitOfWork
from domain.services.upstream.plan import UpstreamContext
from domain.upstream import UpstreamClient, UpstreamSettings
from entrypoints.config import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    uow: Callable[..., UnitOfWork]  # uow(read_only=False, snapshot=False): one per transaction
    blobs: BlobStore
    clock: Clock
    reader: MetadataReader
    hasher: PasswordHasher
    pepper: bytes  # keys the API-key hash and signs session cookies
    upstream: UpstreamContext  # the pull-through cache of upstream indexes


def _filesystem_store(settings: Settings) -> BlobStore:
    from adapters.blobstore_fs import FilesystemBlobStore

    return FilesystemBlobStore(settings.resolved_blob_dir, direct_io=settings.direct_io)


def _s3_store(settings: Settings) -> BlobStore:
    from adapters.blobstore_s3 import S3BlobStore

    return S3BlobStore(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint or None,
        region=settings.s3_region or None,
        access_key=settings.s3_access_key or None,
        secret_key=settings.s3_secret_key or None,
        prefix=settings.s3_prefix,
        create_bucket=settings.s3_create_bucket,
        connect_timeout=settings.s3_timeout,
        read_timeout=settings.s3_read_timeout,
    )


BLOB_STORES: dict[str, Callable[[Settings], BlobStore]] = {
    "filesystem": _filesystem_store,
    "s3": _s3_store,
}


def _with_cache(settings: Settings, store: BlobStore, reads: bool) -> BlobStore:
    """The store behind a local read-through cache when ``ORCHARD_BLOB_CACHE_DIR`` is set.

    Only the server reads through it; the command line (fsck, backups, gc) reads the store
    itself and only drops the copies of the blobs it deletes or quarantines."""
    if not settings.blob_cache_dir:
        return store
    from adapters.blob_cache import BlobCache
    from adapters.blobstore_cache import CachedBlobStore
    from entrypoints.http.metrics import record_blob_cache

    observe = record_blob_cache if reads else None
    _log_to_stderr("orchard.blobcache", settings.log_level)
    cache = BlobCache(
        settings.blob_cache_dir, settings.blob_cache_size, settings.blob_cache_max_blob, observe
    )
    return CachedBlobStore(store, cache, reads=reads, observe=observe)


def _log_to_stderr(name: str, level: str) -> None:
    """Timestamped lines of the logger ``name`` on stderr at ``ORCHARD_LOG_LEVEL`` (the
    cache's warnings: a disk it cannot write, a corrupt blob), set up once per process."""
    import logging
    import sys

    logger = logging.getLogger(name)
    if any(getattr(h, "orchard_stderr", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.orchard_stderr = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper())


def _sql_uow_factory(settings: Settings) -> Callable[..., UnitOfWork]:
    from adapters.database import create_engine_for
    from adapters.unit_of_work import SqlAlchemyUnitOfWork

    engine = create_engine_for(settings.resolved_database_url)
    return lambda read_only=False, snapshot=False: SqlAlchemyUnitOfWork(
        engine, read_only=read_only, snapshot=snapshot
    )


def bootstrap(
    settings: Settings,
    *,
    uow: Callable[..., UnitOfWork] | None = None,
    blobs: BlobStore | None = None,
    clock: Clock | None = None,
    reader: MetadataReader | None = None,
    hasher: PasswordHasher | None = None,
    pepper: bytes | None = None,
    upstream_client: UpstreamClient | None = None,
    serving: bool = False,
) -> Services:
    """Wire the adapters the settings name; each argument given replaces one of them
    (tests pass fakes). Named parameters rather than ``**overrides``: a misspelt fake is
    a TypeError, and every part keeps its type. ``serving``: for the HTTP server, whose
    downloads read through the local blob cache when one is configured."""
    from adapters.clock import SystemClock
    from adapters.package_metadata import ArchiveMetadataReader
    from adapters.passwords import Argon2PasswordHasher, RememberingPasswordHasher

    uow = uow if uow is not None else _sql_uow_factory(settings)
    if blobs is None:
        blobs = _with_cache(settings, BLOB_STORES[settings.blob_store](settings), serving)
    clock = clock if clock is not None else SystemClock()
    reader = reader if reader is not None else ArchiveMetadataReader()
    if hasher is None:
        hasher = RememberingPasswordHasher(Argon2PasswordHasher(), settings.password_cache_seconds)
    client = upstream_client if upstream_client is not None else _upstream_client(settings)
    return Services(
        settings=settings,
        uow=uow,
        blobs=blobs,
        clock=clock,
        reader=reader,
        hasher=hasher,
        pepper=pepper or secret_key(settings),
        upstream=upstream_context(settings, uow, blobs, clock, reader, client),
    )


def _upstream_client(settings: Settings) -> UpstreamClient:
    """Built always (it opens no connection until asked): any project may name an
    upstream through the API, whatever the environment says."""
    from adapters.upstream.client import HttpUpstreamClient
    from entrypoints.http.upstream_metrics import configure_upstream_log, record_upstream_call

    configure_upstream_log(settings.log_level)
    return HttpUpstreamClient(
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        observe=record_upstream_call,
    )


def upstream_context(
    settings: Settings,
    uow: Callable[..., UnitOfWork],
    blobs: BlobStore,
    clock: Clock,
    reader: MetadataReader,
    client: UpstreamClient,
) -> UpstreamContext:
    import time

    return UpstreamContext(
        uow=uow,
        blobs=blobs,
        clock=clock,
        client=client,
        default_project=settings.default_index,
        default_settings=UpstreamSettings(
            url=settings.upstream_url,
            ttl=settings.upstream_ttl,
            cooldown=settings.upstream_cooldown,
            stale_max_age=settings.upstream_stale_max_age,
            negative_ttl=settings.upstream_negative_ttl,
            username=settings.upstream_username or None,
            password=settings.upstream_password or None,
        ),
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        revalidate_wait=settings.upstream_revalidate_wait,
        max_file_size=settings.max_upload_size,  # the store's limit, whoever brings the bytes
        reader=reader,
        pause=time.sleep,
    )


def secret_key(settings: Settings) -> bytes:
    """ORCHARD_SECRET_KEY, else a key generated once into the data directory.

    Every worker and instance must share it (sessions, API-key hashes): set it explicitly
    when several machines serve one database.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process wrote
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()
