"""Bank statement files: which format a file is, and its lines, read here or in a child process.

A large statement takes seconds to parse; the import reads it in a child process while it
loads and indexes the open ledger, and the lines come back as plain tuples (pickling the
dataclasses would cost more than it saves). The child is ``python -m
pastdue.importers.statements FILE``, not a multiprocessing worker: it never re-imports the
caller's main module, so a library user's script needs no ``__main__`` guard.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pastdue.core.money import Money
from pastdue.errors import PastdueError, Problem, ProblemsFound
from pastdue.importers.camt import MAX_BYTES, StatementLine, looks_like_camt, parse_camt
from pastdue.importers.mt940 import looks_like_mt940, parse_mt940

HEAD_BYTES = 65536
PARALLEL_FROM_BYTES = 8 << 20
"""Statements at least this large are parsed in a child process (about 15,000 entries)."""


def statement_format(path: Path) -> str | None:
    """``camt`` or ``mt940`` when the file's content is a bank statement, else ``None``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    if looks_like_camt(head):
        return "camt"
    if looks_like_mt940(head):
        return "mt940"
    return None


def read_statement(path: Path) -> tuple[str, list[StatementLine]]:
    """Parse a statement file; every problem found raises ProblemsFound (nothing imported)."""
    kind, lines, problems = _read(path)
    if problems:
        raise ProblemsFound(problems)
    return kind, lines


def _read(path: Path) -> tuple[str, list[StatementLine], list[Problem]]:
    kind = statement_format(path)
    source = path.name
    if kind is None:
        return "", [], [Problem(source, None, None, "not a camt.053/camt.054 or MT940 statement")]
    size = path.stat().st_size
    if size > MAX_BYTES:
        return kind, [], [Problem(source, None, None, f"too large ({size} bytes; at most {MAX_BYTES})")]
    data = path.read_bytes()
    lines, problems = parse_camt(data, source) if kind == "camt" else parse_mt940(data, source)
    return kind, lines, problems


class StatementReading:
    """A statement being read: in a child process when it is large, else on demand here."""

    def __init__(self, path: Path, parallel_from: int = PARALLEL_FROM_BYTES) -> None:
        self.path = path
        self._child: subprocess.Popen[bytes] | None = None
        try:
            large = path.stat().st_size >= parallel_from
        except OSError as exc:
            raise ProblemsFound([Problem(path.name, None, None, f"cannot read: {exc.strerror}")]) from exc
        if large and statement_format(path) is not None:
            self._child = subprocess.Popen(
                [sys.executable, "-m", __name__, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )

    @property
    def in_background(self) -> bool:
        return self._child is not None

    def result(self) -> tuple[str, list[StatementLine]]:
        if self._child is None:
            return read_statement(self.path)
        out, err = self._child.communicate()
        if self._child.returncode != 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise PastdueError(f"reading {self.path.name} failed in its child process: {detail[0]}")
        kind, rows, problems = pickle.loads(out)
        if problems:
            raise ProblemsFound(problems)
        return kind, [_from_compact(row) for row in rows]

    def close(self) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.kill()
            self._child.communicate()
        self._child = None

    def __enter__(self) -> StatementReading:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _read_compact(path: str) -> tuple[str, list[tuple[Any, ...]], list[Problem]]:
    """In the child: the lines as tuples of plain values."""
    kind, lines, problems = _read(Path(path))
    return kind, [_to_compact(line) for line in lines], problems


def _to_compact(line: StatementLine) -> tuple[Any, ...]:
    return (
        line.key,
        line.account,
        line.amount.currency,
        line.amount.minor,
        line.booked_on.toordinal(),
        line.value_on.toordinal() if line.value_on else None,
        line.reversal,
        line.remittance,
        line.end_to_end_id,
        line.payer_name,
        line.payer_iban,
        line.return_reason,
        line.charges.minor if line.charges is not None else None,
        line.charges.currency if line.charges is not None else None,
    )


def _from_compact(row: tuple[Any, ...]) -> StatementLine:
    key, account, currency, minor, booked, value, reversal, remittance, e2e, name, iban, reason, charge, ccy = row
    day: Callable[[int], date] = date.fromordinal
    return StatementLine(
        key=key,
        account=account,
        amount=Money.of_minor(minor, currency),
        booked_on=day(booked),
        value_on=day(value) if value is not None else None,
        reversal=reversal,
        remittance=remittance,
        end_to_end_id=e2e,
        payer_name=name,
        payer_iban=iban,
        return_reason=reason,
        charges=Money.of_minor(charge, ccy) if charge is not None else None,
    )


if __name__ == "__main__":  # the child of StatementReading: pickled plain tuples on stdout
    sys.stdout.buffer.write(pickle.dumps(_read_compact(sys.argv[1]), protocol=pickle.HIGHEST_PROTOCOL))
