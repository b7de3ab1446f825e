"""The log-in limit on its own clock: five failures in fifteen minutes close a key until the
oldest of them is fifteen minutes old."""

from __future__ import annotations

from pastdue.web.dashboard.throttle import LoginThrottle, refusal_text


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_within_the_window_close_the_key_until_the_oldest_is_old_enough() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(4):
        throttle.failed(["email:a"])
        clock.now += 60
    assert throttle.wait(["email:a"]) == 0
    throttle.failed(["email:a"])  # the fifth, four minutes after the first

    assert throttle.wait(["email:a"]) == 11 * 60
    assert throttle.wait(["email:b"]) == 0  # other keys are not affected
    clock.now += 11 * 60 - 1
    assert throttle.wait(["email:a"]) == 1
    clock.now += 1
    assert throttle.wait(["email:a"]) == 0  # the first failure left the window


def test_failures_spread_wider_than_the_window_never_close_the_key() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(20):
        throttle.failed(["client:1"])
        clock.now += 4 * 60
    assert throttle.wait(["client:1"]) == 0


def test_any_closed_key_closes_the_attempt_and_a_success_clears_only_its_own_key() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(5):
        throttle.failed(["email:a", "client:1"])
    assert throttle.wait(["email:other", "client:1"]) > 0
    throttle.succeeded("email:a")
    assert throttle.wait(["email:a"]) == 0
    assert throttle.wait(["client:1"]) > 0


def test_memory_stays_bounded_by_forgetting_the_least_recent_keys() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_keys=3)
    for _ in range(5):
        throttle.failed(["email:old"])
    for key in ("email:1", "email:2", "email:3"):
        throttle.failed([key])
    assert throttle.wait(["email:old"]) == 0


def test_the_refusal_says_how_long_to_wait_in_whole_minutes() -> None:
    assert refusal_text(30) == "Too many failed log-in attempts. Please wait 1 minute and try again."
    assert refusal_text(14 * 60 + 1).endswith("wait 15 minutes and try again.")
