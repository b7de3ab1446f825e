"""``pastdue demo``: a sample ledger, thirty days of dunning, and a summary a person can read.

The demo works in its own folder (a SQLite file and the generated CSV ledger) so it never
touches a real database. It runs the standard policy day by day over the last thirty
days, so the levels spread the way they do in a live book, not all at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pastdue import reports, services
from pastdue.bootstrap import build
from pastdue.cli_output import print_aging
from pastdue.demo_ledger import write_sample_ledger
from pastdue.policies import standard_policy_toml
from pastdue.settings import Settings

DAYS_OF_HISTORY = 30


def run_demo(out: Console, folder: Path, invoices: int, today: date) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "pastdue.db"
    for stale in folder.glob("pastdue.db*"):
        stale.unlink()
    ledger = folder / "ledger"
    counts = write_sample_ledger(ledger, as_of=today, invoices=invoices)
    out.print(f"sample ledger in {ledger}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))

    app = build(Settings(database_url=f"sqlite:///{database}", tenant="demo"))
    services.init(app)
    services.import_ledger(app, [ledger])
    policy_file = folder / "standard.toml"
    policy_file.write_text(standard_policy_toml(), encoding="utf-8")
    services.apply_policy(app, policy_file, make_default=True)

    for back in range(DAYS_OF_HISTORY, 0, -1):
        services.run_dunning(app, today - timedelta(days=back))
    summary = services.run_dunning(app, today)

    out.print(f"\n[bold]Dunning for {today.isoformat()}[/bold] (standard policy, {DAYS_OF_HISTORY} days of daily runs)")
    known, _ = services.list_policies(app)
    names = {str(level.number): level.name for level in known["standard"].levels}
    table = Table("level", "name", "open invoices")
    for level, count in summary.by_level.items():
        table.add_row(level, names.get(level, ""), str(count))
    out.print(table)

    pending = services.notices(app, status="pending")
    per_channel = Counter(n.channel for n in pending)
    today_per_channel = Counter(n.channel for n in pending if n.created_on == today)
    table = Table("channel", "pending notices", "created today", title="Notices (delivery comes next)")
    for channel, count in sorted(per_channel.items()):
        table.add_row(channel, str(count), str(today_per_channel[channel]))
    out.print(table)
    if summary.skipped:
        out.print("skipped today: " + ", ".join(f"{r} {n}" for r, n in sorted(summary.skipped.items())))

    print_aging(out, reports.aging_report(app, today), today, "table")
    events = services.verify_audit(app)
    out.print(f"audit chain intact: {events} events")
    out.print(f"\nExplore: pastdue --db sqlite:///{database} --tenant demo invoices --open")
