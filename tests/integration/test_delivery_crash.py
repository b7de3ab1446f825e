"""Workers killed with SIGKILL at random points while two of them drain one queue.

Real processes (``pastdue deliver``), a real PostgreSQL and a real SMTP server on
127.0.0.1. Each round starts two workers with the same test clock and kills one of them at
a random moment; the next round's clock is past the lease, so its workers recover what the
dead one held. At the end: nothing lost, every duplicate carries the same Message-ID and is
counted, at most one duplicate per kill, and nothing is left in doubt without being listed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_support import write_ledger

from conftest import create_postgres_database, drop_postgres_database
from local_servers import smtp_sink
from pastdue import services
from pastdue.bootstrap import App, build
from pastdue.core.delivery import FINAL
from pastdue.policies import standard_policy_toml
from pastdue.settings import Settings

NOTICES = 2000
RUN_DAY = date(2026, 6, 30)
START = datetime(2026, 6, 30, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
ROUND = timedelta(minutes=6)  # longer than the five-minute lease
KILLING_ROUNDS = 6
TENANT = "crash"

pytestmark = pytest.mark.postgres
_PASTDUE = (sys.executable, "-m", "pastdue", "--db")


@pytest.fixture
def crash_db(postgres_server: str) -> Iterator[str]:
    url = create_postgres_database(postgres_server)
    yield url
    drop_postgres_database(postgres_server, url)


def _ledger(folder: Path) -> Path:
    due = (RUN_DAY - timedelta(days=2)).isoformat()
    issued = (RUN_DAY - timedelta(days=32)).isoformat()
    customers = [
        [f"c{i:05d}", f"Kunde {i} GmbH", f"ap{i}@kunde.example", "+4930123456", "DE", "de", "Europe/Berlin"]
        for i in range(NOTICES)
    ]
    invoices = [[f"i{i:05d}", f"c{i:05d}", f"R-{i:05d}", "EUR", "119.00", issued, due] for i in range(NOTICES)]
    return write_ledger(folder / "ledger", customers=customers, invoices=invoices)


def _worker(url: str, port: int, now: datetime) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PASTDUE_EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "PASTDUE_EMAIL_FROM": "billing@crash.example",
    }
    return subprocess.Popen(
        [*_PASTDUE, url, "--tenant", TENANT, "deliver", "--now", now.isoformat(), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _sent(app: App) -> int:
    return sum(1 for n in services.notices(app) if n.status == "sent")


def _wait_for_progress(app: App, before: int) -> None:
    """Until the workers of this round have sent something (or there is nothing left to send)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _sent(app) == before and before < NOTICES:
        time.sleep(0.02)


def duplicates_seen(received: Counter[str]) -> list[int]:
    return [count - 1 for count in received.values() if count > 1]


def test_killed_workers_lose_nothing_and_duplicate_at_most_once_per_kill(crash_db: str, tmp_path: Path) -> None:
    app = build(Settings(database_url=crash_db, tenant=TENANT))
    services.init(app)
    services.import_ledger(app, [_ledger(tmp_path)])
    policy = tmp_path / "standard.toml"
    policy.write_text(standard_policy_toml(), encoding="utf-8")
    services.apply_policy(app, policy, make_default=True)
    assert services.run_dunning(app, RUN_DAY).notices == NOTICES

    rng = random.Random(20261126)
    kills = 0
    with smtp_sink() as sink:
        for round_number in range(40):
            now = START + ROUND * round_number
            before = _sent(app)
            workers = [_worker(crash_db, sink.port, now) for _ in range(2)]
            if round_number < KILLING_ROUNDS:
                # Kill both workers, each at its own random moment once sending is under way.
                _wait_for_progress(app, before)
                begun = time.monotonic()
                for moment, victim in sorted(zip((rng.uniform(0.0, 0.8) for _ in workers), workers, strict=True)):
                    time.sleep(max(0.0, moment - (time.monotonic() - begun)))
                    if victim.poll() is None:
                        victim.send_signal(signal.SIGKILL)
                        kills += 1
            for worker in workers:
                _out, errors = worker.communicate(timeout=300)
                assert worker.returncode in (0, -signal.SIGKILL), errors.decode()
            left = [n for n in services.notices(app) if n.status not in FINAL]
            if round_number >= KILLING_ROUNDS and not left:
                break

        received = Counter(r.message().get("Message-ID") for r in sink.received)

    notices = {n.id: n for n in services.notices(app)}
    print(
        f"kills={kills} rounds={round_number + 1} duplicates={sum(duplicates_seen(received))} "
        f"resends={sum(n.resends for n in notices.values())} received={sum(received.values())}"
    )
    assert kills >= 3, "the workers finished before they could be killed; raise NOTICES"
    # Nothing lost: every notice reached a final state, and every sent one arrived.
    assert Counter(n.status for n in notices.values()) == {"sent": NOTICES}
    sent_ids = {n.message_id for n in notices.values()}
    assert set(received) == sent_ids
    # No silent duplicate: a duplicate is the same Message-ID, counted on its notice.
    duplicates = {mid: count - 1 for mid, count in received.items() if count > 1}
    assert sum(duplicates.values()) <= kills
    resent = {n.message_id: n.resends for n in notices.values()}
    for message_id, extra in duplicates.items():
        assert resent[message_id] >= extra
    # Nothing unresolved without being reported.
    listing = subprocess.run(
        [*_PASTDUE, crash_db, "--tenant", TENANT, "notices", "--status", "unknown", "--json"],
        capture_output=True,
        check=True,
    )
    assert json.loads(listing.stdout) == []
    assert services.verify_audit(app) > NOTICES
    app.engine.dispose()
