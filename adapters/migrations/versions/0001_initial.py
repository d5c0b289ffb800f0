"""The initial schema: every table of adapters/tables.py.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    _accounts_and_projects()
    _content()
    _references()


def _accounts_and_projects() -> None:
    op.create_table(
        "projects",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("allow_overwrite", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=True),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(512), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_index("ix_api_keys_key_hash", "api_keys", ["key_hash"], unique=True)
    op.create_table(
        "memberships",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_memberships_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("project_id", "user_id", name="uq_memberships_project_id_user_id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "packages",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=True),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_packages_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("project_id", "name", name="uq_packages_project_id_name"),
    )
    op.create_index("ix_packages_project_id", "packages", ["project_id"])


def _content() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("sha1", sa.String(40), nullable=False),
        sa.Column("blake2b_256", sa.String(64), nullable=False),
        sa.Column("ref_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("released_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.CheckConstraint("ref_count >= 0", name="ck_artifacts_ref_count_not_negative"),
    )
    op.create_index("ix_artifacts_ref_count_released_at", "artifacts", ["ref_count", "released_at"])
    op.create_table(
        "uploads",
        _id(),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.String(64), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("uploader", sa.String(255), nullable=True),
        sa.Column("tag", sa.String(128), nullable=True),
        sa.Column("version", sa.String(128), nullable=True),
        sa.Column("version_source", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name="fk_uploads_package_id_packages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_uploads_artifact_id_artifacts"
        ),
    )
    op.create_index("ix_uploads_package_id", "uploads", ["package_id"])
    op.create_index("ix_uploads_artifact_id", "uploads", ["artifact_id"])
    op.create_table(
        "distributions",
        _id(),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("artifact_id", sa.String(64), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("packagetype", sa.String(32), nullable=False),
        sa.Column("requires_python", sa.String(255), nullable=True),
        sa.Column("core_metadata", sa.LargeBinary(), nullable=True),
        sa.Column("yanked", sa.Boolean(), nullable=False),
        sa.Column("yanked_reason", sa.Text(), nullable=True),
        sa.Column("deleted_at", TZ, nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_distributions"),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name="fk_distributions_package_id_packages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name="fk_distributions_upload_id_uploads",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("package_id", "filename", name="uq_distributions_package_id_filename"),
    )
    op.create_index("ix_distributions_artifact_id", "distributions", ["artifact_id"])


def _references() -> None:
    for table, name_column, length in (("tags", "name", 128), ("versions", "version", 128)):
        extra = (
            [
                sa.Column("created_at", TZ, nullable=False),
                sa.Column("updated_at", TZ, nullable=False),
            ]
            if table == "tags"
            else [
                sa.Column("version_source", sa.String(16), nullable=False),
                sa.Column("created_at", TZ, nullable=False),
            ]
        )
        op.create_table(
            table,
            _id(),
            sa.Column("package_id", sa.Integer(), nullable=False),
            sa.Column(name_column, sa.String(length), nullable=False),
            sa.Column("artifact_id", sa.String(64), nullable=False),
            *extra,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["package_id"],
                ["packages.id"],
                name=f"fk_{table}_package_id_packages",
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["artifact_id"], ["artifacts.id"], name=f"fk_{table}_artifact_id_artifacts"
            ),
            sa.UniqueConstraint(
                "package_id", name_column, name=f"uq_{table}_package_id_{name_column}"
            ),
        )
        op.create_index(f"ix_{table}_artifact_id", table, ["artifact_id"])
    op.create_table(
        "tag_history",
        _id(),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("tag_name", sa.String(128), nullable=False),
        sa.Column("old_artifact_id", sa.String(64), nullable=True),
        sa.Column("new_artifact_id", sa.String(64), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.Column("changed_by", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tag_history"),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name="fk_tag_history_package_id_packages",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_tag_history_package_id_tag_name", "tag_history", ["package_id", "tag_name"])


def downgrade() -> None:
    for table in (
        "tag_history",
        "versions",
        "tags",
        "distributions",
        "uploads",
        "artifacts",
        "packages",
        "memberships",
        "api_keys",
        "users",
        "projects",
    ):
        op.drop_table(table)
