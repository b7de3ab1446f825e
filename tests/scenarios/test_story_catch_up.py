"""Catch-up against step: pastdue runs for the first time on invoices long overdue."""

from __future__ import annotations

import pytest
from story import STANDARD, play

CATCH_UP = STANDARD.replace('escalation = "step"', 'escalation = "catch-up"')

OVERDUE = """
    invoice  customer  currency  amount  issued_on   due_on
    INV-7    C3        EUR       400.00  2026-03-16  2026-04-15
    INV-8    C3        EUR        90.00  2026-04-04  2026-05-04
"""


def test_catch_up_jumps_to_the_highest_level_reached() -> None:
    play(
        CATCH_UP,
        OVERDUE,
        story="""
            # first run: INV-7 is 21 days overdue, past "phone call" (15), not yet "final" (31)
            2026-05-06: INV-7 reaches level 3 (phone call) by phone
            2026-05-06: INV-8 reaches level 1 (reminder) by email
            2026-05-13: INV-8 reaches level 2 (second reminder) by email
            # INV-7's final notice is due on 05-16; C3 heard from us on 05-13
            2026-05-16: INV-7 is skipped (too soon)
            2026-05-20: INV-7 reaches level 4 (final notice) by letter
            2026-05-20: INV-8 reaches level 3 (phone call) by phone
            2026-06-04: INV-8 reaches level 4 (final notice) by letter
            2026-06-10: INV-7 is skipped (final level)
        """,
    )


def test_step_climbs_the_same_ledger_one_level_per_notice() -> None:
    play(
        STANDARD,
        OVERDUE,
        story="""
            2026-05-06: INV-7 reaches level 1 (reminder) by email
            2026-05-06: INV-8 reaches level 1 (reminder) by email
            2026-05-13: INV-7 reaches level 2 (second reminder) by email
            2026-05-13: INV-8 reaches level 2 (second reminder) by email
            2026-05-20: INV-7 reaches level 3 (phone call) by phone
            2026-05-20: INV-8 reaches level 3 (phone call) by phone
            2026-05-27: INV-7 reaches level 4 (final notice) by letter
            2026-06-04: INV-8 reaches level 4 (final notice) by letter
            2026-06-10: nothing happens
        """,
    )


def test_a_story_that_the_engine_does_not_tell_fails() -> None:
    with pytest.raises(AssertionError):
        play(
            CATCH_UP,
            OVERDUE,
            story="""
                2026-05-06: INV-7 reaches level 1 (reminder) by email
                2026-05-06: INV-8 reaches level 1 (reminder) by email
            """,
        )
    with pytest.raises(AssertionError):  # an untold action is a failure too
        play(CATCH_UP, OVERDUE, story="2026-05-06: nothing happens")
