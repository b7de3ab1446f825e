"""The daily run against a real store: expected levels, harmless reruns, crashes, holds."""

from __future__ import annotations

import itertools
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from store_support import (
    apply_policy,
    audit_head,
    customer_row,
    dunning_actions,
    levels,
    make_dataset,
    notice_summary,
    table_counts,
    write_ledger,
)

from conftest import fixed_clock
from pastdue import reports, services
from pastdue.bootstrap import App, build
from pastdue.core.model import HoldReason
from pastdue.services import dunning_run
from pastdue.settings import Settings

AS_OF = date(2026, 6, 30)
STEP_DATES = [AS_OF, date(2026, 7, 7), date(2026, 7, 14), date(2026, 7, 21)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("dataset"), invoices=2000, as_of=AS_OF)


@pytest.fixture
def other_app(make_app: Callable[..., App]) -> Iterator[App]:
    """A second tenant in the same database."""
    built = make_app(f"t{uuid.uuid4().hex[:10]}")
    yield built
    built.engine.dispose()


def _prepared(app: App, ledger: Path, policies: Path, escalation: str) -> App:
    services.import_ledger(app, [ledger])
    apply_policy(app, policies, escalation)
    return app


def _small_ledger(folder: Path) -> Path:
    """Two customers, one invoice each, both due on 2026-06-01."""
    return write_ledger(
        folder,
        customers=[customer_row("C1"), customer_row("C2", "Beta AG")],
        invoices=[
            ["I1", "C1", "INV-1", "EUR", "100.00", "2026-05-01", "2026-06-01"],
            ["I2", "C2", "INV-2", "EUR", "200.00", "2026-05-01", "2026-06-01"],
        ],
    )


def _state(app: App) -> dict[str, Any]:
    return {"levels": levels(app), "notices": notice_summary(app), "actions": dunning_actions(app)}


def _review_date(app: App, number: str) -> date | None:
    (row,) = [r for r in services.invoices(app) if r.number == number]
    return row.next_review_on


def test_a_catch_up_run_reaches_the_levels_the_dataset_expects(app: App, dataset: Path, tmp_path: Path) -> None:
    _prepared(app, dataset, tmp_path, "catch-up")
    expected = json.loads((dataset / "expected.json").read_text())

    summary = services.run_dunning(app, AS_OF)

    assert summary.by_level == expected["per_level"]
    assert summary.notices > 0
    assert summary.actions == sum(expected["per_level"].values())
    assert summary.skipped == {"not_due": expected["not_yet_due"]}


def test_a_second_run_on_the_same_date_adds_no_action_and_no_notice(app: App, dataset: Path, tmp_path: Path) -> None:
    _prepared(app, dataset, tmp_path, "catch-up")
    first = services.run_dunning(app, AS_OF)
    before = {**_state(app), "counts": table_counts(app)}

    again = services.run_dunning(app, AS_OF)

    assert (again.actions, again.notices, again.decisions) == (0, 0, 0)
    assert again.by_level == first.by_level
    assert {**_state(app), "counts": table_counts(app)} == before


def _step_through(app: App) -> dict[str, int]:
    """Step runs on four dates; checks one level per run and notice spacing per customer."""
    seen = levels(app)
    for day in STEP_DATES:
        services.run_dunning(app, day)
        now = levels(app)
        jumps = {i: (seen[i], now[i]) for i in now if not 0 <= now[i] - seen[i] <= 1}
        assert jumps == {}, f"more than one level on {day}: {jumps}"
        seen = now
    days: dict[str, set[date]] = defaultdict(set)
    for notice in services.notices(app):
        days[notice.customer_id].add(notice.created_on)
    for customer, dates in days.items():
        ordered = sorted(dates)
        gaps = [(b - a).days for a, b in itertools.pairwise(ordered)]
        assert all(gap >= 7 for gap in gaps), f"customer {customer}: notices on {ordered}"
    services.verify_audit(app)
    return seen


def test_step_runs_move_one_level_at_a_time_and_agree_on_sqlite_and_postgres(
    dataset: Path, tmp_path: Path, postgres_url: str
) -> None:
    urls = {"sqlite": f"sqlite:///{tmp_path / 'step.db'}", "postgres": postgres_url}
    final: dict[str, dict[str, int]] = {}
    for backend, url in urls.items():
        app = build(Settings(database_url=url, tenant=f"step{uuid.uuid4().hex[:8]}"), fixed_clock)
        try:
            services.init(app)
            final[backend] = _step_through(_prepared(app, dataset, tmp_path, "step"))
        finally:
            app.engine.dispose()

    assert final["sqlite"] == final["postgres"]
    assert set(final["sqlite"].values()) == {0, 1, 2, 3, 4}


class KilledError(Exception):
    """Stands for the process dying between two batches."""


def test_a_run_killed_half_way_then_rerun_ends_as_an_uninterrupted_run(
    app: App, other_app: App, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dunning_run, "RUN_BATCH_INVOICES", 60)
    killed = _prepared(app, dataset, tmp_path, "step")
    whole = _prepared(other_app, dataset, tmp_path, "step")
    services.run_dunning(whole, AS_OF)
    expected = _state(whole)

    def die(done: int, total: int) -> None:
        raise KilledError(f"after {done} of {total} customers")

    with pytest.raises(KilledError):
        services.run_dunning(killed, AS_OF, progress=die)
    assert 0 < len(dunning_actions(killed)) < len(expected["actions"])
    services.run_dunning(killed, AS_OF)

    assert _state(killed) == expected
    services.verify_audit(killed)


def test_a_dry_run_changes_nothing_and_predicts_the_real_run(app: App, dataset: Path, tmp_path: Path) -> None:
    _prepared(app, dataset, tmp_path, "catch-up")
    before = {**_state(app), "counts": table_counts(app), "head": audit_head(app)}

    dry = services.run_dunning(app, AS_OF, dry_run=True)

    assert dry.dry_run and dry.actions > 0
    assert {**_state(app), "counts": table_counts(app), "head": audit_head(app)} == before
    real = services.run_dunning(app, AS_OF)
    assert (real.actions, real.notices, real.by_level) == (dry.actions, dry.notices, dry.by_level)


def test_explain_shows_each_decision_with_its_reason_and_policy_version(app: App, tmp_path: Path) -> None:
    _prepared(app, _small_ledger(tmp_path / "ledger"), tmp_path, "step")
    services.run_dunning(app, AS_OF)
    assert apply_policy(app, tmp_path, "catch-up").version == 2
    services.run_dunning(app, date(2026, 7, 7))

    explanation = reports.explain(app, "INV-1")

    decisions = [
        (e["as_of"], e["act"], e["reason"], e["level"], e["policy"], e["policy_version"])
        for e in explanation.history
        if e["kind"] == "decision"
    ]
    assert decisions == [
        ("2026-06-30", "notice", "level_reached", 1, "standard", 1),
        ("2026-07-07", "notice", "level_reached", 4, "standard", 2),
    ]
    assert explanation.invoice.level == 4
    assert explanation.preview is None

    earlier = reports.explain(app, "INV-1", as_of=AS_OF)
    assert [e["as_of"] for e in earlier.history if e["kind"] == "decision"] == ["2026-06-30"]
    assert earlier.preview_policy == "standard v2"
    assert earlier.preview is not None and earlier.preview.reason.value == "final_level"


def test_a_dated_hold_pauses_an_invoice_until_it_expires(app: App, tmp_path: Path) -> None:
    _prepared(app, _small_ledger(tmp_path / "ledger"), tmp_path, "step")
    until = date(2026, 7, 10)
    services.place_hold(app, reason=HoldReason.DISPUTE, invoice_number="INV-1", until=until, note="wrong quantity")

    held = services.run_dunning(app, AS_OF)

    assert held.skipped["held"] == 1
    assert levels(app) == {"I1": 0, "I2": 1}
    assert _review_date(app, "INV-1") == until + timedelta(days=1)
    detail = [e for e in reports.explain(app, "INV-1").history if e["kind"] == "decision"][-1]
    assert (detail["reason"], detail["act"]) == ("held", "skip")
    assert "until 2026-07-10" in detail["detail"]

    assert services.run_dunning(app, date(2026, 7, 8)).skipped["held"] == 0
    assert levels(app)["I1"] == 0

    services.run_dunning(app, date(2026, 7, 11))

    assert levels(app)["I1"] == 1


def test_releasing_an_open_ended_hold_brings_the_invoice_back_into_review(app: App, tmp_path: Path) -> None:
    _prepared(app, _small_ledger(tmp_path / "ledger"), tmp_path, "step")
    hold = services.place_hold(app, reason=HoldReason.MANUAL, invoice_number="INV-1")
    services.run_dunning(app, AS_OF)
    assert _review_date(app, "INV-1") is None  # only a change can bring it back
    later = date(2026, 8, 31)
    assert services.run_dunning(app, later).skipped["held"] == 0  # not even looked at
    assert levels(app)["I1"] == 0
    assert [h["id"] for h in services.active_holds(app, later)] == [hold]

    services.release_hold(app, hold)

    assert services.active_holds(app, later) == []
    assert _review_date(app, "INV-1") == date(2026, 5, 1)
    run = services.run_dunning(app, later)
    assert (run.reviewed, run.actions, run.notices) == (1, 1, 1)
    assert levels(app)["I1"] == 1
    services.verify_audit(app)


def test_a_customer_hold_pauses_every_invoice_of_that_customer(app: App, tmp_path: Path) -> None:
    _prepared(app, _small_ledger(tmp_path / "ledger"), tmp_path, "step")
    services.place_hold(app, reason=HoldReason.PAYMENT_PLAN, customer_id="C2", until=date(2026, 7, 31))

    summary = services.run_dunning(app, AS_OF)

    assert summary.skipped["customer_held"] == 1
    assert levels(app) == {"I1": 1, "I2": 0}


def test_a_second_run_on_the_same_day_adds_to_that_days_notice(app: App, tmp_path: Path) -> None:
    """With no spacing between notices, invoices that fall due between two runs of one day
    join the customer's notice of that day rather than making a second one."""
    policy = tmp_path / "no-spacing.toml"
    policy.write_text(
        'name = "tight"\nescalation = "catch-up"\nmin_days_between_notices = 0\n'
        '[[levels]]\nname = "reminder"\nafter_days = 1\nchannels = ["email"]\n',
        encoding="utf-8",
    )
    services.apply_policy(app, policy)
    first = write_ledger(
        tmp_path / "first",
        customers=[customer_row("C1")],
        invoices=[["I1", "C1", "INV-1", "EUR", "10.00", "2026-05-01", "2026-06-01"]],
    )
    services.import_ledger(app, [first])
    assert services.run_dunning(app, AS_OF).notices == 1
    second = write_ledger(
        tmp_path / "second",
        customers=[customer_row("C1")],
        invoices=[
            ["I1", "C1", "INV-1", "EUR", "10.00", "2026-05-01", "2026-06-01"],
            ["I2", "C1", "INV-2", "EUR", "20.00", "2026-05-02", "2026-06-02"],
        ],
    )
    services.import_ledger(app, [second])

    rerun = services.run_dunning(app, AS_OF)

    assert rerun.actions == 1
    notices = services.notices(app, as_of=AS_OF)
    assert [(n.customer_id, n.channel, n.invoices) for n in notices] == [("C1", "email", ("INV-1", "INV-2"))]
    assert {(row[0], row[1]) for row in dunning_actions(app)} >= {("I1", 1), ("I2", 1)}


def test_business_days_follow_the_countrys_holidays(app: App, tmp_path: Path) -> None:
    """Due on Thursday 24 December 2026 in Germany: Christmas Day and Boxing Day are
    holidays and the 27th a Sunday, so one business day later is Monday the 28th."""
    policy = tmp_path / "business.toml"
    policy.write_text(
        'name = "de"\nescalation = "step"\ndays = "business"\ncalendar = "DE"\n'
        '[[levels]]\nname = "reminder"\nafter_days = 1\nchannels = ["email"]\n',
        encoding="utf-8",
    )
    services.apply_policy(app, policy)
    services.import_ledger(
        app,
        [
            write_ledger(
                tmp_path / "xmas",
                customers=[customer_row("C1")],
                invoices=[["I1", "C1", "INV-X", "EUR", "99.00", "2026-11-24", "2026-12-24"]],
            )
        ],
    )

    assert services.run_dunning(app, date(2026, 12, 27)).actions == 0
    assert services.run_dunning(app, date(2026, 12, 28)).actions == 1
    assert levels(app) == {"I1": 1}
