"""The day's letters as one print job: a merged PDF and the manifest a print-and-mail vendor asks for.

A vendor prints one long PDF, cuts it into letters by the manifest's page ranges, and puts
each into an envelope addressed from the manifest's row (its window shows the address
printed on the letter, the manifest lets the vendor check and frank it). Letters are taken
in file-name order, so a rebuild gives the same sequence; a rebuild after a late letter
replaces both files, each atomically, and never takes its own output as input.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pastdue.channels.letter import read_sidecar
from pastdue.channels.outbox import write_atomically
from pastdue.errors import StoreError

BATCH_PREFIX = "print-batch-"
ADDRESS_COLUMNS = 4
MANIFEST_HEADER = (
    "sequence",
    "notice_id",
    "recipient_name",
    *(f"address_{n}" for n in range(1, ADDRESS_COLUMNS + 1)),
    "pages",
    "first_page",
    "last_page",
    "file",
)


@dataclass(frozen=True, slots=True)
class PrintBatch:
    """The files written for one day, and how much paper they are."""

    pdf: Path
    manifest: Path
    letters: int
    pages: int


def build_print_batch(letter_dir: Path, day: date) -> PrintBatch | None:
    """Merge the letters of ``day`` into ``print-batch-<day>.pdf`` and ``.csv``; None when there are none.

    Raises :class:`~pastdue.errors.StoreError` when a letter's PDF or sidecar cannot be read:
    a letter the vendor cannot address must stop the batch, not silently miss the post.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    folder = Path(letter_dir) / day.isoformat()
    letters = sorted(path for path in folder.glob("*.pdf") if not path.name.startswith(BATCH_PREFIX))
    if not letters:
        return None
    writer = PdfWriter()
    rows: list[list[str]] = []
    first_page = 1
    for sequence, path in enumerate(letters, start=1):
        try:
            reader = PdfReader(path)
            pages = len(reader.pages)
            envelope = read_sidecar(path)
        except (OSError, ValueError, PyPdfError) as error:
            raise StoreError(f"letter {path} cannot go into the print batch: {error}") from error
        writer.append(reader)
        rows.append(_manifest_row(sequence, path, envelope, pages, first_page))
        first_page += pages
    stem = f"{BATCH_PREFIX}{day.isoformat()}"
    pdf_path, manifest_path = folder / f"{stem}.pdf", folder / f"{stem}.csv"
    merged = io.BytesIO()
    writer.write(merged)
    write_atomically(pdf_path, merged.getvalue())
    write_atomically(manifest_path, _csv_bytes(rows))
    return PrintBatch(pdf_path, manifest_path, len(letters), first_page - 1)


def _manifest_row(sequence: int, path: Path, envelope: dict[str, Any], pages: int, first_page: int) -> list[str]:
    address = envelope.get("postal_address")
    lines = [str(line) for line in address if str(line).strip()] if isinstance(address, list) else []
    if not lines:
        raise StoreError(f"letter {path} has no postal address in its sidecar")
    return [
        str(sequence),
        str(envelope.get("notice_id") or path.stem),
        str(envelope.get("recipient_name") or ""),
        *_address_columns(lines),
        str(pages),
        str(first_page),
        str(first_page + pages - 1),
        path.name,
    ]


def _address_columns(lines: list[str]) -> list[str]:
    """Exactly ``ADDRESS_COLUMNS`` cells: vendors import a fixed layout, so extra lines share the last cell."""
    head, tail = lines[: ADDRESS_COLUMNS - 1], lines[ADDRESS_COLUMNS - 1 :]
    return [*head, ", ".join(tail), *[""] * (ADDRESS_COLUMNS - 1 - len(head))]


def _csv_bytes(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(MANIFEST_HEADER)
    out.writerows(rows)
    return text.getvalue().encode("utf-8")
