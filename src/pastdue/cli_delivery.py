"""Commands that reach customers: deliver, worker, approvals, resolve, contacts, profile, templates.

Registered on the main ``pastdue`` app by :mod:`pastdue.cli`; kept apart so that each file
holds one family of commands.
"""

from __future__ import annotations

import getpass
import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from pastdue import bootstrap, services
from pastdue.bootstrap import App
from pastdue.channels.recording import RecordingChannel
from pastdue.cli import Json, _app, _ready, app, err, handled, out
from pastdue.core.delivery import ContactFlag, Status
from pastdue.core.policy import CHANNELS
from pastdue.errors import ProblemsFound
from pastdue.services import approvals as approval_service
from pastdue.services import contacts as contact_service

if TYPE_CHECKING:  # the delivery machinery loads only for the commands that deliver
    from pastdue.services.delivery import Deliverer, DeliverySummary

approvals_app = typer.Typer(help="Notices of levels that wait for a person's approval.", no_args_is_help=True)
contacts_app = typer.Typer(help="Consent, opt-outs and bad addresses.", no_args_is_help=True)
profile_app = typer.Typer(help="How the tenant presents itself on notices, and its send windows.", no_args_is_help=True)
templates_app = typer.Typer(help="Notice templates and tenant overrides.", no_args_is_help=True)
app.add_typer(approvals_app, name="approvals")
app.add_typer(contacts_app, name="contacts")
app.add_typer(profile_app, name="profile")
app.add_typer(templates_app, name="templates")

Now = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this moment (ISO 8601; UTC unless an offset is given)."),
]
By = Annotated[str | None, typer.Option("--by", help="Who decides (default: the login name).")]
Note = Annotated[str, typer.Option("--note", help="Why, for the audit log.")]
Channel = Annotated[str, typer.Option("--channel", help=f"One of {', '.join(CHANNELS)}.")]


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date and time (e.g. 2026-06-30T09:00 or ...+02:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _deliverer(application: App, *, dry_run: bool = False) -> Deliverer:
    from pastdue.services.delivery import Deliverer

    settings = application.settings
    channels = bootstrap.delivery_channels(settings)
    if dry_run:
        channels = {name: RecordingChannel(name) for name in channels}
    return Deliverer(
        application,
        channels,
        bootstrap.renderer(settings),
        email_domain=bootstrap.email_domain(settings),
        dry_run=dry_run,
    )


def _deliver_once(
    application: App, deliverer: Deliverer, moment: datetime | None, limit: int | None
) -> DeliverySummary:
    clock = (lambda: moment) if moment is not None else application.clock
    summary = deliverer.deliver(clock, limit)
    if summary.letter_days:
        from pastdue.print_batch import build_print_batch

        for day in sorted(summary.letter_days):
            batch = build_print_batch(Path(application.settings.letter_dir), day)
            if batch is not None:
                summary.print_batches.append(str(batch.pdf))
    return summary


def _close(deliverer: Deliverer) -> None:
    for channel in deliverer.channels.values():
        channel.close()


def _print_summary(summary: DeliverySummary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json()))
        return
    sent = ", ".join(f"{n} {channel}" for channel, n in sorted(summary.sent.items())) or "nothing"
    out.print(f"sent {sent} in {summary.elapsed_s:.2f} s", markup=False)
    for outcome, n in sorted(summary.outcomes.items()):
        if outcome != "sent":
            out.print(f"  {outcome}: {n}", markup=False)
    for path in summary.print_batches:
        out.print(f"print batch: {path}", markup=False)


@app.command()
@handled
def deliver(
    ctx: typer.Context,
    now: Now = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Stop after this many notices.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render what is due and list it; send and change nothing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Send what is due through the configured channels, then stop."""
    application = _ready(ctx)
    deliverer = _deliverer(application, dry_run=dry_run)
    try:
        if dry_run:
            moment = _parse_now(now)
            summary = deliverer.deliver((lambda: moment) if moment else None, limit)
        else:
            summary = _deliver_once(application, deliverer, _parse_now(now), limit)
    finally:
        _close(deliverer)
    if dry_run:
        _print_dry_run(deliverer, summary, as_json)
    else:
        _print_summary(summary, as_json)


def _print_dry_run(deliverer: Deliverer, summary: DeliverySummary, as_json: bool) -> None:
    would = [
        {"notice_id": m.notice_id, "channel": m.channel, "customer_id": m.customer_id, "to": m.to, "subject": m.subject}
        for channel in deliverer.channels.values()
        if isinstance(channel, RecordingChannel)
        for m in channel.sent
    ]
    if as_json:
        print(json.dumps({**summary.as_json(), "dry_run": True, "would_send": would}))
        return
    for row in would:
        out.print(f"{row['channel']:<7} {row['to'] or row['customer_id']:<40} {row['subject']}", markup=False)
    out.print(f"dry run: {len(would)} notice(s) would be sent; nothing was sent or changed", markup=False)


@app.command()
@handled
def worker(
    ctx: typer.Context,
    now: Now = None,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between passes.")] = 60.0,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop once a pass finds nothing to do.")] = False,
) -> None:
    """Run and deliver on a schedule, forever; any number of workers may share one database.

    SIGTERM or Ctrl-C stops the worker after the notice in hand, never in the middle of one.
    """
    application = _ready(ctx)
    moment = _parse_now(now)
    deliverer = _deliverer(application)
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            today = (moment or application.clock()).date()
            services.run_dunning(application, today)
            summary = _deliver_once(application, deliverer, moment, None)
            if summary.sent or summary.outcomes:
                err.print(f"{datetime.now(UTC):%H:%M:%S} {json.dumps(summary.as_json())}", markup=False)
            elif until_idle:
                break
            if not stopping and not until_idle:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        _close(deliverer)


@app.command()
@handled
def resolve(
    ctx: typer.Context,
    notice: Annotated[str, typer.Argument(help="Notice id (see: pastdue notices --status unknown).")],
    decision: Annotated[str, typer.Argument(help="sent (it arrived), resend, or failed (give it up).")],
    by: By = None,
    note: Note = "",
) -> None:
    """Decide about a notice whose sending a crash left in doubt."""
    if decision not in approval_service.RESOLUTIONS:
        raise typer.BadParameter("decision must be sent, resend or failed")
    approval_service.resolve_unknown(_ready(ctx), notice, decision, _actor(by), note)
    out.print(f"notice {notice}: {decision}")


@approvals_app.command("list")
@handled
def approvals_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Notices waiting for approval."""
    rows = approval_service.waiting(_ready(ctx), Status.AWAITING_APPROVAL)
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    for row in rows:
        out.print(
            f"{row['id']}  {row['customer_id']}  level {row['level']} {row['channel']}  "
            f"{row['created_on']}  {', '.join(row['invoices'])}",
            markup=False,
        )
    out.print(f"{len(rows)} notice(s) waiting for approval")


@approvals_app.command("approve")
@handled
def approvals_approve(ctx: typer.Context, notice: str, by: By = None, note: Note = "") -> None:
    """Release a notice into the delivery queue."""
    approval_service.approve(_ready(ctx), notice, _actor(by), note)
    out.print(f"notice {notice} approved")


@approvals_app.command("reject")
@handled
def approvals_reject(ctx: typer.Context, notice: str, by: By = None, note: Note = "") -> None:
    """Stop a notice for good."""
    approval_service.reject(_ready(ctx), notice, _actor(by), note)
    out.print(f"notice {notice} rejected")


def _flag(ctx: typer.Context, address: str, channel: str, flag: ContactFlag | None, by: str | None, note: str) -> None:
    if channel not in CHANNELS:
        raise typer.BadParameter(f"--channel must be one of {', '.join(CHANNELS)}")
    contact_service.flag_contact(_ready(ctx), channel, address, flag, _actor(by), note)
    out.print(f"{channel} {address}: {flag.value if flag else 'cleared'}", markup=False)


@contacts_app.command("list")
@handled
def contacts_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Addresses with consent, opt-outs or bounces on record."""
    rows = contact_service.contact_flags(_ready(ctx))
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    for row in rows:
        out.print(f"{row['channel']}  {row['address']}  {row['flag']}  {row['reason']}", markup=False)
    out.print(f"{len(rows)} address(es)")


@contacts_app.command("consent")
@handled
def contacts_consent(
    ctx: typer.Context, address: str, channel: Channel = "sms", by: By = None, note: Note = ""
) -> None:
    """Record that the customer agreed to be contacted at this address."""
    _flag(ctx, address, channel, ContactFlag.CONSENT, by, note)


@contacts_app.command("opt-out")
@handled
def contacts_opt_out(
    ctx: typer.Context, address: str, channel: Channel = "email", by: By = None, note: Note = ""
) -> None:
    """Stop notices to this address on this channel."""
    _flag(ctx, address, channel, ContactFlag.OPTED_OUT, by, note)


@contacts_app.command("clear")
@handled
def contacts_clear(
    ctx: typer.Context, address: str, channel: Channel = "email", by: By = None, note: Note = ""
) -> None:
    """Forget consent, opt-out or bounce of an address."""
    _flag(ctx, address, channel, None, by, note)


@profile_app.command("show")
@handled
def profile_show(ctx: typer.Context) -> None:
    """The tenant's sender details and send windows."""
    out.print_json(json.dumps(contact_service.show_profile(_ready(ctx))))


@profile_app.command("set")
@handled
def profile_set(ctx: typer.Context, key: str, value: str, by: By = None) -> None:
    """Set name, address (lines separated by \\n), email, phone, iban, bic, payment_url, allocation_order
    or window.CHANNEL."""
    contact_service.set_profile(_ready(ctx), key, value, _actor(by))
    out.print(f"{key} set")


@templates_app.command("list")
@handled
def templates_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every template by name; overridden ones are marked."""
    renderer = bootstrap.renderer(_app(ctx).settings)
    found = renderer.templates()
    if as_json:
        print(json.dumps([{"name": t.name, "overridden": t.overridden} for t in found], indent=1))
        return
    for template in found:
        out.print(template.name + ("  (overridden)" if template.overridden else ""), markup=False)


@templates_app.command("show")
@handled
def templates_show(ctx: typer.Context, name: str) -> None:
    """The source of a template as it is used (the override where there is one)."""
    source = bootstrap.renderer(_app(ctx).settings).source(name)
    print(source, end="" if source.endswith("\n") else "\n")


@templates_app.command("check")
@handled
def templates_check(ctx: typer.Context, folder: Path) -> None:
    """Check a folder of overrides: every problem at once."""
    from pastdue.rendering import check_overrides

    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder")
    problems = check_overrides(folder)
    if problems:
        raise ProblemsFound(problems)
    out.print(f"{folder}: templates are fine")
