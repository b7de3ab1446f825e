"""Money in: receipts and their allocations, payer accounts, provider events, sync cursors.

Revision ID: 20261126_0003
Revises: 20261126_0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261126_0003"
down_revision = "20261126_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("receipt_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_payments_tenant_id_receipt_id", ["tenant_id", "receipt_id"], unique=False)
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("ended", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("receipt_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_holds_tenant_id_receipt_id", ["tenant_id", "receipt_id"], unique=False)
    op.create_table(
        "receipts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_key", sa.String(length=300), server_default="", nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), server_default="", nullable=False),
        sa.Column("payer_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("payer_iban", sa.String(length=34), server_default="", nullable=False),
        sa.Column("remittance", sa.Text(), server_default="", nullable=False),
        sa.Column("end_to_end_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("candidates", sa.Text(), server_default="[]", nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_receipts_tenant_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_receipts")),
    )
    op.create_index("ix_receipts_tenant_id_status", "receipts", ["tenant_id", "status"], unique=False)
    op.create_index("ix_receipts_tenant_id_customer_id", "receipts", ["tenant_id", "customer_id"], unique=False)
    op.create_index("ix_receipts_tenant_id_end_to_end_id", "receipts", ["tenant_id", "end_to_end_id"], unique=False)
    op.create_table(
        "payer_accounts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("learned_at", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_payer_accounts_tenant_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "iban", "customer_id", name=op.f("pk_payer_accounts")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("payment", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_webhook_events")),
    )
    op.create_table(
        "sync_state",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "source", name=op.f("pk_sync_state")),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_table("webhook_events")
    op.drop_table("payer_accounts")
    op.drop_index("ix_receipts_tenant_id_end_to_end_id", table_name="receipts")
    op.drop_index("ix_receipts_tenant_id_customer_id", table_name="receipts")
    op.drop_index("ix_receipts_tenant_id_status", table_name="receipts")
    op.drop_table("receipts")
    with op.batch_alter_table("holds") as batch:
        batch.drop_index("ix_holds_tenant_id_receipt_id")
        batch.drop_column("receipt_id")
        batch.drop_column("ended")
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_tenant_id_receipt_id")
        batch.drop_column("receipt_id")
