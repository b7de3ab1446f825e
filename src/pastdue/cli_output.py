"""How the CLI shows results to people: Rich tables, kept apart from the commands."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date

from rich.console import Console
from rich.table import Table

from pastdue.core.analytics import AGING_BUCKETS
from pastdue.core.money import Money
from pastdue.reports import Explanation
from pastdue.services import RunSummary
from pastdue.store.queries import InvoiceRow, NoticeRow


def print_run(out: Console, summary: RunSummary) -> None:
    title = f"Dunning run as of {summary.as_of.isoformat()}" + (" (dry run: nothing saved)" if summary.dry_run else "")
    out.print(f"[bold]{title}[/bold]")
    out.print(
        f"reviewed {summary.reviewed} invoices: {summary.actions} actions, "
        f"{summary.notices} notices, in {summary.elapsed_s:.2f} s"
    )
    table = Table("level", "open invoices")
    for level, count in summary.by_level.items():
        table.add_row(level, str(count))
    out.print(table)
    if summary.skipped:
        out.print("skipped: " + ", ".join(f"{reason} {n}" for reason, n in sorted(summary.skipped.items())))
    if summary.closed:
        out.print("closed: " + ", ".join(f"{reason} {n}" for reason, n in sorted(summary.closed.items())))
    if summary.holds_lapsed:
        out.print(f"{summary.holds_lapsed} hold(s) lapsed: their last day has passed")


def print_invoices(out: Console, rows: Iterable[InvoiceRow]) -> None:
    table = Table("number", "customer", "due on", "amount", "open", "level")
    for row in rows:
        table.add_row(
            row.number,
            row.customer_id,
            row.due_on.isoformat(),
            str(row.amount),
            str(row.open_amount),
            str(row.level),
        )
    out.print(table)


def print_notices(out: Console, rows: list[NoticeRow]) -> None:
    table = Table("id", "created", "customer", "channel", "level", "status", "to", "invoices", "note")
    for row in rows:
        table.add_row(
            row.id,
            row.created_on.isoformat(),
            row.customer_id,
            row.channel,
            str(row.level),
            row.status + (f" ({row.attempts} attempts)" if row.attempts > 1 else ""),
            row.contact or "",
            ", ".join(row.invoices),
            row.error or "",
        )
    out.print(table)
    out.print(f"{len(rows)} notice(s)")


_HEADER = ("seq", "at", "kind")


def print_explanation(out: Console, explanation: Explanation) -> None:
    inv = explanation.invoice
    out.print(
        f"[bold]{inv.number}[/bold] customer {inv.customer_id}, due {inv.due_on.isoformat()}, "
        f"amount {inv.amount}, open {inv.open_amount}, level {inv.level}",
        markup=True,
    )
    if not explanation.history:
        out.print("no decisions recorded yet")
    for event in explanation.history:
        if event["kind"] == "decision":
            policy = f"{event['policy']} v{event['policy_version']}" if event.get("policy") else "no policy"
            out.print(
                f"{event['as_of']}  {event['act']:<7} {event['reason']:<14} {event['detail']}  [{policy}]",
                markup=False,
            )
        elif event["kind"] == "delivery":
            reason = event.get("reason") or event.get("contact") or ""
            out.print(
                f"{event['at'][:10]}  {'notice':<7} {event['channel']} level {event['level']}: {event['outcome']}"
                + (f" ({reason})" if reason else ""),
                markup=False,
            )
        else:
            details = json.dumps({k: v for k, v in event.items() if k not in _HEADER})
            out.print(
                f"{event['at'][:10]}  {event['kind']:<7} {details}",
                markup=False,
            )
    if explanation.preview is not None:
        d = explanation.preview
        out.print(
            f"would decide: {d.act.value} {d.reason.value}: {d.detail}  [{explanation.preview_policy}]",
            markup=False,
        )


def print_aging(out: Console, report: dict[str, dict[str, Money]], as_of: date, fmt: str) -> None:
    if fmt == "json":
        data = {
            "as_of": as_of.isoformat(),
            "currencies": {cur: {b: str(m.amount) for b, m in buckets.items()} for cur, buckets in report.items()},
        }
        print(json.dumps(data, indent=1))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["currency", *AGING_BUCKETS, "total"])
        for currency, buckets in report.items():
            total = sum((m.amount for m in buckets.values()), start=Money.zero(currency).amount)
            writer.writerow([currency, *(str(buckets[b].amount) for b in AGING_BUCKETS), str(total)])
        print(buffer.getvalue(), end="")
        return
    table = Table("currency", *AGING_BUCKETS, "total", title=f"Aging as of {as_of.isoformat()}")
    for currency, buckets in report.items():
        total = sum((m.amount for m in buckets.values()), start=Money.zero(currency).amount)
        table.add_row(currency, *(f"{buckets[b].amount:,}" for b in AGING_BUCKETS), f"{total:,}")
    out.print(table)
