"""The Tryton connector: customers, receivables and payments read from Tryton's own tables.

**Why SQL, not trytond's Python API.** The API (``Pool``/``Transaction``) is process-wide
state: one configuration, one pool per database, which must load exactly the modules and
versions the server runs, seconds to start and trytond's pinned dependencies brought into
pastdue's environment. The few tables a dunning ledger needs (move lines, moves, accounts
and their types, parties with their contacts, addresses and languages) have been stable
across Tryton releases, and reading them needs nothing but a driver: SQLite opened
read-only, or a read-only PostgreSQL role. Nothing is written back: writing into another
program's tables would bypass its rules, so dunning levels are not pushed to Tryton (an
``account_dunning`` integration would have to go through its API).

**What is read.** Lines of posted moves on accounts whose type is receivable, with a party,
in one company (``?company=ID`` when the database holds several):

- a line with more debit than credit is an *invoice*: number of the Tryton invoice it came
  from (when ``account_invoice`` is installed) or of its move, ``/k`` added for the k-th
  installment of a move with several; amount and currency are the line's second currency
  when it has one, the company's otherwise; due on its maturity date;
- a line with more credit than debit is a *payment* (a *credit* when its journal is a
  revenue journal, as credit notes are, or a write-off journal): not reconciled, it is the
  party's unapplied cash; reconciled, it is allocated to the debit lines of its
  reconciliation, oldest due first (the reconciliation balances, so every one of them is
  paid in full; amounts in company currency are carried over into each invoice's currency
  in proportion, the last share taking the rounding);
- a *customer* is a party with receivable lines: name, first e-mail, first phone or
  mobile, first address, its language for the company, and the company's time zone.

**The cursor** is two keyset positions, ``(changed at, id)``: one over lines, where a line
changes with itself or its move (posting a move changes the move only; reconciling or
unreconciling writes the lines), and one over parties, where a party changes with itself,
its contact mechanisms, addresses and languages. Both only move forward. A row is taken
only once its timestamp is ``settle`` seconds old (``?settle=``, default 60): Tryton stamps
a row with its transaction's start, so a long transaction can commit rows older than rows
already read; waiting for them to settle keeps the keyset from passing them by.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pastdue.core.money import Money, exponent
from pastdue.errors import ConfigurationError, Problem
from pastdue.importers.connectors.base import PART_SEPARATOR, Batch, CustomerRow, InvoiceRow, PaymentRow
from pastdue.importers.connectors.tryton_db import TrytonDatabase, as_date, as_stamp, open_database

DEFAULT_SETTLE_SECONDS = 60.0
_CREDIT_JOURNALS = frozenset({"revenue", "write-off"})
_RECEIVABLE = """account_move_line l
    JOIN account_move m ON m.id = l.move
    JOIN account_account a ON a.id = l.account
    JOIN account_account_type t ON t.id = a.type"""
_RECEIVABLE_WHERE = "m.company = ? AND m.state = 'posted' AND t.receivable AND l.party IS NOT NULL"


@dataclass(frozen=True)
class _Line:
    """One receivable move line, with the move facts the ledger rows need."""

    id: int
    party: int
    net: Decimal  # debit - credit, in company currency
    second_currency: str | None
    second_amount: Decimal | None
    maturity: date | None
    reconciliation: int | None
    move: int
    number: str
    moved_on: date
    journal_type: str
    text: str

    def sort_key(self) -> tuple[date, int]:
        return (self.maturity or self.moved_on, self.id)


class TrytonConnector:
    """Pulls a Tryton company's receivables; see the module docstring for what and how."""

    def __init__(self, database: TrytonDatabase, *, company: int | None = None, settle: float = 60.0, name: str = ""):
        self.db = database
        self.settle = settle
        self._name = name or f"tryton-{database.label}"
        if len(self._name) > 30:
            raise ConfigurationError(f"source name {self._name!r} is longer than 30 characters: give ?name=")
        self.company, self.currency, self.timezone = self._company(company)
        self._has_invoices = database.has_table("account_invoice")
        self._has_langs = database.has_table("party_party_lang")
        self._address_columns = database.columns("party_address")

    @property
    def name(self) -> str:
        return self._name

    def close(self) -> None:
        self.db.close()

    def pull(self, cursor: str | None, limit: int) -> Batch:
        position = _Position.parse(cursor)
        problems: list[Problem] = []
        with self.db.snapshot():
            horizon = self.db.horizon(self.settle)
            line_keys = self._changed_lines(position.lines, horizon, limit)
            party_keys = self._changed_parties(position.parties, horizon, limit)
            lines = self._lines([line_id for line_id, _ in line_keys])
            reconciliations = sorted({line.reconciliation for line in lines.values() if line.reconciliation})
            lines |= self._lines(self._reconciled(reconciliations))
            invoices = self._invoices(lines, problems)
            payments = self._payments(lines, invoices, problems)
            parties = {line.party for line in lines.values()} | {party for party, _ in party_keys}
            customers = self._customers(sorted(parties))
        if line_keys:
            position.lines = (as_stamp(line_keys[-1][1]), line_keys[-1][0])
        if party_keys:
            position.parties = (as_stamp(party_keys[-1][1]), party_keys[-1][0])
        return Batch(
            customers=customers,
            invoices=sorted(invoices.values()),
            payments=payments,
            next_cursor=position.dump(),
            more=len(line_keys) == limit or len(party_keys) == limit,
            problems=problems,
        )

    # --- ids ----------------------------------------------------------------------------

    def customer_id(self, party: int) -> str:
        return f"{self._name}.P{party}"

    def line_id(self, line: int) -> str:
        return f"{self._name}.L{line}"

    # --- what changed -------------------------------------------------------------------

    def _after(self, expression: str, key: str, position: tuple[str, int] | None) -> tuple[str, list[Any]]:
        if position is None:
            return "", []
        stamp = self.db.timestamp(position[0])
        return f" AND ({expression} > ? OR ({expression} = ? AND {key} > ?))", [stamp, stamp, position[1]]

    def _changed_lines(self, position: tuple[str, int] | None, horizon: Any, limit: int) -> list[tuple[Any, ...]]:
        changed = self.db.greatest("COALESCE(l.write_date, l.create_date)", "COALESCE(m.write_date, m.create_date)")
        after, params = self._after(changed, "l.id", position)
        return self.db.rows(
            f"SELECT l.id, {changed} FROM {_RECEIVABLE} WHERE {_RECEIVABLE_WHERE} AND {changed} <= ?{after} "
            f"ORDER BY 2, 1 LIMIT ?",
            [self.company, horizon, *params, limit],
        )

    def _changed_parties(self, position: tuple[str, int] | None, horizon: Any, limit: int) -> list[tuple[Any, ...]]:
        sources = ["party_party", "party_contact_mechanism", "party_address"]
        if self._has_langs:
            sources.append("party_party_lang")
        union = " UNION ALL ".join(
            f"SELECT {'id' if table == 'party_party' else 'party'} AS party, "
            f"COALESCE(write_date, create_date) AS changed FROM {table}"
            for table in sources
        )
        after, params = self._after("MAX(u.changed)", "u.party", position)
        return self.db.rows(
            f"SELECT u.party, MAX(u.changed) FROM ({union}) u "
            f"WHERE u.party IN (SELECT l.party FROM {_RECEIVABLE} WHERE {_RECEIVABLE_WHERE}) "
            f"GROUP BY u.party HAVING MAX(u.changed) <= ?{after} ORDER BY 2, 1 LIMIT ?",
            [self.company, horizon, *params, limit],
        )

    # --- lines --------------------------------------------------------------------------

    def _lines(self, ids: list[int]) -> dict[int, _Line]:
        found: dict[int, _Line] = {}
        for chunk in _chunks(ids):
            rows = self.db.rows(
                "SELECT l.id, l.party, CAST(l.debit AS TEXT), CAST(l.credit AS TEXT), c.code, "
                "CAST(l.amount_second_currency AS TEXT), l.maturity_date, l.reconciliation, m.id, m.number, "
                "m.date, j.type, m.origin, COALESCE(l.description, m.description, '') "
                f"FROM {_RECEIVABLE} JOIN account_journal j ON j.id = m.journal "
                "LEFT JOIN currency_currency c ON c.id = l.second_currency "
                f"WHERE {_RECEIVABLE_WHERE} AND l.id IN ({', '.join('?' * len(chunk))})",
                [self.company, *chunk],
            )
            numbers = self._invoice_numbers(row[12] for row in rows)
            for row in rows:
                number = numbers.get(row[12]) or row[9] or f"move {row[8]}"
                found[row[0]] = _Line(
                    id=row[0],
                    party=row[1],
                    net=_decimal(row[2]) - _decimal(row[3]),
                    second_currency=row[4] if row[5] is not None else None,
                    second_amount=_decimal(row[5]) if row[5] is not None else None,
                    maturity=as_date(row[6]) if row[6] else None,
                    reconciliation=row[7],
                    move=row[8],
                    number=str(number),
                    moved_on=as_date(row[10]),
                    journal_type=str(row[11] or ""),
                    text=str(row[13] or number),
                )
        return found

    def _reconciled(self, reconciliations: list[int]) -> list[int]:
        ids: list[int] = []
        for chunk in _chunks(reconciliations):
            marks = ", ".join("?" * len(chunk))
            ids += [
                row[0]
                for row in self.db.rows(f"SELECT id FROM account_move_line WHERE reconciliation IN ({marks})", chunk)
            ]
        return ids

    def _invoice_numbers(self, origins: Iterable[str | None]) -> dict[str, str]:
        """Numbers of the Tryton invoices moves came from, by the moves' origin reference."""
        if not self._has_invoices:
            return {}
        ids = sorted(
            {
                int(o.split(",")[1])
                for o in origins
                if o and o.startswith("account.invoice,") and o.split(",")[1].isdigit()
            }
        )
        numbers: dict[str, str] = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            for invoice, number in self.db.rows(f"SELECT id, number FROM account_invoice WHERE id IN ({marks})", chunk):
                if number:
                    numbers[f"account.invoice,{invoice}"] = str(number)
        return numbers

    def _installments(self, moves: list[int]) -> dict[int, tuple[int, int]]:
        """For each debit line of these moves: its place among the move's debit lines, and their count."""
        debits: dict[int, list[tuple[date | None, int]]] = defaultdict(list)
        for chunk in _chunks(moves):
            marks = ", ".join("?" * len(chunk))
            for line, move, debit, credit, maturity in self.db.rows(
                "SELECT l.id, l.move, CAST(l.debit AS TEXT), CAST(l.credit AS TEXT), l.maturity_date "
                f"FROM {_RECEIVABLE} WHERE {_RECEIVABLE_WHERE} AND l.move IN ({marks})",
                [self.company, *chunk],
            ):
                if _decimal(debit) > _decimal(credit):
                    debits[move].append((as_date(maturity) if maturity else None, line))
        places: dict[int, tuple[int, int]] = {}
        for lines in debits.values():
            lines.sort(key=lambda item: (item[0] or date.min, item[1]))
            for place, (_, line) in enumerate(lines, start=1):
                places[line] = (place, len(lines))
        return places

    # --- rows ---------------------------------------------------------------------------

    def _currency(self, line: _Line) -> tuple[str, Decimal]:
        """The line's own currency and amount: its second currency when it has one."""
        if line.second_currency is not None and line.second_amount is not None:
            return line.second_currency, abs(line.second_amount)
        return self.currency, abs(line.net)

    def _invoices(self, lines: dict[int, _Line], problems: list[Problem]) -> dict[int, InvoiceRow]:
        debits = [line for line in lines.values() if line.net > 0]
        places = self._installments(sorted({line.move for line in debits}))
        rows: dict[int, InvoiceRow] = {}
        for line in debits:
            currency, amount = self._currency(line)
            minor = self._minor(amount, currency, line, problems)
            if minor is None:
                continue
            place, count = places.get(line.id, (1, 1))
            due = line.maturity or line.moved_on
            rows[line.id] = InvoiceRow(
                id=self.line_id(line.id),
                customer_id=self.customer_id(line.party),
                number=(line.number if count == 1 else f"{line.number}/{place}")[:64],
                currency=currency,
                amount_minor=minor,
                issued_on=min(line.moved_on, due),  # nothing falls due before it exists
                due_on=due,
            )
        return rows

    def _payments(
        self, lines: dict[int, _Line], invoices: dict[int, InvoiceRow], problems: list[Problem]
    ) -> list[PaymentRow]:
        rows: list[PaymentRow] = []
        by_reconciliation: dict[int, list[_Line]] = defaultdict(list)
        for line in lines.values():
            if line.reconciliation is not None:
                by_reconciliation[line.reconciliation].append(line)
            elif line.net < 0:
                currency, amount = self._currency(line)
                minor = self._minor(amount, currency, line, problems)
                if minor:
                    rows.append(self._payment(line, self.line_id(line.id), None, currency, minor))
        for reconciled in by_reconciliation.values():
            rows += self._allocations(reconciled, invoices)
        return sorted(rows)

    def _allocations(self, reconciled: list[_Line], invoices: dict[int, InvoiceRow]) -> list[PaymentRow]:
        """Each credit line of a reconciliation spread over its debit lines, oldest due first."""
        debits = sorted((line for line in reconciled if line.net > 0 and line.id in invoices), key=_Line.sort_key)
        credits = sorted((line for line in reconciled if line.net < 0), key=lambda line: (line.moved_on, line.id))
        left = {line.id: -line.net for line in credits}
        shares: dict[int, list[tuple[_Line, Decimal]]] = defaultdict(list)  # debit -> (credit, company amount)
        for debit in debits:
            owed = debit.net
            for credit in credits:
                take = min(owed, left[credit.id])
                if take > 0:
                    shares[debit.id].append((credit, take))
                    left[credit.id] -= take
                    owed -= take
        pieces: dict[int, list[tuple[int, InvoiceRow, int]]] = defaultdict(list)  # credit -> (debit, invoice, minor)
        for debit in debits:
            invoice = invoices[debit.id]
            for credit, minor in _in_invoice_currency(debit, invoice, shares[debit.id]):
                if minor > 0:
                    pieces[credit.id].append((debit.id, invoice, minor))
        rows = []
        for credit in credits:
            lead = self.line_id(credit.id)
            for place, (debit_id, invoice, minor) in enumerate(pieces[credit.id]):
                row_id = lead if place == 0 else f"{lead}{PART_SEPARATOR}{debit_id}"
                rows.append(self._payment(credit, row_id, invoice.id, invoice.currency, minor))
        return rows

    def _payment(self, line: _Line, row_id: str, invoice_id: str | None, currency: str, minor: int) -> PaymentRow:
        return PaymentRow(
            id=row_id,
            invoice_id=invoice_id,
            customer_id=self.customer_id(line.party),
            currency=currency,
            amount_minor=minor,
            paid_on=line.moved_on,
            reference=line.text[:200],
            kind="credit" if line.journal_type in _CREDIT_JOURNALS else "payment",
        )

    def _minor(self, amount: Decimal, currency: str, line: _Line, problems: list[Problem]) -> int | None:
        try:
            money = Money(amount, currency)
            if money.rounded() != money:
                raise ValueError(f"{amount} has more decimals than {currency} allows")
        except ValueError as exc:  # CurrencyError is one
            problems.append(Problem(self._name, None, "amount", f"move line {line.id} (move {line.number}): {exc}"))
            return None
        return money.minor

    # --- customers ----------------------------------------------------------------------

    def _customers(self, parties: list[int]) -> list[CustomerRow]:
        rows = []
        for chunk in _chunks(parties):
            marks = ", ".join("?" * len(chunk))
            contacts = self._contacts(chunk, marks)
            addresses = self._addresses(chunk, marks)
            languages = self._languages(chunk, marks)
            for party, name, code in self.db.rows(
                f"SELECT id, name, code FROM party_party WHERE id IN ({marks})", chunk
            ):
                email, phone = contacts.get(party, ("", ""))
                street, postal_code, city, country = addresses.get(party, ("", "", "", ""))
                rows.append(
                    CustomerRow(
                        id=self.customer_id(party),
                        name=str(name or code or f"party {party}")[:200],
                        email=email if len(email) <= 254 else "",
                        phone=phone if len(phone) <= 32 else "",
                        country=country if len(country) == 2 and country.isalpha() else "",
                        language=languages.get(party, "en"),
                        timezone=self.timezone,
                        street=street[:200],
                        postal_code=postal_code[:20],
                        city=city[:100],
                        kind="business",
                        policy=None,
                        exempt=False,
                    )
                )
        return sorted(rows)

    def _contacts(self, chunk: list[int], marks: str) -> dict[int, tuple[str, str]]:
        email: dict[int, str] = {}
        phone: dict[int, str] = {}
        for party, kind, value in self.db.rows(
            "SELECT party, type, value FROM party_contact_mechanism "
            f"WHERE party IN ({marks}) AND active AND type IN ('email', 'phone', 'mobile') "
            "ORDER BY party, CASE WHEN sequence IS NULL THEN 0 ELSE 1 END, sequence, id",
            chunk,
        ):
            target = email if kind == "email" else phone
            target.setdefault(party, str(value or "").strip())
        return {party: (email.get(party, ""), phone.get(party, "")) for party in set(email) | set(phone)}

    def _addresses(self, chunk: list[int], marks: str) -> dict[int, tuple[str, str, str, str]]:
        columns = self._address_columns
        parts = [c for c in ("street_unstructured", "street", "street_name", "building_number") if c in columns]
        street = ", ".join(f"a.{c}" for c in parts) or "NULL"
        found: dict[int, tuple[str, str, str, str]] = {}
        for row in self.db.rows(
            f"SELECT a.party, a.postal_code, a.city, c.code, {street} FROM party_address a "
            f"LEFT JOIN country_country c ON c.id = a.country WHERE a.party IN ({marks}) AND a.active "
            "ORDER BY a.party, CASE WHEN a.sequence IS NULL THEN 0 ELSE 1 END, a.sequence, a.id",
            chunk,
        ):
            if row[0] in found:
                continue
            text = dict(zip(parts, (str(v or "").strip() for v in row[4:]), strict=False))
            line = (text.get("street_unstructured") or text.get("street") or "").splitlines()
            built = " ".join(filter(None, (text.get("street_name"), text.get("building_number"))))
            found[row[0]] = (
                (line[0] if line else built).strip(),
                str(row[1] or ""),
                str(row[2] or ""),
                str(row[3] or ""),
            )
        return found

    def _languages(self, chunk: list[int], marks: str) -> dict[int, str]:
        if not self._has_langs:
            return {}
        found: dict[int, str] = {}
        for party, code in self.db.rows(
            "SELECT pl.party, g.code FROM party_party_lang pl JOIN ir_lang g ON g.id = pl.lang "
            f"WHERE pl.party IN ({marks}) AND (pl.company = ? OR pl.company IS NULL) "
            "ORDER BY pl.party, CASE WHEN pl.company IS NULL THEN 1 ELSE 0 END",
            [*chunk, self.company],
        ):
            found.setdefault(party, str(code).replace("_", "-"))
        return found

    def _company(self, wanted: int | None) -> tuple[int, str, str]:
        companies = self.db.rows(
            "SELECT c.id, cur.code, c.timezone FROM company_company c "
            "JOIN currency_currency cur ON cur.id = c.currency ORDER BY c.id"
        )
        chosen = [row for row in companies if wanted is None or row[0] == wanted]
        if len(chosen) != 1:
            known = ", ".join(str(row[0]) for row in companies) or "none"
            raise ConfigurationError(
                f"Tryton database {self.db.label!r}: choose a company with ?company=ID (companies: {known})"
            )
        company, currency, timezone = chosen[0]
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            timezone = "UTC"
        exponent(currency)  # a company currency pastdue cannot hold is a configuration error, said now
        return int(company), str(currency), str(timezone)


def open_connector(spec: str) -> TrytonConnector:
    """A connector for a ``tryton://`` or ``tryton+postgresql://`` source spec (see ``tryton_db``)."""
    database, options = open_database(spec)
    try:
        company = int(options["company"]) if "company" in options else None
        settle = float(options.get("settle", DEFAULT_SETTLE_SECONDS))
        return TrytonConnector(database, company=company, settle=settle, name=options.get("name", ""))
    except ValueError as exc:
        database.close()
        raise ConfigurationError(f"{spec!r}: {exc}") from exc
    except ConfigurationError:
        database.close()
        raise


@dataclass
class _Position:
    """The cursor: the last (changed at, id) read of lines and of parties."""

    lines: tuple[str, int] | None = None
    parties: tuple[str, int] | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> _Position:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor)
            return cls(
                *(None if data.get(k) is None else (str(data[k][0]), int(data[k][1])) for k in ("lines", "parties"))
            )
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise ConfigurationError(f"stored cursor {cursor!r} was not written by the Tryton connector") from exc

    def dump(self) -> str:
        return json.dumps({"lines": self.lines, "parties": self.parties}, separators=(",", ":"))


def _in_invoice_currency(
    debit: _Line, invoice: InvoiceRow, shares: list[tuple[_Line, Decimal]]
) -> list[tuple[_Line, int]]:
    """Company-currency shares of a debit line as minor units of its invoice's currency.

    In proportion to the line's own amounts, half to even; the last share takes what
    rounding left, so shares that cover the line add up to the invoice exactly.
    """
    if not shares:
        return []
    total = sum((amount for _, amount in shares), Decimal(0))
    ends = invoice.amount_minor if total == debit.net else _share(total, debit.net, invoice.amount_minor)
    result: list[tuple[_Line, int]] = []
    given = 0
    for place, (credit, amount) in enumerate(shares):
        minor = ends - given if place == len(shares) - 1 else _share(amount, debit.net, invoice.amount_minor)
        result.append((credit, minor))
        given += minor
    return result


def _share(part: Decimal, whole: Decimal, minor: int) -> int:
    return int((part * minor / whole).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _decimal(text: Any) -> Decimal:
    """A NUMERIC column read as text (never through float): '1200.00', or bytes from SQLite."""
    if text is None:
        return Decimal(0)
    if isinstance(text, bytes):
        text = text.decode("ascii")
    try:
        return Decimal(str(text))
    except InvalidOperation as exc:
        raise ConfigurationError(f"not a number in the Tryton database: {text!r}") from exc


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
