"""The daily run through the CLI: its JSON summary, reruns, holds and bad dates."""

from __future__ import annotations

import json

import pytest
from cli_support import AS_OF, Cli

pytest_plugins = ["cli_fixtures"]

RUN_KEYS = {
    "as_of",
    "reviewed",
    "decisions",
    "actions",
    "notices",
    "by_level",
    "skipped",
    "closed",
    "holds_lapsed",
    "elapsed_s",
}


def test_run_json_prints_exactly_one_object_with_the_documented_keys(loaded: Cli) -> None:
    result = loaded("run", "--as-of", AS_OF, "--json")

    summary = json.loads(result.stdout)  # one JSON document and nothing else
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""  # no progress bar, no decoration
    assert set(summary) == RUN_KEYS
    assert summary["as_of"] == AS_OF
    # INV-1001, INV-1002 and INV-1005 reach the reminder; INV-1003 is not due yet.
    assert summary["by_level"] == {"1": 3, "2": 0, "3": 0, "4": 0}
    assert summary["actions"] == 3
    assert summary["notices"] == 2  # one email to Acme for two invoices, one to Cobb
    assert summary["skipped"] == {"not_due": 1}
    assert summary["decisions"] == summary["actions"] + sum(summary["skipped"].values())
    assert summary["reviewed"] >= summary["decisions"]
    assert isinstance(summary["elapsed_s"], int | float) and summary["elapsed_s"] >= 0


def test_a_second_run_on_the_same_date_adds_no_action(loaded: Cli) -> None:
    first = loaded.json("run", "--as-of", AS_OF, "--json")
    notices = loaded.json("notices", "--json")
    events = loaded("audit", "verify").stdout

    second = loaded.json("run", "--as-of", AS_OF, "--json")

    assert second["actions"] == 0
    assert second["notices"] == 0
    assert second["by_level"] == first["by_level"]
    assert loaded.json("notices", "--json") == notices
    assert loaded("audit", "verify").stdout == events


def test_the_next_step_waits_for_the_spacing_between_notices(after_run: Cli) -> None:
    # INV-1001 is past the second reminder's 8 days, but Acme heard from us on 2026-06-30.
    too_soon = after_run.json("run", "--as-of", "2026-07-03", "--json")
    assert too_soon["actions"] == 0
    week_later = after_run.json("run", "--as-of", "2026-07-07", "--json")
    assert week_later["by_level"]["2"] >= 1
    assert week_later["notices"] >= 1


def test_a_held_invoice_is_skipped_with_the_reason_held(after_run: Cli) -> None:
    placed = after_run("hold", "INV-1001", "--reason", "dispute", "--until", "2026-07-31")
    assert placed.stdout.startswith("hold ")

    summary = after_run.json("run", "--as-of", "2026-07-08", "--json")

    assert summary["skipped"].get("held") == 1
    explained = after_run("explain", "INV-1001").stdout
    assert "held" in explained
    assert "on hold: dispute (until 2026-07-31)" in explained
    levels = {row["number"]: row["level"] for row in after_run.json("invoices", "--json")}
    assert levels["INV-1001"] == 1  # stays at the reminder while disputed


def test_releasing_a_hold_lets_dunning_resume(after_run: Cli) -> None:
    hold_id = after_run("hold", "INV-1001", "--reason", "dispute", "--note", "wrong quantity").stdout.split()[1]
    assert after_run.json("run", "--as-of", "2026-07-08", "--json")["skipped"].get("held") == 1
    listed = after_run.json("holds", "--as-of", "2026-07-08", "--json")
    assert [(h["id"], h["invoice_id"], h["reason"], h["note"]) for h in listed] == [
        (hold_id, "I1", "dispute", "wrong quantity")
    ]
    assert "invoice I1  dispute  wrong quantity" in after_run("holds", "--as-of", "2026-07-08").stdout

    assert after_run("release", hold_id).stdout.strip() == f"hold {hold_id} released"
    assert after_run.json("holds", "--json") == []

    # Acme's other invoice got the second reminder on 2026-07-08: a week's spacing applies.
    spaced = after_run.json("run", "--as-of", "2026-07-09", "--json")
    assert spaced["skipped"] == {"too_soon": 1}
    resumed = after_run.json("run", "--as-of", "2026-07-15", "--json")
    assert "held" not in resumed["skipped"]
    levels = {row["number"]: row["level"] for row in after_run.json("invoices", "--json")}
    assert levels["INV-1001"] == 2


def test_a_dry_run_decides_but_saves_nothing(loaded: Cli) -> None:
    dry = loaded.json("run", "--as-of", AS_OF, "--dry-run", "--json")
    assert dry["dry_run"] is True
    assert dry["actions"] == 3
    assert loaded.json("notices", "--json") == []
    assert loaded.json("run", "--as-of", AS_OF, "--json")["actions"] == 3


def test_run_without_a_policy_is_a_user_problem(cli: Cli) -> None:
    cli("init")
    result = cli("run", "--as-of", AS_OF, expect=1)
    assert "no policy applied yet" in result.stderr


def test_run_prints_a_readable_summary_without_json(after_run: Cli) -> None:
    result = after_run("run", "--as-of", "2026-07-07")
    assert "Dunning run as of 2026-07-07" in result.stdout
    assert "open invoices" in result.stdout


@pytest.mark.parametrize("bad", ["2026-02-30", "30.06.2026", "tomorrow"])
@pytest.mark.parametrize(
    "command",
    [
        ["run", "--json"],
        ["explain", "INV-1001"],
        ["notices"],
        ["report", "aging"],
        ["hold", "INV-1001", "--until"],
    ],
    ids=lambda c: c[0],
)
def test_a_bad_date_is_a_usage_error(loaded: Cli, command: list[str], bad: str) -> None:
    args = [*command, bad] if command[-1] == "--until" else [*command, "--as-of", bad]
    result = loaded(*args, expect=2)
    assert f"{bad!r} is not a date (YYYY-MM-DD)" in result.stderr
    assert result.stdout == ""
