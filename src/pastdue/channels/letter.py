"""Postal letters: each notice becomes a PDF in a folder per day, ready for the print batch.

The folder is the hand-over to whoever prints and posts: ``<folder>/<created_on>/<notice
id>.pdf``, next to ``<notice id>.json`` with what the envelope needs (recipient, address,
page count), which :mod:`pastdue.print_batch` turns into a vendor's manifest. The day is the
notice's ``created_on``, not the day it happens to be rendered, so a retry after midnight
still lands in the batch of the run that decided it; and the names depend on the notice
alone, so sending a notice again rewrites its files instead of printing it twice.

The sidecar is written before the PDF: a PDF in the folder always has its address.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.outbox import json_bytes, notice_path, write_atomically
from pastdue.errors import DeliveryError, PermanentFailure
from pastdue.pdf import page_count, render_pdf, render_pdfs

SIDECAR_SUFFIX = ".json"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LetterChannel:
    """Renders letters to PDF files; ``clock`` dates a message whose metadata lacks ``created_on``."""

    name = "letter"

    def __init__(self, folder: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def send(self, message: OutgoingMessage) -> Receipt:
        day, pdf_path = self._destination(message)
        return self._store(message, day, pdf_path, render_pdf(message.html))

    def send_many(self, messages: Sequence[OutgoingMessage]) -> list[Receipt | DeliveryError]:
        """Send a day's letters together: faster than one by one, as fonts are embedded once per batch.

        The gain is small where HarfBuzz's subsetter is installed and fivefold where it is not.

        Returns, in order, each message's receipt or the error :meth:`send` would have raised
        for it, so that one letter without an address does not hold up the others.
        """
        destinations: list[tuple[date, Path] | DeliveryError] = []
        for message in messages:
            try:
                destinations.append(self._destination(message))
            except DeliveryError as error:
                destinations.append(error)
        printable = [m for m, d in zip(messages, destinations, strict=True) if not isinstance(d, DeliveryError)]
        pdfs = iter(render_pdfs([message.html for message in printable]))
        results: list[Receipt | DeliveryError] = []
        for message, destination in zip(messages, destinations, strict=True):
            if isinstance(destination, DeliveryError):
                results.append(destination)
                continue
            try:
                results.append(self._store(message, *destination, next(pdfs)))
            except DeliveryError as error:
                results.append(error)
        return results

    def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """A letter exists once its PDF does (written last, atomically): after a crash the
        queue looks instead of guessing, so a letter is neither lost nor printed twice."""
        _day, pdf_path = self._destination(message, need_content=False)
        return Receipt(str(pdf_path), "found after an interrupted send") if pdf_path.is_file() else None

    def close(self) -> None:
        """Nothing to release: every letter is written and closed as it is sent."""

    def _destination(self, message: OutgoingMessage, *, need_content: bool = True) -> tuple[date, Path]:
        if need_content and not any(line.strip() for line in message.postal_address):
            raise PermanentFailure(f"notice {message.notice_id}: no postal address")
        if need_content and not message.html.strip():
            raise PermanentFailure(f"notice {message.notice_id}: no letter HTML to print")
        day = self._day(message)
        try:
            pdf_path = notice_path(self.folder / day.isoformat(), message.notice_id, ".pdf")
        except ValueError as error:
            raise PermanentFailure(str(error)) from error
        return day, pdf_path

    def _day(self, message: OutgoingMessage) -> date:
        created_on = message.metadata.get("created_on", "")
        if not created_on:
            return self._clock().astimezone(UTC).date()
        try:
            return date.fromisoformat(created_on[:10])
        except ValueError as error:
            raise PermanentFailure(f"notice {message.notice_id}: created_on {created_on!r} is not a date") from error

    def _store(self, message: OutgoingMessage, day: date, pdf_path: Path, pdf: bytes) -> Receipt:
        pages = page_count(pdf)
        write_atomically(pdf_path.with_suffix(SIDECAR_SUFFIX), json_bytes(sidecar(message, day, pages)))
        write_atomically(pdf_path, pdf)
        return Receipt(str(pdf_path), f"{pages} page(s) for the print batch of {day.isoformat()}")


def sidecar(message: OutgoingMessage, day: date, pages: int) -> dict[str, Any]:
    """What the envelope and the print vendor's manifest need, which the PDF holds only as drawn text."""
    return {
        "notice_id": message.notice_id,
        "customer_id": message.customer_id,
        "recipient_name": message.recipient_name,
        "postal_address": [line for line in message.postal_address if line.strip()],
        "subject": message.subject,
        "pages": pages,
        "created_on": day.isoformat(),
    }


def read_sidecar(pdf_path: Path) -> dict[str, Any]:
    """The sidecar of a letter PDF; raises OSError or ValueError when it is missing or unreadable."""
    data = json.loads(pdf_path.with_suffix(SIDECAR_SUFFIX).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{pdf_path.with_suffix(SIDECAR_SUFFIX)}: not a JSON object")
    return data
