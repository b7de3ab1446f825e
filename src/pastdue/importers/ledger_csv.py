"""The CSV ledger of DESIGN.md section 4: customers, invoices and payments.

Reading is streaming: rows are validated one by one and handed on in batches, so a file
of millions of rows never sits in memory. Everything wrong with a row is collected as a
:class:`~pastdue.errors.Problem` naming file, line and field; checks that need other
rows or the database (duplicates, references, currencies of referenced invoices) are done
by the store on the staged rows, so that they too stay bounded in memory.

Rows come out as tuples in the column order of :data:`STAGE_COLUMNS`, with dates as ISO
strings, amounts as integer minor units, and the line number last.
"""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pastdue.errors import Problem
from pastdue.importers.ledger_format import OPTIONAL, REQUIRED, STAGE_COLUMNS, LedgerKind, detect_kind
from pastdue.importers.ledger_rows import row_checker

__all__ = ["STAGE_COLUMNS", "LedgerFile", "LedgerKind", "ledger_files", "read_ledger_file"]

BATCH_ROWS = 5000
MAX_PROBLEMS = 10_000


@dataclass
class LedgerFile:
    """One CSV file being read: its kind, its problems so far, and its row count."""

    path: Path
    kind: LedgerKind
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    rejected: list[str] = field(default_factory=list)
    """Ids of rows refused on their own, so that rows naming them are not also called unknown."""

    @property
    def source(self) -> str:
        return str(self.path)

    def problem(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.source, line, column, message))
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append(Problem(self.source, None, None, "too many problems; stopped listing"))


def read_ledger_file(
    path: Path, timezones: frozenset[str] | None = None
) -> tuple[LedgerFile, Iterator[list[tuple[Any, ...]]]]:
    """Open a ledger CSV; returns the file record and an iterator of validated row batches.

    The file record's ``problems`` fills up while the batches are consumed; rows with
    problems are not yielded. Header problems (unknown or missing columns) are reported
    at once and yield no rows at all.
    """
    unreadable = None
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh, strict=True), [])
    except UnicodeDecodeError:
        header, unreadable = [], "not UTF-8 text"
    except csv.Error as exc:
        header, unreadable = [], f"malformed CSV: {exc}"
    except OSError as exc:
        header, unreadable = [], f"cannot read: {exc.strerror or exc}"
    header = [h.strip() for h in header]
    kind = detect_kind(header) or _kind_from_name(path)
    ledger = LedgerFile(path, kind or LedgerKind.CUSTOMERS)
    if any("\x00" in column for column in header):
        unreadable = "not a text file (it holds NUL bytes)"
    if unreadable == "not UTF-8 text":
        ledger.problem(*_first_undecodable(path))
        return ledger, iter(())
    if unreadable:
        ledger.problem(1, None, unreadable)
        return ledger, iter(())
    if kind is None:
        ledger.problem(
            1,
            None,
            "not a ledger file: the header matches neither customers, invoices nor payments",
        )
        return ledger, iter(())
    known = set(REQUIRED[kind]) | set(OPTIONAL[kind])
    for column in header:
        if column not in known:
            ledger.problem(1, column, f"unknown column (known: {', '.join(sorted(known))})")
    for column in REQUIRED[kind]:
        if column not in header:
            ledger.problem(1, column, "missing column")
    if len(set(header)) != len(header):
        ledger.problem(1, None, "a column appears twice in the header")
    if ledger.problems:
        return ledger, iter(())
    return ledger, _batches(ledger, header, timezones or _timezones())


def _first_undecodable(path: Path) -> tuple[int | None, None, str]:
    """Line and byte of the first bytes that are not UTF-8: the decoder reads ahead in
    chunks, so where it failed says little; a second, byte-wise pass says exactly where."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, None, f"not UTF-8 text: {exc.reason} at byte {exc.start + 1} of the line"
    return None, None, "not UTF-8 text"


def _kind_from_name(path: Path) -> LedgerKind | None:
    stem = path.stem.lower()
    return next((k for k in LedgerKind if stem.startswith(k.value)), None)


def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _batches(ledger: LedgerFile, header: list[str], timezones: frozenset[str]) -> Iterator[list[tuple[Any, ...]]]:
    check = row_checker(ledger, header, timezones)
    id_column = header.index("id")
    batch: list[tuple[Any, ...]] = []
    with ledger.path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        next(reader, None)
        line = reader.line_num + 1
        width = len(header)
        try:
            for record in reader:
                if not record or (len(record) == 1 and not record[0].strip()):
                    line = reader.line_num + 1
                    continue
                ledger.rows += 1
                if len(record) != width:
                    ledger.problem(line, None, f"has {len(record)} fields; the header has {width}")
                else:
                    row = check(record, line)
                    if row is not None:
                        batch.append(row)
                        if len(batch) >= BATCH_ROWS:
                            yield batch
                            batch = []
                    elif len(ledger.rejected) < MAX_PROBLEMS:
                        ledger.rejected.append(record[id_column].strip())
                line = reader.line_num + 1
        except csv.Error as exc:
            ledger.problem(line, None, f"malformed CSV: {exc}")
        except UnicodeDecodeError:
            ledger.problem(*_first_undecodable(ledger.path))
    if batch:
        yield batch


def ledger_files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand folders into their CSV files, customers first so references resolve in order."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.csv"))
            if not found:
                problems.append(Problem(str(path), None, None, "folder holds no .csv files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, None, "no such file or folder"))
    order = {"customers": 0, "invoices": 1, "payments": 2}
    files.sort(key=lambda p: (next((v for k, v in order.items() if p.stem.startswith(k)), 3), str(p)))
    return files, problems
