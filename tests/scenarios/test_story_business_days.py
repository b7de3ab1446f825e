"""Business days in Germany: weekends and the holidays the story names do not count."""

from __future__ import annotations

from story import STANDARD, play

BUSINESS_DE = STANDARD.replace('days = "calendar"', 'days = "business"\n    calendar = "DE"')


def test_business_days_skip_weekends_and_german_holidays() -> None:
    play(
        BUSINESS_DE,
        ledger="""
            invoice  customer  currency  amount  issued_on   due_on
            INV-20   C20       EUR       500.00  2026-04-13  2026-05-13
            INV-21   C21       EUR        75.00  2026-04-22  2026-05-22
        """,
        story="""
            2026-05-13: nothing happens
            2026-05-14: holiday (Ascension Day)
            # one business day after Wednesday 05-13 is Friday 05-15, not the holiday
            2026-05-14: INV-20 is skipped (not due)
            2026-05-15: INV-20 reaches level 1 (reminder) by email
            2026-05-23: INV-21 is skipped (not due)
            2026-05-25: holiday (Whit Monday)
            2026-05-25: INV-21 is skipped (not due)
            # one business day after Friday 05-22: the weekend and Whit Monday are skipped
            2026-05-26: INV-21 reaches level 1 (reminder) by email
            # eight business days after 05-13, over both holidays
            2026-05-27: INV-20 reaches level 2 (second reminder) by email
            2026-06-04: INV-21 reaches level 2 (second reminder) by email
            2026-06-05: INV-20 reaches level 3 (phone call) by phone
            2026-06-15: INV-21 reaches level 3 (phone call) by phone
            2026-06-29: INV-20 reaches level 4 (final notice) by letter
            2026-06-30: nothing happens
        """,
    )
