"""Delivery: the outbox columns on notices, contact flags and the tenant profile.

Revision ID: 20261126_0002
Revises: 20261126_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from alembic import op

revision = "20261126_0002"
down_revision = "20261126_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("profile", sa.Text(), server_default="{}", nullable=False))
    connection = op.get_bind()
    for (tenant,) in connection.execute(sa.text("SELECT tenant_id FROM tenants")).all():
        connection.execute(
            sa.text("UPDATE tenants SET profile = :profile WHERE tenant_id = :tenant"),
            {"tenant": tenant, "profile": json.dumps({"link_secret": secrets.token_urlsafe(32)})},
        )
    with op.batch_alter_table("notices") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.String(length=12),
            type_=sa.String(length=20),
            existing_nullable=False,
            existing_server_default="pending",
        )
        batch.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_at", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("contact", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("provider_id", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("resends", sa.Integer(), server_default="0", nullable=False))
        batch.create_index("ix_notices_tenant_id_status_due_at", ["tenant_id", "status", "due_at"], unique=False)
        batch.create_index(
            "ix_notices_tenant_id_customer_id_sent_at", ["tenant_id", "customer_id", "sent_at"], unique=False
        )
    op.create_table(
        "contact_flags",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("flag", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "channel", "address", name=op.f("pk_contact_flags")),
    )


def downgrade() -> None:
    op.drop_table("contact_flags")
    with op.batch_alter_table("notices") as batch:
        batch.drop_index("ix_notices_tenant_id_customer_id_sent_at")
        batch.drop_index("ix_notices_tenant_id_status_due_at")
        for column in ("resends", "error", "provider_id", "contact", "attempts", "lease_owner", "due_at", "deadline"):
            batch.drop_column(column)
        batch.alter_column(
            "status",
            existing_type=sa.String(length=20),
            type_=sa.String(length=12),
            existing_nullable=False,
            existing_server_default="pending",
        )
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("profile")
