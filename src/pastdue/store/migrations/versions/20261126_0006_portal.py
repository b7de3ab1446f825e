"""Portal: payment-plan requests customers file for the team to decide.

Revision ID: 20261126_0006
Revises: 20261126_0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261126_0006"
down_revision = "20261126_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_plan_requests",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_payment_plan_requests_tenant_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payment_plan_requests")),
    )
    op.create_index(
        op.f("ix_payment_plan_requests_tenant_id_customer_id"),
        "payment_plan_requests",
        ["tenant_id", "customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_plan_requests_tenant_id_customer_id"), table_name="payment_plan_requests")
    op.drop_table("payment_plan_requests")
