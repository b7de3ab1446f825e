"""Initial schema: ledger, policies, dunning state, notices and the audit chain.

Revision ID: 20261126_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261126_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_tenant_id_subject"),
        "audit_events",
        ["tenant_id", "subject"],
        unique=False,
    )
    op.create_table(
        "audit_heads",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=32), server_default="", nullable=False),
        sa.Column("country", sa.String(length=2), server_default="", nullable=False),
        sa.Column("language", sa.String(length=8), server_default="en", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("street", sa.String(length=200), server_default="", nullable=False),
        sa.Column("postal_code", sa.String(length=20), server_default="", nullable=False),
        sa.Column("city", sa.String(length=100), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=10), server_default="business", nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=True),
        sa.Column("exempt", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_notice_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_customers")),
    )
    op.create_table(
        "policies",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name", "version", name=op.f("pk_policies")),
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("default_policy", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "invoices",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_invoices_tenant_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_invoices_tenant_id_number")),
    )
    op.create_index(
        op.f("ix_invoices_tenant_id_customer_id"),
        "invoices",
        ["tenant_id", "customer_id"],
        unique=False,
    )
    op.create_index(
        "ix_invoices_open_level",
        "invoices",
        ["tenant_id", "level"],
        unique=False,
        sqlite_where=sa.text("amount_minor - paid_minor - credited_minor > 0"),
        postgresql_where=sa.text("amount_minor - paid_minor - credited_minor > 0"),
    )
    op.create_index(
        op.f("ix_invoices_tenant_id_next_review_on_customer_id"),
        "invoices",
        ["tenant_id", "next_review_on", "customer_id"],
        unique=False,
    )
    op.create_table(
        "notices",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("sent_at", sa.String(length=40), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_notices_tenant_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notices")),
        sa.UniqueConstraint(
            "tenant_id",
            "customer_id",
            "channel",
            "created_on",
            name=op.f("uq_notices_tenant_id_customer_id_channel_created_on"),
        ),
    )
    op.create_index(
        op.f("ix_notices_tenant_id_created_on"),
        "notices",
        ["tenant_id", "created_on"],
        unique=False,
    )
    op.create_table(
        "dunning_actions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=True),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_dunning_actions_tenant_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "invoice_id", "level", name=op.f("pk_dunning_actions")),
    )
    op.create_table(
        "holds",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("released_at", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_holds_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_holds_tenant_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_holds")),
    )
    op.create_index(op.f("ix_holds_tenant_id_customer_id"), "holds", ["tenant_id", "customer_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=10), server_default="payment", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_payments_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_payments_tenant_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payments")),
    )
    op.create_index(
        op.f("ix_payments_tenant_id_invoice_id"),
        "payments",
        ["tenant_id", "invoice_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_tenant_id_invoice_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_holds_tenant_id_customer_id"), table_name="holds")
    op.drop_table("holds")
    op.drop_table("dunning_actions")
    op.drop_index(op.f("ix_notices_tenant_id_created_on"), table_name="notices")
    op.drop_table("notices")
    op.drop_index(op.f("ix_invoices_tenant_id_next_review_on_customer_id"), table_name="invoices")
    op.drop_index("ix_invoices_open_level", table_name="invoices")
    op.drop_index(op.f("ix_invoices_tenant_id_customer_id"), table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("tenants")
    op.drop_table("policies")
    op.drop_table("customers")
    op.drop_table("audit_heads")
    op.drop_index(op.f("ix_audit_events_tenant_id_subject"), table_name="audit_events")
    op.drop_table("audit_events")
