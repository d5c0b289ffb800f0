"""Ids that are never reused, and the table of failed logins.

SQLite gives a new row the largest rowid plus one, so deleting the newest user handed
their id to the next user created: anything still holding the old id (a cached
credential, a row a foreign key missed) then pointed at someone else. ``AUTOINCREMENT``
never hands out an id twice. SQLite cannot add it to a table, so the tables whose ids
name something a caller holds (users, API keys, projects, packages) are rebuilt;
PostgreSQL's sequences never reuse a value and need nothing. Rebuilding drops the old
table, which with foreign keys enforced would cascade into every table that refers to
it: ``adapters.migrations.upgrade`` runs SQLite migrations with enforcement off (SQLite's
own procedure for altering a table) and checks every key before it commits. An id freed
above the largest one left before this revision may still be given out once more: SQLite
kept no record of it.

``login_failures`` counts failed password attempts per throttling key (a hash of the
username and the client address, or of the address alone), shared by every worker and
instance.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
NEVER_REUSED = ("users", "api_keys", "projects", "packages")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _require_foreign_keys_off(bind)
        for table in NEVER_REUSED:
            _rebuild(table, autoincrement=True)
    op.create_table(
        "login_failures",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TZ, nullable=False),
        sa.Column("blocked_until", TZ, nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_last_failure_at", "login_failures", ["last_failure_at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _require_foreign_keys_off(bind)
        for table in NEVER_REUSED:
            _rebuild(table, autoincrement=False)


def _rebuild(table: str, *, autoincrement: bool) -> None:
    with op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def _require_foreign_keys_off(bind: sa.Connection) -> None:
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "Revision 0004 rebuilds tables and would cascade deletes with SQLite foreign "
            "keys enforced: run it through 'orchard migrate' (adapters.migrations.upgrade)."
        )
