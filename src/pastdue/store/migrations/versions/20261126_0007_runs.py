"""Runs: dunning runs requested through the REST API, with their status and result.

Revision ID: 20261126_0007
Revises: 20261126_0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261126_0007"
down_revision = "20261126_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.String(length=40), nullable=True),
        sa.Column("finished_at", sa.String(length=40), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_runs")),
        sa.UniqueConstraint("tenant_id", "seq", name=op.f("uq_runs_tenant_id_seq")),
    )
    op.create_index(op.f("ix_runs_tenant_id_status_seq"), "runs", ["tenant_id", "status", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_runs_tenant_id_status_seq"), table_name="runs")
    op.drop_table("runs")
