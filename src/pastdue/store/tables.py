"""The schema, as SQLAlchemy Core tables.

``tenant_id`` leads every primary key, unique key and index, so that one tenant's rows are
contiguous and the schema can be distributed by tenant without change. Money is integer
minor units beside its ISO 4217 currency. The dunning state of an invoice (level,
reached_on, next_review_on, closed_on) lives on the invoice row so that the daily run reads
one indexed range; only the run writes those columns.

The Alembic migrations create exactly these tables; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)
OPEN = "amount_minor - paid_minor - credited_minor > 0"
TENANT = String(64)

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("default_policy", String(100)),
    Column("created_at", String(40), nullable=False),
    # JSON: how the tenant presents itself on notices, its send windows and link secret.
    Column("profile", Text, nullable=False, server_default="{}"),
)

policies = Table(
    "policies",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("body", Text, nullable=False),  # canonical JSON of the policy
    Column("digest", String(64), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False, server_default=""),
    Column("phone", String(32), nullable=False, server_default=""),
    Column("country", String(2), nullable=False, server_default=""),
    Column("language", String(8), nullable=False, server_default="en"),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("street", String(200), nullable=False, server_default=""),
    Column("postal_code", String(20), nullable=False, server_default=""),
    Column("city", String(100), nullable=False, server_default=""),
    Column("kind", String(10), nullable=False, server_default="business"),
    Column("policy", String(100)),
    Column("exempt", Boolean, nullable=False, server_default=false()),
    Column("last_notice_on", Date),
)

invoices = Table(
    "invoices",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("number", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("credited_minor", BigInteger, nullable=False, server_default="0"),
    # dunning state, written by the run only
    Column("level", Integer, nullable=False, server_default="0"),
    Column("reached_on", Date),
    Column("next_review_on", Date),
    Column("closed_on", Date),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    UniqueConstraint("tenant_id", "number"),
    Index(None, "tenant_id", "customer_id"),
    # Covering: the run finds who is due from this index alone.
    Index(None, "tenant_id", "next_review_on", "customer_id"),
    # Open invoices per level, counted after every run without reading the whole ledger.
    Index(
        "ix_invoices_open_level",
        "tenant_id",
        "level",
        sqlite_where=text(OPEN),
        postgresql_where=text(OPEN),
    ),
)

payments = Table(
    "payments",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("invoice_id", ID),
    Column("customer_id", ID),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("reference", String(200), nullable=False, server_default=""),
    Column("kind", String(10), nullable=False, server_default="payment"),
    # The money in (a receipt) this allocation came from; NULL for rows of the CSV ledger.
    Column("receipt_id", ID),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "invoice_id"),
    Index(None, "tenant_id", "receipt_id"),
)

# Money in as it arrived: a payment recorded by hand, a bank statement credit, a payment
# provider's payment, a connector's payment. What it pays is written as allocation rows in
# ``payments`` (``receipt_id`` set), so that invoice balances have one source; what is not
# allocated (amount less allocations) is the customer's unapplied cash.
receipts = Table(
    "receipts",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("source", String(12), nullable=False),  # manual | statement | provider | sync
    # What identifies it where it came from: the statement line key or the provider's id.
    Column("source_key", String(300), nullable=False, server_default=""),
    Column("customer_id", ID),  # NULL until a person or a rule knows who paid
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("reference", String(200), nullable=False, server_default=""),
    Column("payer_name", String(200), nullable=False, server_default=""),
    Column("payer_iban", String(34), nullable=False, server_default=""),
    Column("remittance", Text, nullable=False, server_default=""),
    Column("end_to_end_id", String(64), nullable=False, server_default=""),
    # applied | ambiguous | unmatched | rejected | reversed | pending | failed
    Column("status", String(12), nullable=False),
    Column("rule", String(20)),
    Column("confidence", Integer),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("candidates", Text, nullable=False, server_default="[]"),  # JSON, for a person
    Column("created_at", String(40), nullable=False),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "status"),
    Index(None, "tenant_id", "customer_id"),
    Index(None, "tenant_id", "end_to_end_id"),
)

# Which bank accounts pay for which customer, learned from matches people confirmed.
payer_accounts = Table(
    "payer_accounts",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("iban", String(34), primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("learned_at", String(40), nullable=False),
    Column("source", String(20), nullable=False),  # matched | confirmed | manual
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
)

# Payment-provider events already handled, so that a retried or replayed event does nothing.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(255), primary_key=True),
    Column("type", String(60), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("payment", String(255), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("outcome", String(300), nullable=False),
)

# How far an accounting connector has read, so that an interrupted sync resumes.
sync_state = Table(
    "sync_state",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("source", String(50), primary_key=True),
    Column("cursor", Text),
    Column("updated_at", String(40), nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("invoice_id", ID),  # NULL: the hold covers the whole customer
    Column("reason", String(20), nullable=False),
    Column("note", String(500), nullable=False, server_default=""),
    Column("until", Date),
    Column("created_at", String(40), nullable=False),
    Column("released_at", String(40)),
    # How it ended: released (by a person), lapsed (its end passed), settled or failed (the
    # money in flight arrived or did not). NULL while it runs.
    Column("ended", String(10)),
    Column("receipt_id", ID),  # the money in flight a payment_in_flight hold waits for
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
    Index(None, "tenant_id", "customer_id"),
    Index(None, "tenant_id", "receipt_id"),
)

# One row per level ever applied to an invoice: the primary key makes a level unrepeatable.
dunning_actions = Table(
    "dunning_actions",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("invoice_id", ID, primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("applied_on", Date, nullable=False),
    Column("notice_id", String(36)),
    Column("policy_name", String(100), nullable=False),
    Column("policy_version", Integer, nullable=False),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
)

notices = Table(
    "notices",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("level", Integer, nullable=False),  # the highest level among its invoices
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("created_on", Date, nullable=False),
    Column("policy_name", String(100), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("message_id", String(200)),
    Column("sent_at", String(40)),
    # What the notice is about: JSON [[invoice id, invoice number, level], ...]. A notice is
    # written once and read whole, so its items travel with it.
    Column("items", Text, nullable=False),
    # The delivery (transactional outbox): written by the run in the notice's transaction,
    # then moved along by the delivery queue. ``due_at`` is when the row may next be
    # claimed; while it is claimed or sending, it is the lease's expiry. Times are UTC ISO
    # strings of one fixed shape, so that they compare as text.
    Column("deadline", Date),
    Column("due_at", String(40)),
    Column("lease_owner", String(64)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("contact", String(254)),
    Column("provider_id", String(300)),
    Column("error", String(500)),
    Column("resends", Integer, nullable=False, server_default="0"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    UniqueConstraint("tenant_id", "customer_id", "channel", "created_on"),
    Index(None, "tenant_id", "created_on"),
    Index(None, "tenant_id", "status", "due_at"),
    Index(None, "tenant_id", "customer_id", "sent_at"),
)

# What is known about one address: consent given, opted out, or bad (bounced, invalid).
contact_flags = Table(
    "contact_flags",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("channel", String(10), primary_key=True),
    Column("address", String(254), primary_key=True),
    Column("flag", String(10), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("at", String(40), nullable=False),
)


audit_events = Table(
    "audit_events",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO 8601 with offset
    Column("kind", String(20), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("subject", String(100)),  # the invoice id for decisions, else the record's key
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "tenant_id", "subject"),
)

# The newest event of each tenant's chain; locked while events are appended.
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# People who log in to the dashboard. The e-mail address is stored lower-case, so that the
# unique key compares addresses the way people do; the password only as an argon2id hash.
users = Table(
    "users",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("role", String(10), nullable=False),  # admin | collector | viewer
    Column("password_hash", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("disabled_at", String(40)),
    UniqueConstraint("tenant_id", "email"),
)

# Keys integrators send as ``Authorization: Bearer``. The id is the public part of the key;
# only a SHA-256 of the whole key is kept, so the database never holds a usable secret.
api_keys = Table(
    "api_keys",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(32), primary_key=True),  # pd_live_XXXXXXXX
    Column("name", String(100), nullable=False, server_default=""),
    Column("scopes", String(40), nullable=False),  # space-separated: read write admin
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("last_used_at", String(40)),  # written at most once a minute per key
    Column("revoked_at", String(40)),
)

# One row per portal link handed out: the link carries a signed token naming its row, so a
# link can be revoked, and expires however it was signed.
portal_tokens = Table(
    "portal_tokens",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

# What customers asked for in the portal that a person decides: payment plans, for now.
# ``status`` starts ``open``; the team sets ``accepted`` or ``declined`` and builds the plan.
payment_plan_requests = Table(
    "payment_plan_requests",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("instalments", Integer, nullable=False),
    Column("note", String(1000), nullable=False, server_default=""),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("created_at", String(40), nullable=False),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

# POST requests of the REST API that carried an ``Idempotency-Key``: what was asked (a hash
# of method, path and body) and what was answered, so that a retry gets the first answer
# and never does the work twice. ``status`` is NULL while the first request is running.
# Rows older than a day are ignored and deleted.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("content_type", String(100)),
    Column("body", Text),
    Column("created_at", String(40), nullable=False),
    Index(None, "tenant_id", "created_at"),
)

# Dunning runs requested through the REST API: queued, then run in the background by the
# server that accepted them, one at a time per tenant. ``seq`` numbers a tenant's runs in
# the order they were asked for (the order they run and are listed in); ``summary`` is
# the run's JSON result (``pastdue run --json``) once it succeeded, ``error`` why it failed.
runs = Table(
    "runs",
    metadata,
    Column("tenant_id", TENANT, primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("dry_run", Boolean, nullable=False, server_default=false()),
    Column("status", String(10), nullable=False, server_default="queued"),  # queued|running|succeeded|failed
    Column("requested_by", String(100), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("started_at", String(40)),
    Column("finished_at", String(40)),
    Column("summary", Text),
    Column("error", String(1000)),
    UniqueConstraint("tenant_id", "seq"),
    Index(None, "tenant_id", "status", "seq"),
)
