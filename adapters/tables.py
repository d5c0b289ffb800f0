"""The metadata schema, as SQLAlchemy Core ``Table`` objects.

Core tables rather than mapped classes: the repositories speak SQL statements (atomic
``ref_count = ref_count + 1``, ``INSERT ... ON CONFLICT DO NOTHING``, ``FOR UPDATE``) and
turn rows into domain dataclasses with explicit functions (``adapters/sql/rows.py``), so
an ORM identity map would add state without saving code, and the domain classes stay
free of SQLAlchemy instrumentation. ``versions/0001_initial.py`` creates exactly this
schema; ``tests/integration/test_migrations.py`` proves they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as
    naive UTC and given its zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Tables whose ids name something a caller holds (a user, a key, a project, a package)
# never give an id out twice: SQLite's AUTOINCREMENT (PostgreSQL's sequences never
# reuse). Without it SQLite hands the newest row's id to the next row after a delete.
def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, *, ondelete: str | None = "CASCADE", **kw: Any) -> Column:
    return Column(name, ForeignKey(target, ondelete=ondelete), **kw)


projects = Table(
    "projects",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("is_public", Boolean, nullable=False, default=True),
    Column("allow_overwrite", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("created_by", String(255), nullable=True),
    Column("index_serial", Integer, nullable=False, default=0, server_default="0"),
    sqlite_autoincrement=True,
)

packages = Table(
    "packages",
    metadata,
    _id(),
    _fk("project_id", "projects.id", nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("format", String(16), nullable=False, default="generic"),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("serial", Integer, nullable=False, default=0),
    UniqueConstraint("project_id", "name"),
    sqlite_autoincrement=True,
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("sha1", String(40), nullable=False),
    Column("blake2b_256", String(64), nullable=False),
    Column("ref_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("released_at", UTCDateTime, nullable=True),
    CheckConstraint("ref_count >= 0", name="ref_count_not_negative"),
    Index(None, "ref_count", "released_at"),
)

uploads = Table(
    "uploads",
    metadata,
    _id(),
    _fk("package_id", "packages.id", nullable=False, index=True),
    _fk("artifact_id", "artifacts.id", ondelete=None, nullable=False, index=True),
    Column("original_name", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("uploader", String(255), nullable=True),
    Column("tag", String(128), nullable=True),
    Column("version", String(128), nullable=True),
    Column("version_source", String(16), nullable=True),
)

tags = Table(
    "tags",
    metadata,
    _id(),
    _fk("package_id", "packages.id", nullable=False),
    Column("name", String(128), nullable=False),
    _fk("artifact_id", "artifacts.id", ondelete=None, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("package_id", "name"),
)

# No foreign key to tags or artifacts: the history outlives both.
tag_history = Table(
    "tag_history",
    metadata,
    _id(),
    _fk("package_id", "packages.id", nullable=False),
    Column("tag_name", String(128), nullable=False),
    Column("old_artifact_id", String(64), nullable=True),
    Column("new_artifact_id", String(64), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("changed_by", String(255), nullable=True),
    Index(None, "package_id", "tag_name"),
)

versions = Table(
    "versions",
    metadata,
    _id(),
    _fk("package_id", "packages.id", nullable=False),
    Column("version", String(128), nullable=False),
    _fk("artifact_id", "artifacts.id", ondelete=None, nullable=False, index=True),
    Column("version_source", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("package_id", "version"),
)

# artifact_id has no foreign key: a tombstone keeps the digest after GC removed the blob.
distributions = Table(
    "distributions",
    metadata,
    _id(),
    _fk("package_id", "packages.id", nullable=False),
    Column("filename", String(255), nullable=False),
    Column("version", String(128), nullable=False),
    Column("artifact_id", String(64), nullable=False, index=True),
    _fk("upload_id", "uploads.id", ondelete="SET NULL", nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("packagetype", String(32), nullable=False, default="sdist"),
    Column("requires_python", String(255), nullable=True),
    Column("core_metadata", LargeBinary, nullable=True),
    Column("metadata_sha256", String(64), nullable=True),
    Column("yanked", Boolean, nullable=False, default=False),
    Column("yanked_reason", Text, nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("size", BigInteger, nullable=False, default=0),
    UniqueConstraint("package_id", "filename"),
)

users = Table(
    "users",
    metadata,
    _id(),
    Column("username", String(255), nullable=False, unique=True),
    Column("password_hash", String(512), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=True),
    sqlite_autoincrement=True,
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    _fk("user_id", "users.id", nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True, index=True),
    Column("prefix", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    sqlite_autoincrement=True,
)


login_sessions = Table(
    "login_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _fk("user_id", "users.id", nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# Failed password attempts per throttling key (``domain.services.login_throttle``).
login_failures = Table(
    "login_failures",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False, index=True),
    Column("blocked_until", UTCDateTime, nullable=True),
)

memberships = Table(
    "memberships",
    metadata,
    _id(),
    _fk("project_id", "projects.id", nullable=False),
    _fk("user_id", "users.id", nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=True),
    UniqueConstraint("project_id", "user_id"),
)

# ----------------------------------------------------------------- upstream cache (0005)

upstream_settings = Table(
    "upstream_settings",
    metadata,
    _fk("project_id", "projects.id", primary_key=True),
    Column("url", Text, nullable=False),
    Column("ttl", Float, nullable=False),
    Column("cooldown", Float, nullable=False),
    Column("stale_max_age", Float, nullable=False),
    Column("negative_ttl", Float, nullable=False),
    Column("username", String(255), nullable=True),
    Column("password", Text, nullable=True),  # sent to the upstream, so not hashable
)

upstream_merge_names = Table(
    "upstream_merge_names",
    metadata,
    _fk("project_id", "projects.id", primary_key=True),
    Column("name", String(255), primary_key=True),
)

upstream_pages = Table(
    "upstream_pages",
    metadata,
    _id(),
    _fk("project_id", "projects.id", nullable=False),
    Column("name", String(255), nullable=False),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("missing", Boolean, nullable=False, default=False),
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    Column("serial", Integer, nullable=False, default=0),
    UniqueConstraint("project_id", "name"),
)

# artifact_id has no foreign key, like distributions: set once the verified bytes are
# stored, each such row holds one reference on the artifact.
upstream_files = Table(
    "upstream_files",
    metadata,
    _id(),
    _fk("page_id", "upstream_pages.id", nullable=False),
    Column("position", Integer, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", BigInteger, nullable=True),
    Column("upload_time", UTCDateTime, nullable=True),
    Column("requires_python", String(255), nullable=True),
    Column("yanked", Boolean, nullable=False, default=False),
    Column("yanked_reason", Text, nullable=True),
    Column("metadata_sha256", String(64), nullable=True),
    Column("core_metadata", LargeBinary, nullable=True),
    Column("artifact_id", String(64), nullable=True, index=True),
    UniqueConstraint("page_id", "filename"),
)

# A claim on fetching one upstream file, so that concurrent first requests on any
# worker or instance fetch it once; renewed while the fetch progresses.
upstream_fetches = Table(
    "upstream_fetches",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
)
