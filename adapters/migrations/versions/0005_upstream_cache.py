"""The pull-through cache of an upstream index: settings, cached pages and files, claims.

Revision ID: 0005
Revises: 0003 (the lead re-points it at 0004 when that lands)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


TZ = sa.DateTime(timezone=True)


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["projects.id"], name=f"fk_{table}_project_id_projects",
        ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "upstream_settings",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("ttl", sa.Float(), nullable=False),
        sa.Column("cooldown", sa.Float(), nullable=False),
        sa.Column("stale_max_age", sa.Float(), nullable=False),
        sa.Column("negative_ttl", sa.Float(), nullable=False),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("password", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("project_id", name="pk_upstream_settings"),
        _project_fk("upstream_settings"),
    )
    op.create_table(
        "upstream_merge_names",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "name", name="pk_upstream_merge_names"),
        _project_fk("upstream_merge_names"),
    )
    op.create_table(
        "upstream_pages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("checked_at", TZ, nullable=False),
        sa.Column("missing", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_upstream_pages"),
        _project_fk("upstream_pages"),
        sa.UniqueConstraint("project_id", "name", name="uq_upstream_pages_project_id_name"),
    )
    op.create_table(
        "upstream_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("upload_time", TZ, nullable=True),
        sa.Column("requires_python", sa.String(255), nullable=True),
        sa.Column("yanked", sa.Boolean(), nullable=False),
        sa.Column("yanked_reason", sa.Text(), nullable=True),
        sa.Column("metadata_sha256", sa.String(64), nullable=True),
        sa.Column("core_metadata", sa.LargeBinary(), nullable=True),
        sa.Column("artifact_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_upstream_files"),
        sa.ForeignKeyConstraint(
            ["page_id"], ["upstream_pages.id"], name="fk_upstream_files_page_id_upstream_pages",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("page_id", "filename", name="uq_upstream_files_page_id_filename"),
    )  # fmt: skip
    op.create_index("ix_upstream_files_sha256", "upstream_files", ["sha256"])
    op.create_index("ix_upstream_files_artifact_id", "upstream_files", ["artifact_id"])
    op.create_table(
        "upstream_fetches",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("claimed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_upstream_fetches"),
    )


def downgrade() -> None:
    op.drop_table("upstream_fetches")
    op.drop_index("ix_upstream_files_artifact_id", "upstream_files")
    op.drop_index("ix_upstream_files_sha256", "upstream_files")
    op.drop_table("upstream_files")
    op.drop_table("upstream_pages")
    op.drop_table("upstream_merge_names")
    op.drop_table("upstream_settings")
