"""``pastdue demo``: a sample ledger, thirty days of dunning, and a summary a person can read.

The demo works in its own folder (a SQLite file and the generated CSV ledger) so it never
touches a real database. It runs the standard policy day by day over the last thirty
days, so the levels spread the way they do in a live book, not all at once.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pastdue import reports, services
from pastdue.bootstrap import App, build, delivery_channels, email_domain, renderer
from pastdue.cli_output import print_aging
from pastdue.core.matching import rf_reference
from pastdue.demo_ledger import write_sample_ledger
from pastdue.importers.camt_write import Booking, camt053
from pastdue.policies import standard_policy_toml
from pastdue.print_batch import build_print_batch
from pastdue.services.contacts import set_profile
from pastdue.services.delivery import Deliverer
from pastdue.services.portal_links import create_portal_link
from pastdue.services.statements import import_statement
from pastdue.services.users import add_user
from pastdue.settings import Settings

DAYS_OF_HISTORY = 30
DEMO_USER = "demo@demo-supplies.example"
DEMO_PASSWORD = "pastdue-demo-2026"  # a local demo database only: printed for the newcomer
ACCOUNT = "DE89370400440532013000"
DELIVERY_HOURS_UTC = (7, 13, 19)
DEMO_PROFILE = {
    "name": "Demo Supplies GmbH",
    "address": "Hafenstraße 12\n20457 Hamburg\nGermany",
    "email": "billing@demo-supplies.example",
    "phone": "+49 40 1234567",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "payment_url": "https://pay.demo-supplies.example",
}


def _frozen(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _count(folder: Path, pattern: str) -> int:
    return len(list(folder.glob(pattern))) if folder.exists() else 0


def write_bank_statement(app: App, folder: Path, today: date, seed: int = 7) -> Path:
    """This morning's camt.053: some overdue invoices paid, the way customers really write
    remittance texts (the number, sloppily, a structured reference, nothing useful)."""
    rng = random.Random(seed)
    overdue = [i for i in services.invoices(app, open_only=True) if i.due_on < today]
    paid = rng.sample(overdue, min(len(overdue), max(5, len(overdue) // 20)))
    bookings = []
    for n, invoice in enumerate(sorted(paid, key=lambda i: i.number)):
        style = n % 5
        text = {0: f"Rechnung {invoice.number}", 1: f"inv {invoice.number.replace('-', ' ').lower()} thanks"}
        bookings.append(
            Booking(
                invoice.open_amount,
                today,
                text.get(style, "Zahlung" if style == 4 else ""),
                f"Customer {invoice.customer_id}",
                end_to_end_id=f"E2E-{invoice.id}",
                structured_reference=rf_reference(invoice.number) if style == 2 else "",
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"statement-{today.isoformat()}.xml"
    currency = bookings[0].amount.currency if bookings else "EUR"
    path.write_bytes(camt053(bookings, account=ACCOUNT, statement_id=f"DEMO-{today.isoformat()}", currency=currency))
    return path


def run_demo(
    out: Console, folder: Path, invoices: int, today: date, base_url: str = "http://127.0.0.1:8000"
) -> App:
    """Build the demo and print what it did; returns the App, for ``pastdue demo`` to serve."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "pastdue.db"
    for stale in folder.glob("pastdue.db*"):
        stale.unlink()
    ledger = folder / "ledger"
    counts = write_sample_ledger(ledger, as_of=today, invoices=invoices)
    out.print(f"sample ledger in {ledger}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))

    outbox = folder / "outbox"
    if outbox.exists():
        shutil.rmtree(outbox)
    settings = Settings(
        database_url=f"sqlite:///{database}",
        tenant="demo",
        email_url=f"file://{(outbox / 'email').resolve()}",
        email_from="Demo Supplies GmbH <billing@demo-supplies.example>",
        sms_url=f"file://{(outbox / 'sms').resolve()}",
        letter_dir=str(outbox / "letters"),
        phone_dir=str(outbox / "phone"),
        base_url=base_url,
    )
    app = build(settings)
    services.init(app)
    services.import_ledger(app, [ledger])
    policy_file = folder / "standard.toml"
    policy_file.write_text(standard_policy_toml(), encoding="utf-8")
    services.apply_policy(app, policy_file, make_default=True)
    for key, value in DEMO_PROFILE.items():
        set_profile(app, key, value, actor="demo")

    deliverer = Deliverer(
        app,
        delivery_channels(settings),
        renderer(settings),
        email_domain=email_domain(settings),
        rng=random.Random(7),
    )
    delivered: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    letter_days: set[date] = set()
    statement = None
    try:
        for back in range(DAYS_OF_HISTORY, -1, -1):
            day = today - timedelta(days=back)
            if back == 0:  # the bank's statement arrives before the day's run
                statement = import_statement(app, write_bank_statement(app, folder / "bank", today))
            summary = services.run_dunning(app, day)
            # Three passes a day reach every time zone inside its 08:00-20:00 window.
            for hour in DELIVERY_HOURS_UTC:
                result = deliverer.deliver(_frozen(datetime.combine(day, time(hour), tzinfo=UTC)))
                delivered.update(result.sent)
                outcomes.update(result.outcomes)
                letter_days |= result.letter_days
    finally:
        for channel in deliverer.channels.values():
            channel.close()
    batches = [build_print_batch(Path(settings.letter_dir), day) for day in sorted(letter_days)]

    out.print(f"\n[bold]Dunning for {today.isoformat()}[/bold] (standard policy, {DAYS_OF_HISTORY} days of daily runs)")
    known, _ = services.list_policies(app)
    names = {str(level.number): level.name for level in known["standard"].levels}
    table = Table("level", "name", "open invoices")
    for level, count in summary.by_level.items():
        table.add_row(level, names.get(level, ""), str(count))
    out.print(table)

    every = services.notices(app)
    states = sorted({n.status for n in every})
    table = Table("channel", *states, title="Notices of the last thirty days, by delivery state")
    for name in sorted({n.channel for n in every}):
        counts = Counter(n.status for n in every if n.channel == name)
        table.add_row(name, *(str(counts[s]) for s in states))
    out.print(table)
    if statement is not None:
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(statement.by_rule.items()))
        out.print(
            f"bank statement {statement.file}: {statement.credits} credits, {statement.matched} matched ({rules}), "
            f"{statement.ambiguous + statement.unmatched} for a person (pastdue matches list), "
            f"{statement.cancelled_notices} queued notices cancelled",
            markup=False,
        )
    if summary.skipped:
        out.print("skipped today: " + ", ".join(f"{r} {n}" for r, n in sorted(summary.skipped.items())))
    if summary.closed:
        out.print("closed today: " + ", ".join(f"{r} {n}" for r, n in sorted(summary.closed.items())))

    print_aging(out, reports.aging_report(app, today), today, "table")
    events = services.verify_audit(app)
    out.print(f"audit chain intact: {events} events")
    out.print(f"\n[bold]Delivered into {outbox.resolve()}[/bold]")
    out.print(f"  e-mails (.eml):  {_count(outbox / 'email', '*.eml')}  in {outbox / 'email'}")
    letters = sum(b.letters for b in batches if b is not None)
    out.print(f"  letters (PDF):   {letters}  in {outbox / 'letters'}")
    for batch in batches:
        if batch is not None:
            size = f"{batch.letters} letter(s), {batch.pages} page(s)"
            out.print(f"  print batch:     {batch.pdf} ({size}) + {batch.manifest.name}")
    tasks = sorted((outbox / "phone").glob("*.json"))
    out.print(f"  phone tasks:     {len(tasks)}  in {outbox / 'phone'}")
    for task in tasks[:5]:
        data = json.loads(task.read_text(encoding="utf-8"))
        out.print(
            f"    call {data.get('customer_name', '')} on {data.get('number', '')}: {data.get('subject', '')}",
            markup=False,
        )
    waiting = outcomes.get("waiting", 0)
    if waiting:
        out.print(f"  ({waiting} deliveries waited for a send window in the customer's time zone)")
    out.print(f"\nExplore: pastdue --db sqlite:///{database} --tenant demo invoices --open")
    _welcome(out, app, today)
    return app


def _welcome(out: Console, app: App, today: date) -> None:
    """A dashboard user and a portal link, so that a newcomer can look around at once."""
    add_user(app, DEMO_USER, "Demo Collector", "admin", DEMO_PASSWORD, actor="demo")
    overdue = [i for i in services.invoices(app, open_only=True) if i.due_on < today]
    base = app.settings.base_url.rstrip("/")
    out.print(f"\n[bold]Dashboard[/bold] {base}/login  user {DEMO_USER}  password {DEMO_PASSWORD}", markup=True)
    if overdue:
        customer = max(overdue, key=lambda i: (i.level, i.open_amount.amount)).customer_id
        link = create_portal_link(app, customer, 30, actor="demo")
        out.print(f"[bold]Portal[/bold] of customer {customer}: {link}")
