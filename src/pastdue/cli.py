"""The ``pastdue`` command line (DESIGN.md section 5).

Exit codes: 0 ok, 1 problems in user data, 2 usage, 3 infrastructure failure. Problems are
printed one per line as ``file:line: field: message``; ``--json`` output is never mixed
with progress bars or decoration.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pastdue import reports, services
from pastdue.bootstrap import App, build
from pastdue.cli_output import (
    print_aging,
    print_explanation,
    print_invoices,
    print_notices,
    print_run,
)
from pastdue.core.model import HoldReason
from pastdue.errors import ConfigurationError, NotFound, PastdueError, ProblemsFound, StoreError
from pastdue.settings import Settings
from pastdue.store.database import is_database_error

app = typer.Typer(help="pastdue: dunning and collections.", no_args_is_help=True, add_completion=False)
policy_app = typer.Typer(help="Dunning policies.", no_args_is_help=True)
report_app = typer.Typer(help="Reports.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
app.add_typer(audit_app, name="audit")

# Piped output is not cut to 80 columns: a report in a file or a pager keeps its figures.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


AsOf = Annotated[str | None, typer.Option("--as-of", help="The date to act as of (YYYY-MM-DD); default today.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _app(ctx: typer.Context) -> App:
    return ctx.obj  # type: ignore[no-any-return]


def _ready(ctx: typer.Context) -> App:
    """The App, once the database is known to hold the schema (else a clear NotFound)."""
    services.require_schema(_app(ctx))
    return _app(ctx)


def handled(func: F) -> F:
    """Turn pastdue's exceptions into messages and the documented exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ProblemsFound as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            err.print(f"{len(exc.problems)} problem(s); nothing was changed.", markup=False)
            raise typer.Exit(1) from None
        except NotFound as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(1) from None
        except ConfigurationError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (StoreError, PastdueError) as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(3) from None
        except Exception as exc:
            if not is_database_error(exc):
                raise
            reason = getattr(exc, "orig", None) or exc
            err.print(f"error: the database failed: {reason}", markup=False)
            raise typer.Exit(3) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: PASTDUE_DATABASE_URL or sqlite:///pastdue.db)."),
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant slug (default: default).")] = None,
) -> None:
    try:
        ctx.obj = build(Settings.from_env(database_url=db, tenant=tenant))
    except ConfigurationError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None


@app.command()
@handled
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema."""
    revision = services.init(_app(ctx))
    out.print(f"schema at revision {revision}; tenant {_app(ctx).tenant!r} ready")


@app.command("import")
@handled
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Ledger folders or CSV files; camt.053/054 or MT940 statements.")],
    as_json: Json = False,
) -> None:
    """Import ledger CSV files (all or nothing), then bank statements (each all or nothing).

    Statements are recognised by their content, whatever the file is called.
    """
    from pastdue.cli_money import import_statements, statement_paths

    statements = statement_paths(paths)
    ledger = [p for p in paths if p not in statements]
    result: dict[str, Any] = {}
    imported: list[str] = []  # what this call changed, named if a later statement is refused
    if ledger:
        summary = services.import_ledger(_ready(ctx), ledger)
        imported += ["the ledger"] if summary.changed else []
        result["ledger"] = {"inserted": summary.inserted, "updated": summary.updated, "unchanged": summary.unchanged}
        for kind in summary.inserted if not as_json else ():
            out.print(
                f"{kind}: {summary.inserted[kind]} new, {summary.updated[kind]} updated, "
                f"{summary.unchanged[kind]} unchanged"
            )
        if not summary.changed and not as_json:
            out.print("nothing changed")
    for path in statements:
        try:
            [done] = import_statements(ctx, [path], as_json)
        except ProblemsFound as exc:
            if not imported:
                raise
            _refused_after(exc, path, imported)
        result.setdefault("statements", []).append(done.as_json())
        imported += [path.name] if done.known < done.lines else []
    if as_json:
        print(json.dumps(result, indent=1))


def _refused_after(exc: ProblemsFound, path: Path, imported: list[str]) -> NoReturn:
    """A statement refused after the same call imported something: "nothing was changed"
    would be false, so say what stays imported."""
    for problem in exc.problems:
        err.print(str(problem), markup=False)
    err.print(
        f"{len(exc.problems)} problem(s); {path.name} was not imported, but {', '.join(imported)} already was.",
        markup=False,
    )
    raise typer.Exit(1)


@policy_app.command("apply")
@handled
def policy_apply(
    ctx: typer.Context,
    file: Path,
    default: Annotated[bool, typer.Option("--default", help="Make it the tenant's default policy.")] = False,
) -> None:
    """Store a policy file (a new version if it changed)."""
    applied = services.apply_policy(_ready(ctx), file, default)
    state = f"version {applied.version}" if applied.version else "unchanged"
    out.print(f"policy {applied.name!r}: {state}" + (" (default)" if applied.default else ""))


@policy_app.command("list")
@handled
def policy_list(ctx: typer.Context, as_json: Json = False) -> None:
    """List policies with their newest version."""
    known, default = services.list_policies(_ready(ctx))
    rows = [
        {
            "name": p.name,
            "version": p.version,
            "levels": len(p.levels),
            "escalation": p.escalation.value,
            "default": p.name == default,
        }
        for p in known.values()
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    for row in rows:
        out.print(
            f"{row['name']} v{row['version']}: {row['levels']} levels, {row['escalation']}"
            + (" (default)" if row["default"] else "")
        )


@policy_app.command("show")
@handled
def policy_show(ctx: typer.Context, name: str) -> None:
    """Print the newest version of a policy as TOML-equivalent JSON."""
    from pastdue.core.policy import policy_to_dict

    known, _ = services.list_policies(_ready(ctx))
    if name not in known:
        raise NotFound(f"no policy named {name!r}")
    out.print_json(json.dumps({"version": known[name].version, **policy_to_dict(known[name])}))


@app.command()
@handled
def run(
    ctx: typer.Context,
    as_of: AsOf = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide and report, but change nothing.")] = False,
    as_json: Json = False,
) -> None:
    """The daily dunning run."""
    day = _parse_date(as_of) or date.today()
    _ready(ctx)
    if as_json or not sys.stdout.isatty():
        summary = services.run_dunning(_app(ctx), day, dry_run=dry_run)
    else:
        with Progress(
            TextColumn("reviewing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("customers"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("run", total=None)
            summary = services.run_dunning(
                _app(ctx),
                day,
                dry_run=dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    if as_json:
        print(json.dumps(summary.as_json()))
    else:
        print_run(out, summary)


@app.command()
@handled
def explain(
    ctx: typer.Context,
    invoice: Annotated[str, typer.Argument(help="Invoice number.")],
    as_of: AsOf = None,
) -> None:
    """Every decision on one invoice, and why."""
    day = _parse_date(as_of)
    print_explanation(out, reports.explain(_ready(ctx), invoice, day))


@app.command()
@handled
def invoices(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only invoices with an open balance.")] = False,
    customer: Annotated[str | None, typer.Option("--customer", help="Only this customer's invoices.")] = None,
    as_json: Json = False,
) -> None:
    """List invoices with their open amount and dunning level."""
    rows = services.invoices(_ready(ctx), open_only=open_only, customer_id=customer)
    if as_json:
        # Streamed, but only once the query answers: a failure prints no half a list.
        first = next(rows, None)
        sys.stdout.write("[")
        if first is not None:
            sys.stdout.write("\n" + json.dumps(first.as_json()))
        for row in rows:
            sys.stdout.write(",\n" + json.dumps(row.as_json()))
        sys.stdout.write("\n]\n")
    else:
        print_invoices(out, rows)


@app.command()
@handled
def notices(
    ctx: typer.Context,
    as_of: AsOf = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, sent, failed, ...")] = None,
    as_json: Json = False,
) -> None:
    """Notices and their delivery state."""
    day = _parse_date(as_of)
    rows = services.notices(_ready(ctx), as_of=day, status=status)
    if as_json:
        print(json.dumps([r.as_json() for r in rows], indent=1))
    else:
        print_notices(out, rows)


@report_app.command("aging")
@handled
def report_aging(
    ctx: typer.Context,
    as_of: AsOf = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Open balance per currency by days overdue."""
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("--format must be table, csv or json")
    day = _parse_date(as_of) or date.today()
    print_aging(out, reports.aging_report(_ready(ctx), day), day, fmt)


@audit_app.command("verify")
@handled
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit hash chain; names the first broken event."""
    count = services.verify_audit(_ready(ctx))
    out.print(f"audit chain intact: {count} events")


@app.command()
@handled
def hold(
    ctx: typer.Context,
    invoice: Annotated[str | None, typer.Argument(help="Invoice number (or use --customer).")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Hold every invoice of this customer.")] = None,
    reason: Annotated[HoldReason, typer.Option("--reason")] = HoldReason.MANUAL,
    until: Annotated[str | None, typer.Option("--until", help="Last paused day (YYYY-MM-DD).")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Pause dunning of an invoice or a customer."""
    if (invoice is None) == (customer is None):
        raise typer.BadParameter("name an invoice number or --customer, not both")
    last_day = _parse_date(until)
    hold_id = services.place_hold(
        _ready(ctx),
        reason=reason,
        invoice_number=invoice,
        customer_id=customer,
        until=last_day,
        note=note,
    )
    out.print(f"hold {hold_id} placed")


@app.command()
@handled
def release(ctx: typer.Context, hold_id: str) -> None:
    """End a hold now; dunning resumes on the next run."""
    services.release_hold(_ready(ctx), hold_id)
    out.print(f"hold {hold_id} released")


@app.command("holds")
@handled
def holds_list(ctx: typer.Context, as_of: AsOf = None, as_json: Json = False) -> None:
    """Holds in force (on the given day), newest last."""
    rows = services.active_holds(_ready(ctx), _parse_date(as_of) or date.today())
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    for row in rows:
        scope = f"invoice {row['invoice_id']}" if row["invoice_id"] else f"customer {row['customer_id']}"
        until = f" until {row['until']}" if row["until"] else ""
        out.print(f"{row['id']}  {scope}  {row['reason']}{until}  {row['note']}", markup=False)
    out.print(f"{len(rows)} hold(s)")


@app.command()
@handled
def demo(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo database and ledger go.")] = Path("demo"),
    invoices_count: Annotated[int, typer.Option("--invoices", min=10)] = 3000,
    as_of: AsOf = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")] = True,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Build a sample ledger, run thirty days of dunning, summarise it, and serve the dashboard."""
    from pastdue.demo import run_demo

    base_url = f"http://127.0.0.1:{port}"
    demo_app = run_demo(out, folder, invoices_count, _parse_date(as_of) or date.today(), base_url)
    if serve:
        import uvicorn

        from pastdue.web import create_app

        out.print(f"serving the dashboard on http://127.0.0.1:{port} (Ctrl-C stops it)", markup=False)
        uvicorn.run(create_app(demo_app), host="127.0.0.1", port=port, log_level="warning")


# The delivery commands register themselves on ``app``; imported last, as they use it.
from pastdue import cli_access, cli_delivery, cli_money, cli_sync, cli_web  # noqa: E402

__all__ = ["app", "cli_access", "cli_delivery", "cli_money", "cli_sync", "cli_web", "main"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
