"""A channel that keeps what it is given: the fake for tests and the sink of ``--dry-run``.

It can be scripted to fail, one outcome per send, so that retry and bounce handling are
tested against the same interface the real channels implement, without a mocking library.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from pastdue.channels.base import OutgoingMessage, Receipt


class RecordingChannel:
    """Records every message; ``fail_with`` scripts the outcome of the next sends, in order.

    Each send pops the first entry of ``fail_with``: an exception is raised (the message is
    not recorded as sent), ``None`` lets that send succeed; once the list is empty every send
    succeeds. ``attempts`` holds every message offered, ``sent`` only those accepted.
    """

    def __init__(self, name: str = "email", fail_with: Iterable[Exception | None] = ()) -> None:
        self.name = name
        self.sent: list[OutgoingMessage] = []
        self.attempts: list[OutgoingMessage] = []
        self.fail_with: list[Exception | None] = list(fail_with)
        self.closed = 0
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> Receipt:
        with self._lock:
            self.attempts.append(message)
            failure = self.fail_with.pop(0) if self.fail_with else None
            if failure is not None:
                raise failure
            self.sent.append(message)
            number = len(self.sent)
        return Receipt(provider_id=message.message_id or f"{self.name}-{number}", detail="recorded")

    def close(self) -> None:
        self.closed += 1
