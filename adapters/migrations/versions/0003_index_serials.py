"""Keys for cached index pages: a project's index serial and each file's metadata digest.

``projects.index_serial`` grows whenever a package is added or deleted, so the index
root can be served from a cached rendering after reading one row. The SHA-256 of a
wheel's METADATA is stored at upload so a project page no longer loads and hashes every
file's METADATA to print it; rows uploaded before this revision are backfilled here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("index_serial", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("distributions") as batch:
        batch.add_column(sa.Column("metadata_sha256", sa.String(64), nullable=True))
    _backfill_metadata_digests(op.get_bind())


def _backfill_metadata_digests(connection: sa.Connection) -> None:
    table = sa.table(
        "distributions",
        sa.column("id", sa.Integer()),
        sa.column("core_metadata", sa.LargeBinary()),
        sa.column("metadata_sha256", sa.String()),
    )
    pending = (
        sa.select(table.c.id, table.c.core_metadata)
        .where(
            table.c.metadata_sha256.is_(None),
            table.c.core_metadata.is_not(None),
            sa.func.length(table.c.core_metadata) > 0,
        )
        .order_by(table.c.id)
        .limit(_BATCH)
    )
    store = table.update().where(table.c.id == sa.bindparam("row_id"))
    while rows := connection.execute(pending).all():
        digests = [
            {"row_id": row.id, "metadata_sha256": hashlib.sha256(row.core_metadata).hexdigest()}
            for row in rows
        ]
        connection.execute(store.values(metadata_sha256=sa.bindparam("metadata_sha256")), digests)


def downgrade() -> None:
    with op.batch_alter_table("distributions") as batch:
        batch.drop_column("metadata_sha256")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("index_serial")
