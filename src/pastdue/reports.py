"""Read-only reports: aging and the explanation of one invoice's dunning."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pastdue.bootstrap import App
from pastdue.core.analytics import aging
from pastdue.core.engine import Decision, decide
from pastdue.core.money import Money
from pastdue.core.policy import choose_policy
from pastdue.services import calendar_for_policy
from pastdue.store import audit, dunning, holds, policies, queries


def aging_report(app: App, as_of: date) -> dict[str, dict[str, Money]]:
    """Open balance per currency in the buckets not yet due / 1-30 / 31-60 / 61-90 / over 90."""
    with app.engine.connect() as connection:
        return aging(queries.open_balances(connection, app.tenant), as_of)


@dataclass
class Explanation:
    invoice: queries.InvoiceRow
    history: list[dict[str, Any]] = field(default_factory=list)
    preview: Decision | None = None
    preview_policy: str | None = None


def explain(app: App, number: str, as_of: date | None = None) -> Explanation:
    """Every decision recorded for one invoice and, with ``as_of``, what a run would decide then."""
    with app.engine.connect() as connection:
        invoice_id, customer_id = holds.invoice_by_number(connection, app.tenant, number)
        # Read to the end: an abandoned generator leaves PostgreSQL's server-side cursor open.
        (row,) = queries.list_invoices(connection, app.tenant, number=number)
        result = Explanation(row)
        # The notices that carried this invoice: their deliveries belong to its story.
        notice_ids = queries.notices_of_invoice(connection, app.tenant, invoice_id)
        for event in audit.events_for(connection, app.tenant, [invoice_id, customer_id, *notice_ids]):
            payload = json.loads(event.payload)
            if event.kind != "decision":
                if event.subject == invoice_id or event.subject in notice_ids:
                    result.history.append({"seq": event.seq, "at": event.at, "kind": event.kind, **payload})
                continue
            if as_of is not None and payload["as_of"] > as_of.isoformat():
                continue
            for row in payload["decisions"]:
                # Rows of ``fields``; events written before that format hold one dict each.
                entry = dict(zip(payload["fields"], row, strict=True)) if isinstance(row, list) else row
                if entry["invoice_id"] == invoice_id:
                    result.history.append(
                        {
                            "seq": event.seq,
                            "at": event.at,
                            "kind": "decision",
                            "as_of": payload["as_of"],
                            "policy": payload["policy"],
                            "policy_version": payload["policy_version"],
                            **entry,
                        }
                    )
        if as_of is not None:
            known, default = policies.latest_policies(connection, app.tenant)
            cases = dunning.load_batch(connection, app.tenant, [customer_id], as_of, invoice_id)
            case = next((c for c in cases), None)
            policy = choose_policy(case.customer.policy, known, default) if case else None
            if case is not None and policy is not None:
                outcome = decide(
                    policy,
                    case.customer,
                    case.state,
                    case.invoices,
                    as_of,
                    calendar_for_policy(policy, as_of),
                )
                result.preview = outcome.decisions[0] if outcome.decisions else None
                result.preview_policy = f"{policy.name} v{policy.version}"
        return result
