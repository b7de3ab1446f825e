"""Commands for money in: recording, applying and reversing payments, money in flight, and
the queue of bank credits that wait for a person (``pastdue matches``).

Statement parsing pulls in lxml and the MT940 reader, so the services are imported inside
the commands: other commands do not pay for them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pastdue.cli import Json, _parse_date, _ready, app, handled, out
from pastdue.core.money import Money, is_currency, parse_amount

if TYPE_CHECKING:
    from pastdue.services.statements import StatementImport
    from pastdue.store.receipts import Receipt

payments_app = typer.Typer(help="Payments received: unapplied cash, applying it, reversals.", no_args_is_help=True)
matches_app = typer.Typer(help="Bank credits that wait for a person to say what they pay.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")
app.add_typer(matches_app, name="matches")

Invoices = Annotated[list[str] | None, typer.Option("--invoice", help="Invoice number it pays (repeatable).")]


def _money(amount: str, currency: str) -> Money:
    """Amounts typed by a person obey the ledger's rule (``parse_amount``): a plain decimal,
    no exponent or separators, no more decimals than the currency has."""
    code = currency.upper()
    if not is_currency(code):
        raise typer.BadParameter(f"{currency!r} is not an ISO 4217 currency code")
    try:
        return parse_amount(amount, code)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def import_statements(ctx: typer.Context, paths: list[Path], as_json: bool) -> list[StatementImport]:
    """Import each statement file (each all or nothing); used by ``pastdue import``."""
    from pastdue.services.statements import import_statement

    results = []
    for path in paths:
        summary = import_statement(_ready(ctx), path)
        results.append(summary)
        if as_json:
            continue
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(summary.by_rule.items()))
        allocated = ", ".join(str(m) for m in summary.allocated.values()) or "nothing"
        out.print(
            f"{summary.file} ({summary.format}): {summary.lines} lines, {summary.known} known before; "
            f"{summary.credits} new credits: {summary.matched} matched" + (f" ({rules})" if rules else "") + ", "
            f"{summary.ambiguous} ambiguous, {summary.unmatched} unmatched; {summary.reversed} reversed; "
            f"allocated {allocated}; {summary.cancelled_notices} queued notices cancelled",
            markup=False,
        )
    return results


def statement_paths(paths: list[Path]) -> list[Path]:
    """The files among ``paths`` whose content is a bank statement."""
    from pastdue.importers.statements import statement_format

    return [p for p in paths if p.is_file() and statement_format(p) is not None]


# --- payments ------------------------------------------------------------------------------------


@app.command()
@handled
def pay(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="Amount received, e.g. 1250.00.")],
    currency: Annotated[str, typer.Argument(help="ISO 4217 currency code.")],
    customer: Annotated[str | None, typer.Option("--customer", help="Who paid (else the invoices' customer).")] = None,
    invoice: Invoices = None,
    on: Annotated[str | None, typer.Option("--on", help="Day received (YYYY-MM-DD); default today.")] = None,
    reference: Annotated[str, typer.Option("--reference")] = "",
    external_id: Annotated[
        str, typer.Option("--id", help="The payment's id where it came from: recording it twice changes nothing.")
    ] = "",
    as_json: Json = False,
) -> None:
    """Record a payment and allocate it (named invoices, else oldest due first); the rest
    stays on the customer as unapplied cash."""
    from pastdue.services.payments import record_payment

    result = record_payment(
        _ready(ctx),
        amount=_money(amount, currency),
        received_on=_parse_date(on) or date.today(),
        customer_id=customer,
        invoice_numbers=invoice or [],
        reference=reference,
        source_key=external_id,
        actor="person",
    )
    if as_json:
        print(json.dumps(result.as_json(), indent=1))
        return
    if result.duplicate:
        out.print(f"payment {result.receipt_id} was recorded before; nothing changed", markup=False)
    for number, paid in result.allocations:
        out.print(f"{number}: {paid}", markup=False)
    out.print(f"payment {result.receipt_id} from {result.customer_id}: unapplied {result.unapplied}", markup=False)
    if result.cancelled_notices:
        out.print(f"{len(result.cancelled_notices)} queued notice(s) cancelled: nothing left to ask for")


def _receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "source": receipt.source,
        "customer_id": receipt.customer_id,
        "amount": str(receipt.amount.amount),
        "currency": receipt.amount.currency,
        "received_on": receipt.received_on.isoformat(),
        "allocated": str(receipt.allocated.amount),
        "unapplied": str(receipt.unapplied.amount),
        "status": receipt.status,
        "rule": receipt.rule,
        "confidence": receipt.confidence,
        "reason": receipt.reason,
        "payer_name": receipt.payer_name,
        "payer_iban": receipt.payer_iban,
        "remittance": receipt.remittance,
        "candidates": receipt.candidates,
    }


@payments_app.command("list")
@handled
def payments_list(
    ctx: typer.Context,
    unapplied: Annotated[bool, typer.Option("--unapplied", help="Only payments with unapplied cash.")] = False,
    customer: Annotated[str | None, typer.Option("--customer")] = None,
    as_json: Json = False,
) -> None:
    """Payments received and applied, with what is still unapplied (customer credit)."""
    from pastdue.services.payments import list_payments

    rows = list_payments(_ready(ctx), unapplied_only=unapplied, customer_id=customer)
    if as_json:
        print(json.dumps([_receipt_json(r) for r in rows], indent=1))
        return
    for r in rows:
        out.print(
            f"{r.id}  {r.received_on}  {r.customer_id}  {r.amount}  allocated {r.allocated}  "
            f"unapplied {r.unapplied}  {r.source}/{r.rule or '-'}",
            markup=False,
        )
    out.print(f"{len(rows)} payment(s)")


@payments_app.command("apply")
@handled
def payments_apply(ctx: typer.Context, receipt_id: str, invoice: Invoices = None, as_json: Json = False) -> None:
    """Allocate a payment's unapplied cash: to the named invoices, else oldest due first."""
    from pastdue.services.payments import apply_unapplied

    result = apply_unapplied(_ready(ctx), receipt_id, invoice or [])
    if as_json:
        print(json.dumps(result.as_json(), indent=1))
        return
    for number, paid in result.allocations:
        out.print(f"{number}: {paid}", markup=False)
    if not result.allocations:
        out.print("nothing applied: no open invoice takes it", markup=False)
    out.print(f"payment {receipt_id}: unapplied {result.unapplied}", markup=False)


@payments_app.command("reverse")
@handled
def payments_reverse(
    ctx: typer.Context,
    receipt_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Returned direct debit, chargeback, ...")],
) -> None:
    """The money came back: what it paid is open again and dunning resumes where it left off."""
    from pastdue.services.payments import reverse_payment

    result = reverse_payment(_ready(ctx), receipt_id, reason=reason)
    for number, amount in result.reopened:
        out.print(f"{number}: {amount} open again", markup=False)
    out.print(f"payment {receipt_id} reversed")


@payments_app.command("in-flight")
@handled
def payments_in_flight(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Who is paying.")],
    amount: Annotated[str, typer.Argument()],
    currency: Annotated[str, typer.Argument()],
    until: Annotated[str, typer.Option("--until", help="Last day to wait (YYYY-MM-DD); then the hold lapses.")],
    invoice: Invoices = None,
    note: Annotated[str, typer.Option("--note", help="Direct debit pending, remittance advice, ...")] = "",
) -> None:
    """Money on its way: no notice for the invoices it covers until it arrives or ``--until``."""
    from pastdue.services.payments import hold_money_in_flight

    last_day = _parse_date(until)
    assert last_day is not None
    ids = hold_money_in_flight(
        _ready(ctx),
        customer_id=customer,
        amount=_money(amount, currency),
        until=last_day,
        invoice_numbers=invoice or [],
        note=note,
        actor="person",
    )
    out.print(f"{len(ids)} invoice(s) on hold until {last_day.isoformat()}: {', '.join(ids)}", markup=False)


# --- the matching queue -----------------------------------------------------------------------------


@matches_app.command("list")
@handled
def matches_list(
    ctx: typer.Context,
    rejected: Annotated[bool, typer.Option("--rejected", help="Also list rejected credits.")] = False,
    as_json: Json = False,
) -> None:
    """Ambiguous and unmatched bank credits, with their candidates and why matching stopped."""
    from pastdue.services.statements import list_matches

    rows = list_matches(_ready(ctx), include_rejected=rejected)
    if as_json:
        print(json.dumps([_receipt_json(r) for r in rows], indent=1))
        return
    for r in rows:
        payer = " ".join(p for p in (r.payer_name, r.payer_iban) if p) or "unknown payer"
        out.print(f"{r.id}  {r.status}  {r.received_on}  {r.amount}  {payer}", markup=False)
        out.print(f"    remittance: {r.remittance or '-'}", markup=False)
        out.print(f"    why: {r.reason}", markup=False)
        for c in r.candidates:
            invoices = ", ".join(f"{n} ({o})" for n, o in zip(c["invoices"], c["open"], strict=False))
            out.print(f"    candidate: {invoices} of {', '.join(c['customers'])}: {c['reason']}", markup=False)
    out.print(f"{len(rows)} credit(s) waiting")


@matches_app.command("confirm")
@handled
def matches_confirm(
    ctx: typer.Context,
    receipt_id: str,
    invoice: Invoices = None,
    customer: Annotated[str | None, typer.Option("--customer", help="The payer (allocate oldest due first).")] = None,
) -> None:
    """Say what a credit pays (default: its only candidate); the payer's account is learned."""
    from pastdue.services.statements import confirm_match

    result = confirm_match(_ready(ctx), receipt_id, invoice_numbers=invoice or [], customer_id=customer)
    for number, paid in result.allocations:
        out.print(f"{number}: {paid}", markup=False)
    out.print(f"credit {receipt_id} applied for {result.customer_id}; unapplied {result.unapplied}", markup=False)


@matches_app.command("reject")
@handled
def matches_reject(
    ctx: typer.Context,
    receipt_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why it pays nothing (refund due, not ours, ...).")],
) -> None:
    """Take a credit out of the queue: it pays no invoice."""
    from pastdue.services.statements import reject_match

    reject_match(_ready(ctx), receipt_id, reason=reason)
    out.print(f"credit {receipt_id} rejected")
