"""Pausing Python's cycle collector around bulk work.

A run or an import creates millions of small objects (rows, decisions, money values) that
form no reference cycles and are freed by reference counting as soon as they go; the
cycle collector would still walk them again and again, which measured as a third of a
large run. Pausing it for the duration is safe: anything cyclic is collected once it is
back on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
