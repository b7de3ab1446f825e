"""A realistic one-page dunning letter, built here so that letter tests do not depend on the templates.

The layout is what a print-and-mail vendor expects of a DIN 5008 letter: an A4 page, the
recipient's address in a window box at 45 mm from the top and 20 mm from the left, the sender
above it, and page numbers at the bottom right. No external resources, so rendering needs
neither network nor files.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

LETTER_CSS = """
@page {
  size: A4;
  margin: 20mm 20mm 25mm 20mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; }
}
html { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.35; color: #111; }
body { margin: 0; }
.sender { position: absolute; top: 0; right: 0; width: 70mm; text-align: right; font-size: 8.5pt; }
.sender strong { font-size: 11pt; }
.window { position: absolute; top: 25mm; left: 0; width: 85mm; height: 45mm; }
.window .return { font-size: 6.5pt; border-bottom: 0.3pt solid #333; margin-bottom: 2mm; }
.window .address { font-size: 10pt; }
.content { margin-top: 85mm; }
.meta { text-align: right; margin-bottom: 6mm; }
h1 { font-size: 13pt; margin: 0 0 4mm 0; }
table { width: 100%; border-collapse: collapse; margin: 4mm 0; }
th, td { padding: 1.2mm 2mm; border-bottom: 0.4pt solid #999; text-align: left; }
td.amount, th.amount { text-align: right; }
tfoot td { font-weight: bold; border-bottom: none; }
.pay { margin-top: 5mm; padding: 3mm; border: 0.5pt solid #333; }
"""
"""The page margins are 20 mm, so the window's 25 mm inside the page area is 45 mm on paper."""


@dataclass(frozen=True, slots=True)
class LetterInvoice:
    number: str
    issued_on: str
    due_on: str
    amount: str


@dataclass(frozen=True, slots=True)
class LetterCustomer:
    customer_id: str
    name: str
    address: tuple[str, ...]
    invoices: tuple[LetterInvoice, ...]
    total: str
    language: str = "de"


CUSTOMERS: tuple[LetterCustomer, ...] = (
    LetterCustomer(
        "C-1001",
        "Jürgen Weiß GmbH",
        ("z. Hd. Frau Müller", "Große Straße 12", "80331 München", "Deutschland"),
        (
            LetterInvoice("INV-2026-0412", "2026-04-02", "2026-05-02", "1.250,00 €"),
            LetterInvoice("INV-2026-0419", "2026-04-09", "2026-05-09", "480,50 €"),
            LetterInvoice("INV-2026-0433", "2026-04-20", "2026-05-20", "92,30 €"),
        ),
        "1.822,80 €",
    ),
    LetterCustomer(
        "C-1002",
        "Société Générale d'Électricité",
        ("Service comptabilité", "7 rue de l'Été", "69002 Lyon", "France"),
        (
            LetterInvoice("FAC-77120", "2026-03-15", "2026-04-14", "2 300,00 €"),
            LetterInvoice("FAC-77131", "2026-03-28", "2026-04-27", "715,00 €"),
            LetterInvoice("FAC-77190", "2026-04-11", "2026-05-11", "64,99 €"),
        ),
        "3 079,99 €",
        "fr",
    ),
    LetterCustomer(
        "C-1003",
        "Peña y Muñoz S.L.",
        ("Calle de la Montaña 5", "28013 Madrid", "España"),
        (
            LetterInvoice("F-2026-118", "2026-04-01", "2026-05-01", "980,00 €"),
            LetterInvoice("F-2026-131", "2026-04-05", "2026-05-05", "125,40 €"),
            LetterInvoice("F-2026-140", "2026-04-30", "2026-05-30", "33,00 €"),
        ),
        "1.138,40 €",
        "es",
    ),
    LetterCustomer(
        "C-1004",
        "IJsselmeer Bouw B.V.",
        ("Rijksstraatweg 201", "3316 EJ Dordrecht", "Nederland"),
        (
            LetterInvoice("NL-5501", "2026-04-03", "2026-05-03", "€ 4.400,00"),
            LetterInvoice("NL-5517", "2026-04-17", "2026-05-17", "€ 610,25"),
            LetterInvoice("NL-5523", "2026-04-24", "2026-05-24", "€ 77,75"),
        ),
        "€ 5.088,00",
        "nl",
    ),
)


def letter_html(customer: LetterCustomer, *, letter_date: str = "2026-06-30", extra_paragraphs: int = 0) -> str:
    """The complete HTML document of one final notice; ``extra_paragraphs`` makes it run onto more pages."""
    address = "<br>".join(escape(line) for line in (customer.name, *customer.address))
    rows = "\n".join(
        f"<tr><td>{escape(i.number)}</td><td>{i.issued_on}</td><td>{i.due_on}</td>"
        f'<td class="amount">{escape(i.amount)}</td></tr>'
        for i in customer.invoices
    )
    filler = "\n".join(
        f"<p>Absatz {n + 1}: Wir weisen darauf hin, dass nach Ablauf der Frist weitere Kosten entstehen können. "
        + "Bitte prüfen Sie Ihre Unterlagen sorgfältig und melden Sie sich bei Rückfragen. " * 6
        + "</p>"
        for n in range(extra_paragraphs)
    )
    return f"""<!DOCTYPE html>
<html lang="{customer.language}">
<head>
<meta charset="utf-8">
<title>Letzte Mahnung {escape(customer.customer_id)}</title>
<style>{LETTER_CSS}</style>
</head>
<body>
<div class="sender"><strong>Nordlicht Handel AG</strong><br>Hafenstraße 3<br>20457 Hamburg<br>
Tel. +49 40 1234567<br>buchhaltung@nordlicht.example</div>
<div class="window">
  <div class="return">Nordlicht Handel AG · Hafenstraße 3 · 20457 Hamburg</div>
  <div class="address">{address}</div>
</div>
<div class="content">
  <div class="meta">Hamburg, {letter_date}<br>Kundennummer: {escape(customer.customer_id)}</div>
  <h1>Letzte Mahnung</h1>
  <p>Sehr geehrte Damen und Herren,</p>
  <p>trotz unserer Erinnerungen sind die folgenden Rechnungen noch offen:</p>
  <table>
    <thead><tr><th>Rechnung</th><th>Datum</th><th>Fällig am</th><th class="amount">Offen</th></tr></thead>
    <tbody>
{rows}
    </tbody>
    <tfoot><tr><td colspan="3">Gesamtbetrag</td><td class="amount">{escape(customer.total)}</td></tr></tfoot>
  </table>
  <div class="pay">Bitte überweisen Sie {escape(customer.total)} bis zum 2026-07-14 auf
  IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX, Verwendungszweck {escape(customer.customer_id)}.</div>
  {filler}
  <p>Mit freundlichen Grüßen<br>Ihre Buchhaltung</p>
</div>
</body>
</html>
"""


def sample_letters(count: int) -> list[tuple[LetterCustomer, str]]:
    """``count`` letters cycling through the sample customers, each with its own customer id."""
    letters = []
    for n in range(count):
        base = CUSTOMERS[n % len(CUSTOMERS)]
        customer = LetterCustomer(
            f"{base.customer_id}-{n:05d}", base.name, base.address, base.invoices, base.total, base.language
        )
        letters.append((customer, letter_html(customer)))
    return letters
