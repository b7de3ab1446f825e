"""A realistic sample ledger for ``pastdue demo``, written as the CSV files of DESIGN.md §4.

The demo has to show what collections look like in a real receivables book: customers in
several countries, languages and time zones; invoices in their own currencies; most paid on
time, some late, some in part, some not at all; credit notes; and cash that arrived without
saying which invoice it pays. Payment habits belong to the customer (a slow payer is slow on
every invoice), so the dunning queue clusters the way a collector would recognise.

Everything is drawn from one ``random.Random(seed)`` and dated relative to ``as_of``, never
to the clock, so that a seed gives byte-identical files and the demo tells the same story
every time. Money is handled in integer minor units and written through
:class:`~pastdue.core.money.Money`, so JPY has no decimals and EUR always has two.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from pastdue.core.money import Money, exponent

__all__ = ["CUSTOMER_COLUMNS", "INVOICE_COLUMNS", "PAYMENT_COLUMNS", "write_sample_ledger"]

CUSTOMER_COLUMNS = ("id", "name", "email", "phone", "country", "language", "timezone",
                    "street", "postal_code", "city", "kind", "exempt")  # fmt: skip
INVOICE_COLUMNS = ("id", "customer_id", "number", "currency", "amount", "issued_on", "due_on")
PAYMENT_COLUMNS = ("id", "invoice_id", "amount", "currency", "paid_on", "customer_id",
                   "reference", "kind")  # fmt: skip

ISSUE_WINDOW_DAYS = 200


class _City(NamedTuple):
    name: str
    area: str  # telephone area code, without the trunk prefix
    postcodes: str  # "|" separated: some countries' codes contain a space
    timezone: str = ""  # when it differs from the country's
    language: str = ""  # when the city, not the country, decides (Belgium, Switzerland)
    region: str = ""  # US state, written after the city name
    districts: str = ""  # Japanese addresses name a district, not a street


@dataclass(frozen=True)
class _Country:
    code: str
    currency: str
    timezone: str
    calling: str
    weight: int  # share of the customers
    digits: int  # national significant number length
    mobile: str  # mobile prefix, for consumers
    languages: str  # "de:9 en:1": weights of the contact language
    street_format: str  # "{s} {n}" or "{n} {s}"
    streets: str
    surnames: str
    first_names: str
    suffixes: str
    cities: tuple[_City, ...]


def _words(text: str) -> list[str]:
    return text.split("|") if "|" in text else text.split()


_C = _City
# fmt: off
COUNTRIES: tuple[_Country, ...] = (
    _Country("DE", "EUR", "Europe/Berlin", "49", 24, 10, "15", "de:9 en:1", "{s} {n}",
        "Hauptstraße|Bahnhofstraße|Schillerstraße|Goethestraße|Lindenallee|Industriestraße"
        "|Am Markt|Friedrichstraße|Kastanienweg|Gewerbepark Nord",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schulz Koch Richter",
        "Anna Lukas Sophie Jonas Marie Felix Laura Paul Katrin Thomas", "GmbH|AG|GmbH & Co. KG|KG",
        (_C("Berlin", "30", "10115|10117|10178|10969"), _C("München", "89", "80331|80469|81667"),
         _C("Hamburg", "40", "20095|20457|22765"), _C("Köln", "221", "50667|50672|50823"),
         _C("Frankfurt am Main", "69", "60311|60313|60486"), _C("Leipzig", "341", "04103|04109"),
         _C("Stuttgart", "711", "70173|70178"))),
    _Country("AT", "EUR", "Europe/Vienna", "43", 6, 9, "66", "de:1", "{s} {n}",
        "Mariahilfer Straße|Landstraße|Herrengasse|Wiener Straße|Hauptplatz|Schulgasse",
        "Gruber Huber Bauer Wagner Pichler Steiner Moser Mayer Hofer Leitner",
        "Lena Tobias Hannah David Julia Florian Sarah Stefan", "GmbH|AG|OG|KG",
        (_C("Wien", "1", "1010|1020|1070|1100"), _C("Graz", "316", "8010|8020"),
         _C("Linz", "732", "4020"), _C("Salzburg", "662", "5020"), _C("Innsbruck", "512", "6020"))),
    _Country("CH", "CHF", "Europe/Zurich", "41", 5, 9, "79", "en:1", "{s} {n}",
        "Bahnhofstrasse|Seestrasse|Dorfstrasse|Rue du Rhône|Rue de Lausanne|Industriestrasse",
        "Müller Meier Schmid Keller Weber Huber Favre Rochat Bonvin Gerber",
        "Noah Mia Luca Elena Nicolas Chloé Jan Lea", "AG|GmbH|SA|Sàrl",
        (_C("Zürich", "44", "8001|8004|8050", language="de"),
         _C("Basel", "61", "4051|4057", language="de"), _C("Bern", "31", "3011", language="de"),
         _C("Genève", "22", "1201|1204", language="fr"),
         _C("Lausanne", "21", "1003", language="fr"))),
    _Country("FR", "EUR", "Europe/Paris", "33", 12, 9, "6", "fr:19 en:1", "{n} {s}",
        "rue de la République|avenue Jean Jaurès|boulevard Voltaire|rue Victor Hugo"
        "|place de la Gare|rue du Commerce|allée des Tilleuls",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefebvre",
        "Camille Louis Léa Hugo Manon Jules Chloé Nicolas", "SARL|SAS|SA|EURL",
        (_C("Paris", "1", "75001|75008|75011|75015"), _C("Lyon", "4", "69001|69002|69003"),
         _C("Marseille", "4", "13001|13008"), _C("Toulouse", "5", "31000"),
         _C("Bordeaux", "5", "33000|33800"), _C("Lille", "3", "59000"))),
    _Country("NL", "EUR", "Europe/Amsterdam", "31", 9, 9, "6", "nl:4 en:1", "{s} {n}",
        "Kerkstraat|Dorpsstraat|Stationsweg|Molenweg|Nieuwstraat|Keizersgracht|Schoolstraat",
        "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Visser|Smit|Meijer|de Boer",
        "Daan Emma Sem Julia Lucas Tess Bram Sanne", "B.V.|N.V.|V.O.F.",
        (_C("Amsterdam", "20", "1012 AB|1015 CJ|1071 XX"), _C("Rotterdam", "10", "3011 AA|3012 CL"),
         _C("Utrecht", "30", "3511 LX|3521 AZ"), _C("Den Haag", "70", "2511 BT"),
         _C("Eindhoven", "40", "5611 AZ"))),
    _Country("BE", "EUR", "Europe/Brussels", "32", 5, 8, "47", "en:1", "{s} {n}",
        "Rue de la Loi|Avenue Louise|Kerkstraat|Stationsstraat|Meir|Grote Markt|Rue Neuve",
        "Peeters Janssens Maes Jacobs Mertens Dubois Lambert Dupont Claes Willems",
        "Lucas Louise Arthur Olivia Noah Elise Victor Marie", "BV|NV|SRL|SA",
        (_C("Bruxelles", "2", "1000|1040|1050", language="fr"), _C("Antwerpen", "3", "2000|2018",
         language="nl"), _C("Gent", "9", "9000", language="nl"),
         _C("Liège", "4", "4000", language="fr"), _C("Leuven", "16", "3000", language="nl"))),
    _Country("ES", "EUR", "Europe/Madrid", "34", 8, 9, "6", "es:9 en:1", "{s}, {n}",
        "Calle Mayor|Gran Vía|Avenida de la Constitución|Calle de Alcalá|Paseo de Gracia"
        "|Calle Real|Plaza de España",
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín",
        "Lucía Hugo Martina Pablo Sofía Alejandro Carmen Javier", "S.L.|S.A.|S.L.U.",
        (_C("Madrid", "91", "28001|28004|28013"), _C("Barcelona", "93", "08001|08007|08029"),
         _C("Valencia", "96", "46001|46002"), _C("Sevilla", "95", "41001"),
         _C("Bilbao", "94", "48001"))),
    _Country("GB", "GBP", "Europe/London", "44", 12, 10, "7", "en:1", "{n} {s}",
        "High Street|Station Road|Church Lane|Victoria Road|Park Avenue|King Street|Mill Lane",
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Evans Roberts Walker",
        "Oliver Amelia George Isla Harry Ava Jack Emily", "Ltd|plc|LLP",
        (_C("London", "20", "EC1A 1BB|SW1A 2AA|E1 6AN|N1 9GU"), _C("Manchester", "161", "M1 1AE"),
         _C("Birmingham", "121", "B1 1BB"), _C("Leeds", "113", "LS1 4AP"),
         _C("Bristol", "117", "BS1 4DJ"), _C("Edinburgh", "131", "EH1 1YZ"))),
    _Country("IE", "EUR", "Europe/Dublin", "353", 4, 9, "87", "en:1", "{n} {s}",
        "Main Street|Grafton Street|Patrick Street|Church Road|Strand Road|O'Connell Street",
        "Murphy|Kelly|O'Sullivan|Walsh|O'Brien|Byrne|Ryan|O'Connor|Doyle|Kennedy",
        "Jack Grace Conor Aoife Seán Niamh Cian Ciara", "Ltd|DAC",
        (_C("Dublin", "1", "D02 X285|D08 VF8H|D04 C932"), _C("Cork", "21", "T12 R2NC"),
         _C("Galway", "91", "H91 E2K3"), _C("Limerick", "61", "V94 T9PX"))),
    _Country("US", "USD", "America/New_York", "1", 12, 10, "", "en:9 es:1", "{n} {s}",
        "Main Street|Oak Avenue|Maple Drive|Market Street|Fifth Avenue|Elm Street|Lake Shore Drive",
        "Smith Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Wilson Anderson",
        "James Olivia Michael Emma Daniel Ava Ethan Sophia", "Inc.|LLC|Corp.",
        (_C("New York", "212", "10001|10013|10036", region="NY"),
         _C("Boston", "617", "02108|02110", region="MA"),
         _C("Chicago", "312", "60601|60606", "America/Chicago", region="IL"),
         _C("Austin", "512", "78701", "America/Chicago", region="TX"),
         _C("San Francisco", "415", "94105|94107", "America/Los_Angeles", region="CA"))),
    _Country("JP", "JPY", "Asia/Tokyo", "81", 3, 10, "90", "en:1", "{s} {n}", "",
        "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato",
        "Haruto Yui Sota Hina Ren Aoi Yuto Mei", "K.K.|Co., Ltd.|G.K.",
        (_C("Tokyo", "3", "100-0005|107-0052|150-0002", districts="Marunouchi Akasaka Shibuya"),
         _C("Osaka", "6", "530-0001|542-0076", districts="Umeda Namba"),
         _C("Nagoya", "52", "450-0002|460-0008", districts="Meieki Sakae"))),
)

# Per business language: industries, whether they precede the surname, accounts mailboxes,
# public bodies, and how a remittance and a credit note are worded.
_INDUSTRY = {
    "de": "Maschinenbau Logistik Bau Elektrotechnik Metallbau Software Handel Haustechnik",
    "en": "Logistics Engineering Trading Software Construction Print Supplies Foods",
    "fr": "Transports Bâtiment Informatique Menuiserie Conseil Distribution Imprimerie",
    "nl": "Installatietechniek Transport Bouw Techniek Groothandel Advies Logistiek",
    "es": "Construcciones Transportes Distribuciones Suministros Consultoría Instalaciones",
}
_INDUSTRY_FIRST = {"fr", "es"}
_MAILBOX = {"de": "buchhaltung rechnungen", "en": "accounts ap invoices",
            "fr": "comptabilite factures", "nl": "administratie facturen",
            "es": "contabilidad facturas"}
_PUBLIC = {"de": "Stadt {c}|Stadtwerke {c}", "en": "City of {c}|{c} City Council|University of {c}",
           "fr": "Ville de {c}|Mairie de {c}", "nl": "Gemeente {c}|Stad {c}",
           "es": "Ayuntamiento de {c}|Universidad de {c}"}
# remittance naming the invoice, credit note, remittance naming only the customer
_TEXTS = {"de": ("Rechnung {x}", "Gutschrift {c} zu {x}", "Zahlung Kd.-Nr. {k}"),
          "en": ("Invoice {x}", "Credit note {c} for {x}", "Payment customer {k}"),
          "fr": ("Facture {x}", "Avoir {c} sur {x}", "Virement client {k}"),
          "nl": ("Factuur {x}", "Creditnota {c} bij {x}", "Betaling klant {k}"),
          "es": ("Factura {x}", "Abono {c} de {x}", "Pago cliente {k}")}

# Rough value of one EUR, so that a typical invoice is typical in every currency.
_PER_EUR = {"EUR": 1.0, "GBP": 0.85, "USD": 1.08, "CHF": 0.95, "JPY": 160.0}
# Payment habit -> weights of (on time, late, partial, never).
_HABITS = {"prompt": (85, 8, 2, 5), "slow": (25, 55, 8, 12), "partial": (20, 20, 40, 20),
           "delinquent": (5, 15, 15, 65)}
_HABIT_WEIGHTS = {"prompt": 45, "slow": 30, "partial": 10, "delinquent": 15}  # of customers
_TERMS = {"14": 25, "30": 55, "60": 20}  # payment terms of businesses, in days
# fmt: on


@dataclass(frozen=True)
class _Customer:
    id: str
    country: _Country
    business_language: str  # the language its documents and remittances are written in
    kind: str
    term: int
    habit: str


@dataclass
class _Invoice:
    customer: _Customer
    issued_on: date
    due_on: date
    minor: int
    id: str = ""
    number: str = ""
    open_minor: int = 0


def write_sample_ledger(folder: Path, *, as_of: date, invoices: int = 3000, seed: int = 2026) -> dict[str, int]:
    """Write customers.csv, invoices.csv and payments.csv into ``folder`` (created if missing).

    Returns the number of data rows written per file name. The files hold no payment dated
    after ``as_of`` and no invoice paid or credited beyond its amount; unapplied payments
    never exceed the open amount of the invoice they are meant for, so matching them cannot
    overpay it either.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    customers, customer_rows = _customers(rng, max(3, invoices // 7))
    ledger = _invoices(rng, customers, invoices, as_of)
    payments = _payments(rng, ledger, as_of)
    invoice_rows = [[i.id, i.customer.id, i.number, i.customer.country.currency,
                     _amount(i.minor, i.customer.country.currency), i.issued_on.isoformat(),
                     i.due_on.isoformat()] for i in ledger]  # fmt: skip
    payments.sort(key=lambda row: row[3])  # chronological, as a bank account reads
    payment_rows = [[f"P{n:06d}", *row] for n, row in enumerate(payments, start=1)]
    files = {"customers.csv": (CUSTOMER_COLUMNS, customer_rows),
             "invoices.csv": (INVOICE_COLUMNS, invoice_rows),
             "payments.csv": (PAYMENT_COLUMNS, payment_rows)}  # fmt: skip
    for name, (header, rows) in files.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return {name: len(rows) for name, (_, rows) in files.items()}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _slug(text: str, sep: str = "-") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    parts = "".join(ch if ch.isalnum() else " " for ch in ascii_text.lower()).split()
    return sep.join(parts)


def _amount(minor: int, currency: str) -> str:
    return str(Money.of_minor(minor, currency).amount)


def _customers(rng: random.Random, count: int) -> tuple[list[_Customer], list[list[str]]]:
    customers: list[_Customer] = []
    rows: list[list[str]] = []
    seen_emails: set[str] = set()
    for n in range(1, count + 1):
        country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
        city = rng.choice(country.cities)
        mix = {lang: int(w) for lang, _, w in (p.partition(":") for p in country.languages.split())}
        business_language = city.language or next(iter(mix))
        language = business_language if city.language else _pick(rng, mix)
        kind = _pick(rng, {"business": 75, "consumer": 18, "public": 7})
        name, email = _identity(rng, country, city, business_language, kind)
        if email in seen_emails:
            local, _, domain = email.partition("@")
            email = f"{local}{n}@{domain}"
        seen_emails.add(email)
        prefix = country.mobile if kind == "consumer" and country.mobile else city.area
        rest = country.digits - len(prefix) - 1
        phone = f"+{country.calling}{prefix}{rng.randint(2, 9)}{rng.randrange(10**rest):0{rest}d}"
        term = {"consumer": 14, "public": 30}.get(kind) or int(_pick(rng, _TERMS))
        customer = _Customer(f"C{n:05d}", country, business_language, kind, term,
                             _pick(rng, _HABIT_WEIGHTS))  # fmt: skip
        exempt = rng.random() < (0.12 if kind == "public" else 0.02)
        customers.append(customer)
        rows.append([
            customer.id, name, email, phone, country.code, language,
            city.timezone or country.timezone, _street(rng, country, city),
            rng.choice(city.postcodes.split("|")),
            f"{city.name}, {city.region}" if city.region else city.name,
            kind, "true" if exempt else "false",
        ])  # fmt: skip
    return customers, rows


def _identity(rng: random.Random, country: _Country, city: _City, language: str, kind: str) -> tuple[str, str]:
    """Name and billing e-mail; addresses use reserved example domains, so nothing escapes."""
    surname = rng.choice(_words(country.surnames))
    if kind == "consumer":
        first = rng.choice(_words(country.first_names))
        return f"{first} {surname}", f"{_slug(first, '.')}.{_slug(surname, '.')}@example.net"
    if kind == "public":
        name = rng.choice(_words(_PUBLIC[language])).format(c=city.name)
    elif rng.random() < 0.3:
        name = f"{surname} & {rng.choice(_words(country.surnames))}"
    else:
        industry = rng.choice(_INDUSTRY[language].split())
        name = f"{industry} {surname}" if language in _INDUSTRY_FIRST else f"{surname} {industry}"
    email = f"{rng.choice(_MAILBOX[language].split())}@{_slug(name)}.example.com"
    if kind == "business":
        name = f"{name} {rng.choice(_words(country.suffixes))}"
    return name, email


def _street(rng: random.Random, country: _Country, city: _City) -> str:
    if city.districts:  # Japan: district, then block-building-unit ("Marunouchi 1-9-2")
        house = f"{rng.randint(1, 5)}-{rng.randint(1, 20)}-{rng.randint(1, 30)}"
        return f"{rng.choice(city.districts.split())} {house}"
    number = str(rng.randint(1, 1800 if country.code == "US" else 120))
    return country.street_format.format(s=rng.choice(_words(country.streets)), n=number)


def _invoices(rng: random.Random, customers: list[_Customer], count: int, as_of: date) -> list[_Invoice]:
    """Invoices numbered the way an accounting system numbers them: by issue date, per year."""
    drafts: list[_Invoice] = []
    for _ in range(count):
        customer = customers[int(len(customers) * rng.random() ** 1.5)]  # regulars buy more
        issued = as_of - timedelta(days=rng.randint(0, ISSUE_WINDOW_DAYS))
        median = {"consumer": 140.0, "business": 1400.0, "public": 3500.0}[customer.kind]
        euros = min(max(rng.lognormvariate(0, 1.1) * median, 9.5), 180_000.0)
        currency = customer.country.currency
        minor = round(euros * _PER_EUR[currency] * 10 ** exponent(currency))
        if currency == "JPY":
            minor = max(100, round(minor, -1))
        drafts.append(_Invoice(customer, issued, issued + timedelta(days=customer.term), minor))
    drafts.sort(key=lambda inv: inv.issued_on)  # stable: draws keep their order within a day
    per_year: dict[int, int] = {}
    for n, inv in enumerate(drafts, start=1):
        year = inv.issued_on.year
        per_year[year] = per_year.get(year, 0) + 1
        inv.id, inv.number = f"I{n:06d}", f"INV-{year}-{per_year[year]:05d}"
        inv.open_minor = inv.minor
    return drafts


def _payments(rng: random.Random, ledger: list[_Invoice], as_of: date) -> list[list[str]]:
    """Payment rows without their id: what each customer's habit has paid by ``as_of``."""
    rows: list[list[str]] = []
    credit_notes = 0

    def pay(inv: _Invoice, minor: int, day: date, reference: str, kind: str = "payment") -> None:
        if minor <= 0 or day > as_of or minor > inv.open_minor:
            return  # not happened yet (or nothing to pay): the invoice stays open
        inv.open_minor -= minor
        currency = inv.customer.country.currency
        rows.append([inv.id, _amount(minor, currency), currency, day.isoformat(),
                     inv.customer.id, reference, kind])  # fmt: skip

    for inv in ledger:
        language = inv.customer.business_language
        remit = _TEXTS[language][0].format(x=inv.number)
        if rng.random() < 0.04:  # a return or a price dispute, settled by a credit note
            credit_notes += 1
            note = f"CN-{inv.issued_on.year}-{credit_notes:04d}"
            share = 1.0 if rng.random() < 0.3 else rng.uniform(0.05, 0.3)
            day = inv.issued_on + timedelta(days=rng.randint(1, 30))
            text = _TEXTS[language][1].format(c=note, x=inv.number)
            pay(inv, round(inv.minor * share), day, text, "credit")
        outcome = rng.choices(("on_time", "late", "partial", "never"),
                              weights=_HABITS[inv.customer.habit])[0]  # fmt: skip
        term = (inv.due_on - inv.issued_on).days
        if outcome == "on_time":
            early = rng.randint(0, term * 2 // 3)
            pay(inv, inv.open_minor, inv.due_on - timedelta(days=early), remit)
        elif outcome == "late":
            late = 1 + min(int(rng.expovariate(1 / 25)), 150)
            pay(inv, inv.open_minor, inv.due_on + timedelta(days=late), remit)
        elif outcome == "partial":
            day = inv.due_on + timedelta(days=rng.randint(-term // 2, 45))
            for _ in range(rng.choice((1, 1, 2))):
                pay(inv, round(inv.open_minor * rng.uniform(0.15, 0.6)), day, remit)
                day += timedelta(days=rng.randint(10, 40))
    rows.extend(_unapplied(rng, ledger, as_of))
    return rows


def _unapplied(rng: random.Random, ledger: list[_Invoice], as_of: date) -> list[list[str]]:
    """Recent bank credits nobody has matched yet, each meant for one overdue invoice; half
    name the invoice, half only the customer, so matching has easy and ambiguous cases."""
    overdue = [inv for inv in ledger if inv.open_minor > 0 and inv.due_on < as_of]
    chosen = rng.sample(overdue, min(len(overdue), max(2, len(ledger) // 300)))
    rows: list[list[str]] = []
    for inv in chosen:
        currency, language = inv.customer.country.currency, inv.customer.business_language
        minor = inv.open_minor if rng.random() < 0.7 else max(1, inv.open_minor // 2)
        day = max(inv.issued_on, as_of - timedelta(days=rng.randint(0, 10)))
        named = rng.random() < 0.5
        reference = _TEXTS[language][0 if named else 2].format(x=inv.number, k=inv.customer.id)
        inv.open_minor -= minor  # reserved: a later match must not overpay
        rows.append(["", _amount(minor, currency), currency, day.isoformat(), inv.customer.id,
                     reference, "payment"])  # fmt: skip
    return rows
