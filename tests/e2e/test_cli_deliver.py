"""Delivery through the CLI: run, then deliver to a real SMTP server on 127.0.0.1.

The story's run of 2026-06-30 gives Acme (German, Berlin) one reminder for two invoices
and Cobb (English, New York) one; both are inside their 08:00-20:00 window at 13:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from cli_support import AS_OF, STANDARD_POLICY, Cli, write_files

from local_servers import SmtpSink, smtp_sink

pytest_plugins = ["cli_fixtures"]

NOW = "2026-06-30T13:00:00+00:00"


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        monkeypatch.setenv("PASTDUE_EMAIL_URL", f"smtp://127.0.0.1:{server.port}")
        monkeypatch.setenv("PASTDUE_EMAIL_FROM", "Acme Billing <billing@supplier.example>")
        yield server


def messages(sink: SmtpSink) -> dict[str, EmailMessage]:
    return {r.rcpt_tos[0]: r.message() for r in sink.received}


def test_deliver_sends_one_localized_email_per_customer_and_nothing_more_the_second_time(
    after_run: Cli, sink: SmtpSink
) -> None:
    first = after_run.json("deliver", "--now", NOW, "--json")
    second = after_run.json("deliver", "--now", NOW, "--json")

    assert first["sent"] == 2 and first["sent_by_channel"] == {"email": 2}
    assert second["sent"] == 0
    received = messages(sink)
    assert sorted(received) == ["ap@acme.example", "ap@cobb.example"]
    acme, cobb = received["ap@acme.example"], received["ap@cobb.example"]

    acme_text = acme.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "INV-1001" in acme_text and "INV-1002" in acme_text
    assert "1.400,00\xa0€" in acme_text  # 1,200.00 + the 200.00 still open on INV-1002, German style
    assert (acme["Content-Language"], cobb["Content-Language"]) == ("de", "en")
    assert "Zahlungserinnerung" in acme["Subject"] or "Erinnerung" in acme["Subject"]
    cobb_text = cobb.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "$999.99" in cobb_text
    assert acme.get_body(("html",)) is not None
    for message in (acme, cobb):
        assert message["From"].addresses[0].addr_spec == "billing@supplier.example"
        assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/portal/unsubscribe?")

    notices = {n["customer_id"]: n for n in after_run.json("notices", "--json")}
    assert {n["status"] for n in notices.values()} == {"sent"}
    assert acme["Message-ID"] == notices["C1"]["message_id"]
    assert cobb["Message-ID"] == notices["C3"]["message_id"]
    assert notices["C1"]["message_id"].endswith("@supplier.example>")
    assert "intact" in after_run("audit", "verify").stdout
    assert "notice  email level 1: sent (ap@acme.example)" in after_run("explain", "INV-1001").stdout


def test_a_level_that_needs_approval_is_sent_only_once_approved(loaded: Cli, sink: SmtpSink, tmp_path: Path) -> None:
    policy = STANDARD_POLICY.replace(
        'after_days = 1\nchannels = ["email"]', 'after_days = 1\nchannels = ["email"]\nrequires_approval = true'
    )
    path = write_files(tmp_path / "approval", {"standard.toml": policy}) / "standard.toml"
    loaded("policy", "apply", str(path))
    loaded("run", "--as-of", AS_OF, "--json")

    assert loaded.json("deliver", "--now", NOW, "--json")["sent"] == 0
    waiting = loaded.json("approvals", "list", "--json")
    assert sorted(w["customer_id"] for w in waiting) == ["C1", "C3"]
    acme = next(w["id"] for w in waiting if w["customer_id"] == "C1")
    cobb = next(w["id"] for w in waiting if w["customer_id"] == "C3")
    loaded("approvals", "approve", acme, "--by", "alice")
    loaded("approvals", "reject", cobb, "--by", "alice", "--note", "called, paying today")
    loaded("approvals", "approve", cobb, expect=1)  # rejected is final

    assert loaded.json("deliver", "--now", NOW, "--json")["sent"] == 1
    assert [r.rcpt_tos for r in sink.received] == [["ap@acme.example"]]
    statuses = {n["customer_id"]: n["status"] for n in loaded.json("notices", "--json")}
    assert statuses == {"C1": "sent", "C3": "rejected"}


def test_templates_can_be_listed_shown_and_checked(cli: Cli, tmp_path: Path) -> None:
    names = [t["name"] for t in cli.json("templates", "list", "--json")]
    assert "email/body.html" in names and "letter/body.html" in names
    assert "{{" in cli("templates", "show", "email/subject.txt").stdout
    cli("templates", "show", "email/nothing.txt", expect=1)

    good = write_files(tmp_path / "good", {"email/subject.txt": "Reminder {{ reference }}\n"})
    broken = write_files(
        tmp_path / "broken",
        {
            "email/subject.txt": "{{ ''.__class__.__mro__ }}\n",
            "email/body.txt": "Hello {% if %}\n",
            "email/unknown.txt": "nothing overrides this\n",
        },
    )
    cli("templates", "check", str(good))
    problems = cli("templates", "check", str(broken), expect=1).stderr.splitlines()
    assert any(p.startswith("email/body.txt:1") for p in problems)
    assert any(p.startswith("email/subject.txt") for p in problems)
    assert any(p.startswith("email/unknown.txt") for p in problems)


def test_worker_runs_and_delivers_until_nothing_is_left(loaded: Cli, sink: SmtpSink) -> None:
    loaded("worker", "--now", NOW, "--until-idle")
    assert sorted(r.rcpt_tos[0] for r in sink.received) == ["ap@acme.example", "ap@cobb.example"]
    assert {n["status"] for n in loaded.json("notices", "--json")} == {"sent"}


def test_an_opted_out_address_gets_nothing_and_the_profile_signs_the_notice(after_run: Cli, sink: SmtpSink) -> None:
    after_run("contacts", "opt-out", "ap@cobb.example", "--note", "asked by phone")
    after_run("profile", "set", "name", "Supplier AG")
    after_run("profile", "set", "iban", "DE89 3704 0044 0532 0130 00")
    after_run("profile", "set", "window.email", "25:00-26:00", expect=1)
    after_run("profile", "set", "colour", "blue", expect=1)

    summary = after_run.json("deliver", "--now", NOW, "--json")

    assert summary["sent"] == 1 and summary["outcomes"]["suppressed"] == 1
    [received] = sink.received
    text = received.message().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Supplier AG" in text and "DE89 3704 0044 0532 0130 00" in text
    flags = after_run.json("contacts", "list", "--json")
    assert [(f["address"], f["flag"]) for f in flags] == [("ap@cobb.example", "opted_out")]
    profile = after_run.json("profile", "show")
    assert profile["name"] == "Supplier AG" and "link_secret" not in profile


def test_a_dry_run_lists_what_would_be_sent_and_changes_nothing(after_run: Cli, sink: SmtpSink) -> None:
    before = after_run.json("notices", "--json")

    dry = after_run.json("deliver", "--now", NOW, "--dry-run", "--json")

    assert dry["dry_run"] is True and dry["sent"] == 2
    assert sorted(m["to"] for m in dry["would_send"]) == ["ap@acme.example", "ap@cobb.example"]
    assert sink.received == []
    assert after_run.json("notices", "--json") == before
    assert after_run.json("deliver", "--now", NOW, "--json")["sent"] == 2
