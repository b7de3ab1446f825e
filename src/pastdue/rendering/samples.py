"""A realistic notice to render templates against without touching a ledger.

``pastdue templates show --sample`` prints it rendered, and
:func:`~pastdue.rendering.check_overrides` renders every overridden template against it, for
every channel, level and language. It fills every optional field (portal and opt-out links,
other overdue items, bank details), so that no branch of a template goes untried, and gives
the customer a name with ``&`` so that escaping shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from pastdue.core.money import Money
from pastdue.core.notice import NoticeDocument, NoticeLine, Party, Sender

_STANDARD_LEVELS = {1: "reminder", 2: "second reminder", 3: "phone call", 4: "final notice"}
_CREATED_ON = date(2026, 6, 30)


@dataclass(frozen=True, slots=True)
class _Setting:
    locale: str
    currency: str
    sender: Party
    iban: str
    bic: str
    customer: Party
    timezone: str


_SETTINGS: dict[str, _Setting] = {
    "en": _Setting(
        "en_GB",
        "GBP",
        Party(
            "Harbour Supplies Ltd",
            ("12 Wharf Street", "Bristol BS1 4RN", "United Kingdom"),
            "accounts@harbour-supplies.example",
            "+44 117 496 0123",
        ),
        "GB33BUKB20201555555555",
        "BUKBGB22",
        Party(
            "Smith & Sons Ltd",
            ("Unit 4, Mill Lane", "Leeds LS1 6AB", "United Kingdom"),
            "ap@smithandsons.example",
            "+44 113 496 0456",
        ),
        "Europe/London",
    ),
    "de": _Setting(
        "de_DE",
        "EUR",
        Party(
            "Nordwind Handel GmbH",
            ("Hafenstraße 12", "20457 Hamburg", "Deutschland"),
            "buchhaltung@nordwind.example",
            "+49 40 1234567",
        ),
        "DE89370400440532013000",
        "COBADEFFXXX",
        Party(
            "Müller & Söhne KG",
            ("Lindenweg 5", "80331 München", "Deutschland"),
            "rechnungen@mueller-soehne.example",
            "+49 89 7654321",
        ),
        "Europe/Berlin",
    ),
    "fr": _Setting(
        "fr_FR",
        "EUR",
        Party(
            "Atelier Dupont SARL",
            ("8 rue de la République", "69002 Lyon", "France"),
            "comptabilite@atelier-dupont.example",
            "+33 4 72 00 00 00",
        ),
        "FR1420041010050500013M02606",
        "PSSTFRPPLYO",
        Party(
            "Martin & Fils",
            ("14 avenue Jean Jaurès", "13001 Marseille", "France"),
            "factures@martin-fils.example",
            "+33 4 91 00 00 00",
        ),
        "Europe/Paris",
    ),
    "nl": _Setting(
        "nl_NL",
        "EUR",
        Party(
            "Van Dijk Groothandel B.V.",
            ("Oudegracht 101", "3511 AD Utrecht", "Nederland"),
            "debiteuren@vandijk.example",
            "+31 30 123 4567",
        ),
        "NL91ABNA0417164300",
        "ABNANL2A",
        Party(
            "Jansen & Zonen",
            ("Kerkstraat 7", "1017 GB Amsterdam", "Nederland"),
            "administratie@jansen.example",
            "+31 20 765 4321",
        ),
        "Europe/Amsterdam",
    ),
    "es": _Setting(
        "es_ES",
        "EUR",
        Party(
            "Suministros Ibéricos S.L.",
            ("Calle de Alcalá 45", "28014 Madrid", "España"),
            "cobros@suministros-ibericos.example",
            "+34 910 000 000",
        ),
        "ES9121000418450200051332",
        "CAIXESBBXXX",
        Party(
            "García & Hijos S.A.",
            ("Avenida Diagonal 220", "08018 Barcelona", "España"),
            "pagos@garcia-hijos.example",
            "+34 930 000 000",
        ),
        "Europe/Madrid",
    ),
}


def _line(number: str, issued_on: date, amount: str, open_amount: str, currency: str, level: int) -> NoticeLine:
    due_on = issued_on + timedelta(days=30)
    return NoticeLine(
        invoice_id=f"inv-{number}",
        number=number,
        issued_on=issued_on,
        due_on=due_on,
        amount=Money(Decimal(amount), currency),
        open_amount=Money(Decimal(open_amount), currency),
        level=level,
        days_overdue=(_CREATED_ON - due_on).days,
    )


def sample_document(channel: str, level: int, language: str) -> NoticeDocument:
    """A notice about two invoices (one part-paid) with a third overdue one listed besides.

    Languages without a sample of their own use the English customer and sender, with the
    language's own locale for amounts and dates.
    """
    setting = _SETTINGS.get(language, _SETTINGS["en"])
    locale = setting.locale if language in _SETTINGS else language
    cur = setting.currency
    items = (
        _line("2026-0412", date(2026, 4, 20), "1234.56", "1234.56", cur, level),
        _line("2026-0457", date(2026, 5, 4), "860.00", "410.00", cur, level),
    )
    other = (_line("2026-0503", date(2026, 5, 18), "299.90", "299.90", cur, max(level - 1, 0)),)
    total = sum((line.open_amount.amount for line in (*items, *other)), Decimal(0))
    return NoticeDocument(
        notice_id=f"N-2026-06-30-{level:02d}-0042",
        tenant="demo",
        channel=channel,
        level=level,
        level_name=_STANDARD_LEVELS.get(level, f"level {level}"),
        level_count=max(4, level),
        created_on=_CREATED_ON,
        deadline=_CREATED_ON + timedelta(days=14),
        language=language,
        locale=locale,
        timezone=setting.timezone,
        customer_id="C-1042",
        customer=setting.customer,
        sender=Sender(setting.sender, setting.iban, setting.bic, "https://pay.example.com/demo/N-2026-06-30-0042"),
        items=items,
        other_overdue=other,
        totals=(Money(total, cur),),
        portal_url="https://portal.example.com/p/Xk3-demo-token",
        unsubscribe_url="https://portal.example.com/unsubscribe/Xk3-demo-token",
        message_id="<N-2026-06-30-0042@pastdue.example>",
        reference="RF18 0426 0457 0042",
    )


def minimal_document(channel: str, level: int, language: str) -> NoticeDocument:
    """The sample with every optional field empty: no links, no bank details, nothing else overdue."""
    doc = sample_document(channel, level, language)
    first = doc.items[0]
    return replace(
        doc,
        sender=Sender(replace(doc.sender.party, email="", phone="", address_lines=())),
        customer=replace(doc.customer, email="", phone=""),
        items=(first,),
        other_overdue=(),
        totals=(first.open_amount,),
        portal_url="",
        unsubscribe_url="",
        message_id="",
        reference="",
    )
