"""Benchmark statement import and matching: 100,000 credits against the 1M-invoice ledger.

Usage::

    python bench/matching.py [--invoices 1000000] [--credits 100000] [--data DIR] [--keep DIR]

The ledger comes from ``shared/bench/make_dataset.py`` (cached in ``bench/data``, as for
``bench/ledger.py``). ``--credits`` of its payments are taken out of ``payments.csv`` and
written instead as a camt.053 statement, the way a bank would report them, each with a
remittance style drawn (seeded) from a realistic mix:

========================  ======  ============================================
style                     share   remittance
========================  ======  ============================================
number                     40 %   "Rechnung INV-2026-0001234"
number, sloppy             15 %   "inv 2026/1234 thanks", "INV2026 0001234", ...
structured reference       15 %   an ISO 11649 RF reference, no free text
amount only                15 %   nothing useful; the payer's IBAN may be known
noise                      10 %   "Zahlung", "payment", a customer number
two invoices               5 %    two payments of one customer in one credit
========================  ======  ============================================

Payers' IBANs are known for 60 % of customers (as learned from earlier statements). The
ledger without those payments is imported first (timed for information), then the statement
is imported by ``pastdue import statement.xml --json`` in a child process, whose wall time
and peak resident memory are printed, with the share matched automatically, per rule, and
how many matches went to the invoice the money was really for. It asserts nothing about
time (target: <= 10 s on SQLite for 100,000 credits).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from ledger import GENERATOR, HERE, dataset  # bench/ledger.py: the shared dataset cache
from pastdue.core.matching import rf_reference
from pastdue.core.money import Money
from pastdue.importers.camt_write import Booking, camt053
from pastdue.services.payments import receipt_id_for

ACCOUNT = "DE89370400440532013000"
SEED = 11
TARGET_SECONDS = 10.0
STYLES = [("number", 40), ("sloppy", 15), ("reference", 15), ("amount", 15), ("noise", 10), ("pair", 5)]


@dataclass
class Paid:
    payment_id: str
    invoice_id: str
    customer_id: str
    number: str
    amount: Decimal
    currency: str
    paid_on: date


def iban_for(customer_id: str) -> str:
    """A syntactically valid German IBAN derived from the customer id (fictitious)."""
    bban = f"{37040044:08d}{int(customer_id) % 10**10:010d}"
    digits = bban + "131400"  # D=13 E=14, then 00
    check = 98 - int(digits) % 97
    return f"DE{check:02d}{bban}"


def read_ledger(folder: Path) -> tuple[dict[str, tuple[str, str]], list[list[str]]]:
    invoices = {}
    with (folder / "invoices.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            invoices[row["id"]] = (row["customer_id"], row["number"])
    with (folder / "payments.csv").open(encoding="utf-8") as fh:
        payments = list(csv.reader(fh))
    return invoices, payments


def split_payments(folder: Path, out: Path, credits: int, rng: random.Random) -> list[Paid]:
    """Write the ledger without ``credits`` payments into ``out``; return those payments."""
    invoices, rows = read_ledger(folder)
    header, body = rows[0], rows[1:]
    chosen = set(rng.sample(range(len(body)), credits))
    out.mkdir(parents=True, exist_ok=True)
    for name in ("customers.csv", "invoices.csv"):
        target = out / name
        if not target.exists():
            target.symlink_to((folder / name).resolve())
    taken = []
    with (out / "payments.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for n, row in enumerate(body):
            if n in chosen:
                pid, iid, amount, currency, paid_on = row
                customer, number = invoices[iid]
                taken.append(Paid(pid, iid, customer, number, Decimal(amount), currency, date.fromisoformat(paid_on)))
            else:
                writer.writerow(row)
    return taken


def sloppy(number: str, rng: random.Random) -> str:
    prefix, year, serial = number.split("-")
    short = serial.lstrip("0")
    return rng.choice(
        [
            f"inv {year}/{short} thanks",
            f"{prefix}{year} {serial}",
            f"Invoice {prefix.lower()}-{year}-{short}",
            f"RE {prefix} {year} {short} Kd {rng.randint(1000, 9999)}",
        ]
    )


def bookings(paid: list[Paid], rng: random.Random) -> tuple[list[Booking], list[tuple[str, ...]]]:
    """The statement's credits and, for each, the invoice ids it really pays."""
    styles = [s for s, weight in STYLES for _ in range(weight)]
    by_customer: dict[str, list[Paid]] = {}
    for p in paid:
        by_customer.setdefault(p.customer_id, []).append(p)
    used: set[str] = set()
    out: list[Booking] = []
    truth: list[tuple[str, ...]] = []
    for p in paid:
        if p.payment_id in used:
            continue
        used.add(p.payment_id)
        style = rng.choice(styles)
        group = [p]
        if style == "pair":
            partner = next((o for o in by_customer[p.customer_id] if o.payment_id not in used), None)
            if partner is not None and partner.invoice_id != p.invoice_id:
                used.add(partner.payment_id)
                group.append(partner)
        amount = Money(sum((g.amount for g in group), Decimal(0)), p.currency)
        remittance, reference = "", ""
        if style == "number":
            remittance = f"Rechnung {p.number}"
        elif style == "sloppy":
            remittance = sloppy(p.number, rng)
        elif style == "reference":
            reference = rf_reference(p.number)
        elif style == "noise":
            remittance = rng.choice(["Zahlung", "payment", f"Kundennr {p.customer_id}", "Danke"])
        elif style == "pair":
            remittance = " ".join(g.number for g in group)
        out.append(
            Booking(
                amount=amount,
                booked_on=max(g.paid_on for g in group),
                remittance=remittance,
                payer_name=f"Customer {p.customer_id}",
                payer_iban=iban_for(p.customer_id),
                end_to_end_id=f"E2E-{p.payment_id}",
                structured_reference=reference,
            )
        )
        truth.append(tuple(g.invoice_id for g in group))
    return out, truth


def prepare(source: Path, work: Path, credits: int) -> None:
    """The ledger without the chosen payments, the statement of them, and what each credit pays."""
    rng = random.Random(SEED)
    paid = split_payments(source, work / "ledger", credits, rng)
    statement, truth = bookings(paid, rng)
    path = work / "statement.xml"
    path.write_bytes(camt053(statement, account=ACCOUNT, statement_id="BENCH-1"))
    (work / "truth.json").write_text(json.dumps(truth))
    (work / "booked.json").write_text(json.dumps([b.booked_on.isoformat() for b in statement]))
    (work / "payers.json").write_text(json.dumps(sorted({p.customer_id for p in paid})))
    size = path.stat().st_size / 2**20
    print(f"statement: {len(statement)} credits ({len(paid)} payments), {size:.1f} MiB", flush=True)


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str, int]:
    """Run the CLI in a child; wall seconds, peak MiB, stdout and exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pastdue", *args], stdout=subprocess.PIPE, env=env, text=True)
    stdout = proc.stdout.read() if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_maxrss / 1024, stdout, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--credits", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="Work in this folder and keep it.")
    parser.add_argument("--prepare", type=Path, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.prepare is not None:
        prepare(options.data, options.prepare, options.credits)
        return 0
    source = dataset(options.invoices, options.data or HERE / "data" / f"{options.invoices}-seed7", GENERATOR)
    work = options.keep or Path(tempfile.mkdtemp(prefix="pastdue-matching-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "pastdue.db"
    if db.exists():
        db.unlink()
    env = {**os.environ, "PASTDUE_DATABASE_URL": f"sqlite:///{db}", "PASTDUE_TENANT": "bench"}
    # Prepared in a child process, so that the children timed below do not inherit (and
    # report as their peak) the memory of a million parsed CSV rows.
    subprocess.run(
        [sys.executable, __file__, "--prepare", str(work), "--credits", str(options.credits), "--data", str(source)],
        check=True,
    )
    truth = [tuple(invoices) for invoices in json.loads((work / "truth.json").read_text())]
    booked_on = json.loads((work / "booked.json").read_text())
    path = work / "statement.xml"

    for args in (["init"], ["import", str(work / "ledger")]):
        wall, mib, _out, code = run(args, env)
        print(f"{' '.join(args[:1]):<24} {wall:8.2f} s  {mib:8.0f} MiB")
        if code:
            return 1
    customers = json.loads((work / "payers.json").read_text())
    known = [c for c in customers if random.Random(f"{SEED}-{c}").random() < 0.6]
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO payer_accounts (tenant_id, iban, customer_id, learned_at, source) VALUES (?, ?, ?, ?, ?)",
            [("bench", iban_for(c), c, "2026-06-01T00:00:00+00:00", "manual") for c in known],
        )
    print(f"payers known: {len(known)} of {len(customers)} paying customers")

    wall, mib, stdout, code = run(["import", str(path), "--json"], env)
    if code:
        print(stdout)
        return 1
    [result] = json.loads(stdout)["statements"]
    matched = result["matched"]
    print(f"{'import statement':<24} {wall:8.2f} s  {mib:8.0f} MiB   (target <= {TARGET_SECONDS:.0f} s)")
    print(
        f"credits {result['credits']}: matched {matched} ({100 * matched / result['credits']:.1f} %), "
        f"ambiguous {result['ambiguous']}, unmatched {result['unmatched']}"
    )
    print("by rule: " + ", ".join(f"{rule} {n}" for rule, n in result["by_rule"].items()))

    verdict: Counter[str] = Counter()
    with sqlite3.connect(db) as connection:
        allocated: dict[str, set[str]] = {}
        for receipt, invoice in connection.execute(
            "SELECT receipt_id, invoice_id FROM payments WHERE tenant_id = 'bench' AND receipt_id IS NOT NULL"
        ):
            allocated.setdefault(receipt, set()).add(invoice)
    for n, invoices in enumerate(truth, start=1):
        got = allocated.get(receipt_id_for("statement", f"{ACCOUNT}|{booked_on[n - 1]}|BENCH-1-{n}|1"))
        if got is None:
            verdict["left for a person"] += 1
        elif got == set(invoices):
            verdict["right invoices"] += 1
        else:
            verdict["other invoices"] += 1
    print("matches checked against the truth: " + ", ".join(f"{k} {v}" for k, v in sorted(verdict.items())))
    if options.keep is None:
        for child in sorted(work.rglob("*"), reverse=True):
            child.unlink() if not child.is_dir() or child.is_symlink() else child.rmdir()
        work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
