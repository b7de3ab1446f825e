"""``pastdue sync SOURCE``: pull the ledger from an accounting connector, resumably.

Registered on the main ``pastdue`` app by :mod:`pastdue.cli`, like the delivery commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pastdue import bootstrap
from pastdue.cli import Json, _ready, app, err, handled, out
from pastdue.errors import ProblemsFound
from pastdue.importers.ledger_format import LedgerKind

Source = Annotated[
    str,
    typer.Argument(
        help="Where to pull from: tryton:///path/books.sqlite, tryton://?config=FILE&database=NAME "
        "or tryton+postgresql://user@host/NAME (options: company=ID, settle=SECONDS, name=NAME)."
    ),
]


@app.command("sync")
@handled
def sync_command(
    ctx: typer.Context,
    source: Source,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows of each kind per batch; each batch commits on its own.")
    ] = 1000,
    as_json: Json = False,
) -> None:
    """Pull customers, invoices and payments changed since the last sync; an interrupted sync resumes."""
    from pastdue.services.sync import sync

    application = _ready(ctx)
    connector = bootstrap.connector(source)
    try:
        summary = sync(application, connector, batch_size=batch_size)
    except ProblemsFound as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, emoji=False)
        err.print(
            f"{len(exc.problems)} problem(s): the sync stopped before this batch; "
            "batches before it stay merged, and the next sync resumes from there.",
            markup=False,
        )
        raise typer.Exit(1) from None
    finally:
        close = getattr(connector, "close", None)
        if close is not None:
            close()
    if as_json:
        out.print_json(json.dumps(summary.as_dict()))
        return
    for kind in LedgerKind:
        out.print(
            f"{kind}: {summary.pulled[kind]} pulled, {summary.inserted[kind]} new, {summary.updated[kind]} updated",
            markup=False,
            emoji=False,
        )
    if summary.withdrawn:
        out.print(f"{summary.withdrawn} payment allocation(s) withdrawn")
    tail = "" if summary.changed else "; nothing changed"
    out.print(f"{summary.source}: {summary.batches} batch(es) merged{tail}", markup=False, emoji=False)
