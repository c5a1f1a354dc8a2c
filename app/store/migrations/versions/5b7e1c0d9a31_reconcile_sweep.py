"""reconcile sweep: when each tracked pull request was last compared with GitHub

Revision ID: 5b7e1c0d9a31
Revises: 00d4e20387dc
Create Date: 2026-12-01 22:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.store.types

revision = "5b7e1c0d9a31"
down_revision = "00d4e20387dc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trackedpullrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("swept_at", app.store.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trackedpullrequest", schema=None) as batch_op:
        batch_op.drop_column("swept_at")
