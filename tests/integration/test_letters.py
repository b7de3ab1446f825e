"""Letters as real PDFs: read back with pypdf as a printer or a customer would, and batched for the post."""

from __future__ import annotations

import builtins
import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from letter_fixture import CUSTOMERS, LetterCustomer, letter_html
from pypdf import PdfReader

from pastdue import pdf as pdf_module
from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.letter import LetterChannel
from pastdue.errors import ConfigurationError, PermanentFailure, StoreError
from pastdue.pdf import check_pdf_support, page_count, render_pdf, render_pdfs
from pastdue.print_batch import MANIFEST_HEADER, build_print_batch

try:
    check_pdf_support()
except ConfigurationError as missing:
    pytest.skip(str(missing), allow_module_level=True)

DAY = date(2026, 6, 30)
A4_POINTS = (595.28, 841.89)
MM = 72 / 25.4


def message(customer: LetterCustomer, notice_id: str, **changes: Any) -> OutgoingMessage:
    letter = OutgoingMessage(
        notice_id=notice_id,
        channel="letter",
        customer_id=customer.customer_id,
        to="",
        recipient_name=customer.name,
        subject="Letzte Mahnung",
        html=letter_html(customer),
        postal_address=customer.address,
        metadata={"created_on": DAY.isoformat(), "level": "4"},
    )
    return replace(letter, **changes)


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def page_contents(data: bytes) -> list[bytes]:
    """What each page draws, without the font files (fontTools stamps a subset with the time)."""
    contents = [page.get_contents() for page in PdfReader(io.BytesIO(data)).pages]
    return [content.get_data() if content is not None else b"" for content in contents]


@pytest.fixture(scope="module")
def single_pdfs() -> dict[str, bytes]:
    return {customer.customer_id: render_pdf(letter_html(customer)) for customer in CUSTOMERS}


@pytest.mark.parametrize("customer", CUSTOMERS, ids=[c.language for c in CUSTOMERS])
def test_letter_reads_back_with_name_address_invoices_amounts_and_page_number(
    customer: LetterCustomer, single_pdfs: dict[str, bytes]
) -> None:
    reader = PdfReader(io.BytesIO(single_pdfs[customer.customer_id]))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width, 2), round(height, 2)) == A4_POINTS
    text = reader.pages[0].extract_text()
    expected = [customer.name, *customer.address, customer.total, "1 / 1"]
    expected += [part for invoice in customer.invoices for part in (invoice.number, invoice.amount)]
    assert [part for part in expected if part not in text] == []


def test_accents_sharp_s_tilde_and_dutch_ij_survive_into_the_text(single_pdfs: dict[str, bytes]) -> None:
    text = "\n".join(t for data in single_pdfs.values() for t in page_texts(data))
    words = ("Weiß", "München", "Müller", "Société", "Électricité", "l'Été", "Peña", "Muñoz", "España", "IJsselmeer")
    assert [word for word in words if word not in text] == []


def test_recipient_address_sits_in_the_envelope_window(single_pdfs: dict[str, bytes]) -> None:
    positions: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        positions.setdefault(text.strip(), (x / MM, (A4_POINTS[1] - y) / MM))

    customer = CUSTOMERS[0]
    PdfReader(io.BytesIO(single_pdfs[customer.customer_id])).pages[0].extract_text(visitor_text=visit)
    for line in (customer.name, *customer.address):
        left, from_top = positions[line]
        assert 19.5 <= left < 105 and 45 <= from_top <= 90, (line, left, from_top)


def test_letter_is_written_to_its_day_folder_with_a_sidecar_for_the_envelope(tmp_path: Path) -> None:
    customer = CUSTOMERS[1]
    receipt = LetterChannel(tmp_path).send(message(customer, "N-0001"))

    pdf_path = tmp_path / "2026-06-30" / "N-0001.pdf"
    assert receipt.provider_id == str(pdf_path)
    assert customer.name in page_texts(pdf_path.read_bytes())[0]
    assert json.loads(pdf_path.with_suffix(".json").read_text(encoding="utf-8")) == {
        "notice_id": "N-0001",
        "customer_id": customer.customer_id,
        "recipient_name": customer.name,
        "postal_address": list(customer.address),
        "subject": "Letzte Mahnung",
        "pages": 1,
        "created_on": "2026-06-30",
    }


def test_a_letter_without_created_on_goes_to_the_clocks_day_in_utc(tmp_path: Path) -> None:
    late_evening_utc = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    channel = LetterChannel(tmp_path, clock=lambda: late_evening_utc)
    receipt = channel.send(message(CUSTOMERS[0], "N-0002", metadata={}))
    assert Path(receipt.provider_id) == tmp_path / "2026-07-01" / "N-0002.pdf"


def test_sending_a_notice_again_rewrites_its_files_and_leaves_nothing_else(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path)
    first = channel.send(message(CUSTOMERS[0], "N-0003"))
    second = channel.send(message(CUSTOMERS[0], "N-0003", recipient_name="Jürgen Weiß GmbH & Co. KG"))

    assert first.provider_id == second.provider_id
    assert sorted(p.name for p in (tmp_path / "2026-06-30").iterdir()) == ["N-0003.json", "N-0003.pdf"]
    sidecar = json.loads((tmp_path / "2026-06-30" / "N-0003.json").read_text(encoding="utf-8"))
    assert sidecar["recipient_name"] == "Jürgen Weiß GmbH & Co. KG"


@pytest.mark.parametrize("address", [(), ("", "  ")])
def test_a_letter_without_postal_address_is_refused_for_good(tmp_path: Path, address: tuple[str, ...]) -> None:
    with pytest.raises(PermanentFailure, match="no postal address"):
        LetterChannel(tmp_path).send(message(CUSTOMERS[0], "N-0004", postal_address=address))
    assert not tmp_path.joinpath("2026-06-30").exists()


def test_a_notice_id_cannot_escape_the_letter_folder(tmp_path: Path) -> None:
    receipt = LetterChannel(tmp_path / "letters").send(message(CUSTOMERS[0], "../../etc/N-5"))
    assert Path(receipt.provider_id).parent == tmp_path / "letters" / "2026-06-30"


def test_page_numbers_count_each_letter_of_a_batch_on_its_own() -> None:
    htmls = [
        letter_html(CUSTOMERS[0]),
        letter_html(CUSTOMERS[1], extra_paragraphs=6),
        letter_html(CUSTOMERS[2]),
    ]
    pdfs = render_pdfs(htmls)

    numbers = [[text.strip().splitlines()[-1] for text in page_texts(data)] for data in pdfs]
    assert numbers == [["1 / 1"], ["1 / 2", "2 / 2"], ["1 / 1"]]


def test_a_batch_draws_each_letter_exactly_as_rendering_it_alone(single_pdfs: dict[str, bytes]) -> None:
    batch = render_pdfs([letter_html(customer) for customer in CUSTOMERS])
    for customer, data in zip(CUSTOMERS, batch, strict=True):
        assert page_contents(data) == page_contents(single_pdfs[customer.customer_id])
        metadata = PdfReader(io.BytesIO(data)).metadata
        assert metadata is not None and metadata.title == f"Letzte Mahnung {customer.customer_id}"


def test_page_counts_of_letters_made_here_are_what_a_printer_reads() -> None:
    htmls = [letter_html(CUSTOMERS[0]), letter_html(CUSTOMERS[1], extra_paragraphs=6)]
    made = [render_pdf(htmls[1]), *render_pdfs(htmls)]
    read_back = [len(PdfReader(io.BytesIO(data)).pages) for data in made]

    assert read_back == [2, 1, 2]
    assert [page_count(data) for data in made] == read_back  # as laid out
    assert [page_count(data) for data in made] == read_back  # asked again: read back with pypdf


INLINE_IMPORTANT = """<!DOCTYPE html><html><head><style>@page { size: A4 } p { margin-left: 30mm !important }</style>
</head><body><p style="margin-left: 5mm !important">Zahlbar sofort.</p><p>Ohne Abzug.</p></body></html>"""
TWO_STYLES_WITH_MEDIA = """<!DOCTYPE html><html><head><style>@page { size: A4 } p { margin-left: 30mm }</style>
<style media="screen">p { margin-left: 90mm }</style></head><body><p>Zahlbar sofort.</p></body></html>"""
LINK_THEN_STYLE = """<!DOCTYPE html><html><head><link rel="stylesheet" href="data:text/css,p%7Bmargin-left:60mm%7D">
<style>@page { size: A4 } p { margin-left: 30mm }</style></head><body><p>Zahlbar sofort.</p></body></html>"""


@pytest.mark.parametrize(
    "html",
    [letter_html(CUSTOMERS[3]), INLINE_IMPORTANT, TWO_STYLES_WITH_MEDIA, LINK_THEN_STYLE],
    ids=["letter", "inline-important", "style-media", "link"],
)
def test_reusing_parsed_stylesheets_draws_what_weasyprint_draws(html: str) -> None:
    import weasyprint

    assert page_contents(render_pdf(html)) == page_contents(weasyprint.HTML(string=html).write_pdf())


def test_missing_pango_is_a_configuration_error_that_names_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_pango(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pango)
    pdf_module._weasyprint.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=re.escape("apt-get install libpango-1.0-0 libpangoft2-1.0-0")):
            render_pdf(letter_html(CUSTOMERS[0]))
    finally:
        pdf_module._weasyprint.cache_clear()


def test_batches_spread_over_processes_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "BATCH_SIZE", 2)
    htmls = [letter_html(customer) for customer in CUSTOMERS]
    pdfs = render_pdfs(htmls, workers=2)
    assert [customer.name in page_texts(data)[0] for customer, data in zip(CUSTOMERS, pdfs, strict=True)] == [True] * 4


def test_sending_many_letters_refuses_only_the_one_without_address(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path)
    messages = [
        message(CUSTOMERS[0], "N-0010"),
        message(CUSTOMERS[1], "N-0011", postal_address=()),
        message(CUSTOMERS[2], "N-0012"),
    ]
    results = channel.send_many(messages)

    assert isinstance(results[1], PermanentFailure)
    assert [Path(r.provider_id).name for r in results if isinstance(r, Receipt)] == ["N-0010.pdf", "N-0012.pdf"]
    assert CUSTOMERS[2].name in page_texts((tmp_path / "2026-06-30" / "N-0012.pdf").read_bytes())[0]


def read_manifest(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def letter_day(tmp_path: Path) -> Path:
    """Three letters of 1, 2 and 1 pages, sent out of file-name order."""
    channel = LetterChannel(tmp_path)
    channel.send(message(CUSTOMERS[2], "N-0300"))
    channel.send(message(CUSTOMERS[1], "N-0200", html=letter_html(CUSTOMERS[1], extra_paragraphs=6)))
    channel.send(message(CUSTOMERS[0], "N-0100"))
    return tmp_path


def test_print_batch_merges_the_days_letters_with_a_manifest_of_page_ranges(letter_day: Path) -> None:
    batch = build_print_batch(letter_day, DAY)

    assert batch is not None
    assert (batch.letters, batch.pages) == (3, 4)
    assert batch.pdf == letter_day / "2026-06-30" / "print-batch-2026-06-30.pdf"
    texts = page_texts(batch.pdf.read_bytes())
    assert len(texts) == 4
    rows = read_manifest(batch.manifest)
    assert list(rows[0]) == list(MANIFEST_HEADER)
    assert [(r["sequence"], r["notice_id"], r["pages"], r["first_page"], r["last_page"], r["file"]) for r in rows] == [
        ("1", "N-0100", "1", "1", "1", "N-0100.pdf"),
        ("2", "N-0200", "2", "2", "3", "N-0200.pdf"),
        ("3", "N-0300", "1", "4", "4", "N-0300.pdf"),
    ]
    assert rows[1]["recipient_name"] == CUSTOMERS[1].name
    assert [rows[0][f"address_{n}"] for n in range(1, 5)] == list(CUSTOMERS[0].address)
    assert [rows[2][f"address_{n}"] for n in range(1, 5)] == [*CUSTOMERS[2].address, ""]
    for row in rows:
        customer = next(c for c in CUSTOMERS if c.name == row["recipient_name"])
        first, last = int(row["first_page"]) - 1, int(row["last_page"]) - 1
        assert customer.address[-2] in texts[first]
        assert texts[last].strip().endswith(f"{row['pages']} / {row['pages']}")


def test_rebuilding_a_print_batch_gives_the_same_manifest_and_never_includes_itself(letter_day: Path) -> None:
    first = build_print_batch(letter_day, DAY)
    assert first is not None
    manifest = first.manifest.read_bytes()

    second = build_print_batch(letter_day, DAY)

    assert second == first
    assert second.manifest.read_bytes() == manifest
    assert len(PdfReader(second.pdf).pages) == 4
    assert sorted(p.name for p in second.pdf.parent.iterdir() if p.name.startswith("print-batch")) == [
        "print-batch-2026-06-30.csv",
        "print-batch-2026-06-30.pdf",
    ]


def test_a_day_without_letters_has_no_print_batch(tmp_path: Path) -> None:
    assert build_print_batch(tmp_path, DAY) is None
    (tmp_path / "2026-06-30").mkdir()
    assert build_print_batch(tmp_path, DAY) is None


def test_a_letter_without_its_sidecar_stops_the_batch(letter_day: Path) -> None:
    (letter_day / "2026-06-30" / "N-0200.json").unlink()
    with pytest.raises(StoreError, match="N-0200"):
        build_print_batch(letter_day, DAY)


def test_a_letter_can_be_looked_up_after_a_crash(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path)
    letter = message(CUSTOMERS[0], "n-lookup")
    probe = replace(letter, html="", postal_address=(), recipient_name="")  # what the queue still knows
    assert channel.lookup(probe) is None
    receipt = channel.send(letter)
    found = channel.lookup(probe)
    assert found is not None and found.provider_id == receipt.provider_id
