"""Money and disputes mid-way: a payment closes dunning, a dispute pauses it until it ends."""

from __future__ import annotations

from story import STANDARD, play

WITH_MINIMUM = STANDARD.replace(
    "min_days_between_notices = 7",
    'min_days_between_notices = 7\n    min_balance = { EUR = "5.00" }',
)


def test_payment_closes_dunning_and_dispute_pauses_it_until_expiry() -> None:
    play(
        WITH_MINIMUM,
        ledger="""
            invoice  customer  currency  amount  issued_on   due_on
            INV-1    C1        EUR       100.00  2026-04-05  2026-05-05
            INV-2    C2        EUR       300.00  2026-04-05  2026-05-05
            INV-3    C3        EUR        50.00  2026-04-05  2026-05-05
            INV-4    C4        EUR       120.00  2026-04-20  2026-05-20
        """,
        story="""
            2026-05-06: INV-1 reaches level 1 (reminder) by email
            2026-05-06: INV-2 reaches level 1 (reminder) by email
            2026-05-06: INV-3 reaches level 1 (reminder) by email
            2026-05-10: INV-2 is disputed until 2026-05-24
            2026-05-12: INV-3 is paid 47.00
            2026-05-13: INV-1 reaches level 2 (second reminder) by email
            2026-05-13: INV-2 is skipped (held)
            # 3.00 EUR left: under the policy's minimum, no more notices
            2026-05-13: INV-3 is skipped (below minimum)
            2026-05-15: INV-1 is paid 40.00
            2026-05-18: INV-1 is paid 60.00
            2026-05-18: INV-1 is closed (paid)
            2026-05-18: INV-4 is disputed
            2026-05-20: INV-1 is skipped (closed)
            2026-05-21: INV-4 is skipped (held)
            # the hold's last day is inclusive
            2026-05-24: INV-2 is skipped (held)
            2026-05-25: INV-2 reaches level 2 (second reminder) by email
            2026-06-01: INV-2 reaches level 3 (phone call) by phone
            # an open-ended dispute waits for a person; resolved, dunning starts at level 1
            2026-06-02: INV-4 dispute is resolved
            2026-06-02: INV-4 reaches level 1 (reminder) by email
            2026-06-08: INV-2 reaches level 4 (final notice) by letter
            2026-06-09: INV-4 reaches level 2 (second reminder) by email
            2026-06-10: INV-3 is skipped (below minimum)
        """,
    )
