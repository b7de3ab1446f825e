"""A real Tryton database on SQLite for the connector tests, written through trytond's own API.

Run as a separate process (``python tryton_books.py CONFIG DATABASE STEP``) so that
trytond's process-wide state (its configuration and model pool) never enters the test
process, which reads the database the way the connector does in production: by SQL.

The books tell one story in EUR, the company's currency, as of June 2026:

- ``create``: Acme owes two invoices (1200.00 and 250.50) and paid 50.50 on account,
  not yet reconciled; Bolt paid its 40.00 invoice (reconciled) and owes 100.00 USD;
  Cobb paid two invoices (100.00 and 200.00) with one transfer of 300.00.
- ``more``: Acme pays the rest of the 250.50 invoice (200.00, reconciled with the 50.50
  on account), Cobb gets a new invoice of 75.00 and Acme a new e-mail address.
- ``unreconcile``: Cobb's transfer is taken off its two invoices again (a correction).

Prints a JSON object naming the lines it wrote, by role, so tests can name them too.
"""

# ruff: noqa: N806 - Tryton names model classes in CamelCase, and so do these scripts

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any


def main(config_path: str, database: str, step: str) -> None:
    from trytond import config

    config.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    Pool.start()
    pool = Pool(database)
    with Transaction().start(database, 0, readonly=True):
        pool.init()
    extras: dict[str, Any] = {}
    while True:  # as trytond's dispatcher does: a table lock restarts the transaction holding it
        try:
            with Transaction().start(database, 0, **extras) as transaction:
                result = STEPS[step](pool)
                transaction.commit()
            break
        except TransactionError as exc:
            exc.fix(extras)
    print(json.dumps(result))


def _company(pool: Any) -> Any:
    company = pool.get("company.company").search([], limit=1)
    return company[0] if company else None


def _context(pool: Any) -> Any:
    from trytond.transaction import Transaction

    return Transaction().set_context(company=_company(pool).id)


def create(pool: Any) -> dict[str, Any]:
    from trytond.transaction import Transaction

    Currency = pool.get("currency.currency")
    Party = pool.get("party.party")
    Company = pool.get("company.company")
    Country = pool.get("country.country")
    Lang = pool.get("ir.lang")

    eur, usd = Currency.create(
        [
            {"name": "Euro", "code": "EUR", "symbol": "€", "digits": 2, "rounding": Decimal("0.01")},
            {"name": "US Dollar", "code": "USD", "symbol": "$", "digits": 2, "rounding": Decimal("0.01")},
        ]
    )
    pool.get("currency.currency.rate").create(
        [
            {"currency": eur.id, "rate": Decimal(1), "date": dt.date(2026, 1, 1)},
            {"currency": usd.id, "rate": Decimal("1.25"), "date": dt.date(2026, 1, 1)},
        ]
    )
    de, gb, us = Country.create(
        [
            {"name": "Germany", "code": "DE"},
            {"name": "United Kingdom", "code": "GB"},
            {"name": "United States", "code": "US"},
        ]
    )
    german = Lang.search([("code", "=", "de")])[0]
    (owner,) = Party.create([{"name": "Pastdue Test GmbH", "addresses": [("create", [{}])]}])
    company = Company(party=owner, currency=eur, timezone="Europe/Berlin")
    company.save()
    with Transaction().set_context(company=company.id):
        _fiscal_year(pool, company)
        _chart(pool, company)
        acme, bolt, cobb = Party.create(
            [
                {
                    "name": "Acme GmbH",
                    "lang": german.id,
                    "contact_mechanisms": [
                        (
                            "create",
                            [{"type": "email", "value": "ap@acme.example"}, {"type": "phone", "value": "+4930123456"}],
                        )
                    ],
                    "addresses": [
                        (
                            "create",
                            [
                                {
                                    "street_unstructured": "Hauptstraße 1",
                                    "postal_code": "10115",
                                    "city": "Berlin",
                                    "country": de.id,
                                }
                            ],
                        )
                    ],
                },
                {
                    "name": "Bolt Ltd",
                    "contact_mechanisms": [("create", [{"type": "email", "value": "ap@bolt.example"}])],
                    "addresses": [
                        ("create", [{"street_unstructured": "1 High St", "city": "London", "country": gb.id}])
                    ],
                },
                {
                    "name": "Cobb Inc",
                    "contact_mechanisms": [("create", [{"type": "mobile", "value": "+12125550100"}])],
                    "addresses": [("create", [{"city": "New York", "country": us.id}])],
                },
            ]
        )
        lines: dict[str, int] = {}
        lines["acme_1"] = _invoice(pool, acme, "1200.00", dt.date(2026, 4, 1), dt.date(2026, 5, 1))
        lines["acme_2"] = _invoice(pool, acme, "250.50", dt.date(2026, 5, 21), dt.date(2026, 6, 20))
        lines["acme_on_account"] = _payment(pool, acme, "50.50", dt.date(2026, 6, 25))
        lines["bolt_1"] = _invoice(pool, bolt, "40.00", dt.date(2026, 5, 2), dt.date(2026, 6, 1))
        lines["bolt_paid"] = _payment(pool, bolt, "40.00", dt.date(2026, 6, 2))
        _reconcile(pool, lines["bolt_1"], lines["bolt_paid"])
        lines["bolt_usd"] = _invoice(
            pool, bolt, "80.00", dt.date(2026, 6, 15), dt.date(2026, 7, 15), second=(usd, "100.00")
        )
        lines["cobb_1"] = _invoice(pool, cobb, "100.00", dt.date(2026, 5, 1), dt.date(2026, 5, 31))
        lines["cobb_2"] = _invoice(pool, cobb, "200.00", dt.date(2026, 5, 10), dt.date(2026, 6, 9))
        lines["cobb_paid"] = _payment(pool, cobb, "300.00", dt.date(2026, 6, 5))
        _reconcile(pool, lines["cobb_1"], lines["cobb_2"], lines["cobb_paid"])
    return {"lines": lines, "parties": {"acme": acme.id, "bolt": bolt.id, "cobb": cobb.id}}


def more(pool: Any) -> dict[str, Any]:
    Party = pool.get("party.party")
    Line = pool.get("account.move.line")
    Mechanism = pool.get("party.contact_mechanism")
    with _context(pool):
        (acme,) = Party.search([("name", "=", "Acme GmbH")])
        (cobb,) = Party.search([("name", "=", "Cobb Inc")])
        lines: dict[str, int] = {}
        lines["acme_rest"] = _payment(pool, acme, "200.00", dt.date(2026, 6, 28))
        partial = Line.search([("party", "=", acme.id), ("credit", "=", Decimal("50.50"))])
        second = Line.search([("party", "=", acme.id), ("debit", "=", Decimal("250.50"))])
        _reconcile(pool, second[0].id, partial[0].id, lines["acme_rest"])
        lines["cobb_3"] = _invoice(pool, cobb, "75.00", dt.date(2026, 6, 20), dt.date(2026, 7, 20))
        (email,) = Mechanism.search([("party", "=", acme.id), ("type", "=", "email")])
        email.value = "billing@acme.example"
        email.save()
    return {"lines": lines}


def unreconcile(pool: Any) -> dict[str, Any]:
    Party = pool.get("party.party")
    Line = pool.get("account.move.line")
    with _context(pool):
        (cobb,) = Party.search([("name", "=", "Cobb Inc")])
        paid = Line.search([("party", "=", cobb.id), ("reconciliation", "!=", None)])
        pool.get("account.move.reconciliation").delete(list({line.reconciliation for line in paid}))
    return {"unreconciled": [line.id for line in paid]}


STEPS = {"create": create, "more": more, "unreconcile": unreconcile}


def _fiscal_year(pool: Any, company: Any) -> None:
    Sequence = pool.get("ir.sequence.strict")
    SequenceType = pool.get("ir.sequence.type")
    FiscalYear = pool.get("account.fiscalyear")
    (sequence_type,) = SequenceType.search([("name", "=", "Account Move")], limit=1)
    (sequence,) = Sequence.create([{"name": "2026", "sequence_type": sequence_type.id, "company": company.id}])
    year = FiscalYear(
        name="2026",
        company=company,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
        move_sequence=sequence,
    )
    year.save()
    FiscalYear.create_period([year])


def _chart(pool: Any, company: Any) -> None:
    """The English minimal chart, through the wizard a person would use."""
    AccountTemplate = pool.get("account.account.template")
    ModelData = pool.get("ir.model.data")
    CreateChart = pool.get("account.create_chart", type="wizard")
    Account = pool.get("account.account")
    template = AccountTemplate(ModelData.get_id("account", "account_template_root_en"))
    session_id, _, _ = CreateChart.create()
    wizard = CreateChart(session_id)
    wizard.account.account_template = template
    wizard.account.company = company
    wizard.transition_create_account()
    state = wizard.states["properties"]
    defaults = state.get_defaults(wizard, "properties", list(wizard.properties._fields.keys()))
    for name, value in defaults.items():
        if name in wizard.properties._fields:
            setattr(wizard.properties, name, value)
    for kind in ("receivable", "payable"):
        (account,) = Account.search(
            [(f"type.{kind}", "=", True), ("party_required", "=", True), ("company", "=", company.id)], limit=1
        )
        setattr(wizard.properties, f"account_{kind}", account)
    wizard.transition_create_properties()


def _accounts(pool: Any) -> tuple[Any, Any, Any]:
    Account = pool.get("account.account")
    (receivable,) = Account.search([("type.receivable", "=", True), ("party_required", "=", True)], limit=1)
    (revenue,) = Account.search([("type.revenue", "=", True), ("closed", "=", False)], limit=1)
    (cash,) = Account.search([("code", "=", "1.1.1")], limit=1)
    return receivable, revenue, cash


def _post(pool: Any, journal_code: str, date: dt.date, lines: list[dict[str, Any]]) -> Any:
    Move = pool.get("account.move")
    Journal = pool.get("account.journal")
    Period = pool.get("account.period")
    (journal,) = Journal.search([("code", "=", journal_code)])
    company = _company(pool)
    move = Move(
        period=Period.find(company, date=date),
        journal=journal,
        date=date,
        company=company,
        lines=[pool.get("account.move.line")(**line) for line in lines],
    )
    move.save()
    Move.post([move])
    return move


def _invoice(
    pool: Any, party: Any, amount: str, date: dt.date, due: dt.date, second: tuple[Any, str] | None = None
) -> int:
    receivable, revenue, _ = _accounts(pool)
    money = Decimal(amount)
    debit: dict[str, Any] = {"account": receivable, "party": party, "debit": money, "credit": 0, "maturity_date": due}
    credit: dict[str, Any] = {"account": revenue, "debit": 0, "credit": money}
    if second is not None:
        currency, foreign = second
        debit |= {"second_currency": currency, "amount_second_currency": Decimal(foreign)}
        credit |= {"second_currency": currency, "amount_second_currency": -Decimal(foreign)}
    move = _post(pool, "REV", date, [debit, credit])
    return next(line.id for line in move.lines if line.account == receivable)


def _payment(pool: Any, party: Any, amount: str, date: dt.date) -> int:
    receivable, _, cash = _accounts(pool)
    money = Decimal(amount)
    move = _post(
        pool,
        "CASH",
        date,
        [
            {"account": cash, "debit": money, "credit": 0},
            {"account": receivable, "party": party, "debit": 0, "credit": money},
        ],
    )
    return next(line.id for line in move.lines if line.account == receivable)


def _reconcile(pool: Any, *line_ids: int) -> None:
    Line = pool.get("account.move.line")
    Line.reconcile(Line.browse(list(line_ids)))


if __name__ == "__main__":
    main(*sys.argv[1:4])
