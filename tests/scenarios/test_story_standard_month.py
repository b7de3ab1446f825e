"""The standard policy, step by step, over a month and a half of daily runs."""

from __future__ import annotations

from story import STANDARD, play


def test_standard_policy_reminds_step_by_step_and_spaces_each_customers_notices() -> None:
    play(
        STANDARD,
        ledger="""
            invoice  customer  currency  amount  issued_on   due_on
            INV-1    C1        EUR       100.00  2026-04-05  2026-05-05
            INV-2    C1        EUR       250.00  2026-04-08  2026-05-08
            INV-3    C2        EUR        80.00  2026-04-12  2026-05-12
        """,
        story="""
            2026-05-05: INV-1 is skipped (not due)
            2026-05-06: INV-1 reaches level 1 (reminder) by email
            # INV-2's reminder is due on 05-09, but C1 heard from us on 05-06: wait a week
            2026-05-09: INV-2 is skipped (too soon)
            2026-05-13: INV-1 reaches level 2 (second reminder) by email
            2026-05-13: INV-2 reaches level 1 (reminder) by email
            # C2 is spaced on its own, not by C1's notices
            2026-05-13: INV-3 reaches level 1 (reminder) by email
            2026-05-20: INV-1 reaches level 3 (phone call) by phone
            2026-05-20: INV-2 reaches level 2 (second reminder) by email
            2026-05-20: INV-3 reaches level 2 (second reminder) by email
            2026-05-27: INV-2 reaches level 3 (phone call) by phone
            2026-05-27: INV-3 reaches level 3 (phone call) by phone
            2026-06-05: INV-1 reaches level 4 (final notice) by letter
            # INV-2's final notice is due on 06-08; C1's last notice went out on 06-05
            2026-06-08: INV-2 is skipped (too soon)
            2026-06-12: INV-2 reaches level 4 (final notice) by letter
            2026-06-12: INV-3 reaches level 4 (final notice) by letter
            2026-06-30: INV-1 is skipped (final level)
        """,
    )
