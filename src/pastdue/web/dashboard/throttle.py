"""A limit on failed log-ins, so that passwords cannot be guessed at the speed of the network.

After :data:`MAX_FAILURES` failed attempts within :data:`WINDOW` seconds for one e-mail
address, or from one client address, every further attempt for it is refused (429) until
the oldest of those failures is :data:`WINDOW` seconds old, whether the password is right
or not: a limit that let the right password through would tell a guesser when they hit it.
A refused attempt is not counted again, so waiting always ends the refusal; a successful
log-in clears its e-mail address's count (not its client address's, or one valid account
would let its owner reset the count between guesses at other accounts).

The counts live in memory, per process: nothing to store or clean up, at the price that
each process counts alone. ``pastdue serve`` starts one process per CPU unless told
``--workers 1``, and connections are spread over them, so a guesser gets up to five
attempts per process in a window; a count shared through the database would close that gap.
Behind a reverse proxy, run uvicorn with the proxy's
address in ``--forwarded-allow-ips`` so that the client address is the visitor's, not the
proxy's (otherwise everyone shares one count). Locking out an address for 15 minutes is
what anyone who knows it can do by failing five times; that is the usual price of a limit
per account, and it ends by itself.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

MAX_FAILURES = 5
WINDOW = 15 * 60.0
MAX_KEYS = 50_000
"""Addresses remembered at most (a few hundred bytes each); the least recently failed go first."""


class LoginThrottle:
    """Failed log-ins per key (an e-mail or a client address) in a sliding window.

    ``clock`` gives the time in seconds; the dashboard passes the App's clock, so tests walk it forward.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self._clock = clock
        self._max = max_failures
        self._window = window
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds until an attempt for all of ``keys`` is allowed again; 0 when it is now."""
        now = self._clock()
        longest = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self._max:
                    longest = max(longest, times[-self._max] + self._window - now)
        return longest

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque(maxlen=self._max)
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        """The key's failures still inside the window (older ones dropped), or ``None``."""
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times


def refusal_text(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed log-in attempts. Please wait {minutes} {unit} and try again."
