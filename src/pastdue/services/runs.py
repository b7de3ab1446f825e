"""Dunning runs asked for over HTTP: queued in the database, run in the background.

A run of a large ledger takes longer than an HTTP client should wait, so a request only
queues it (:func:`request_run`) and answers at once; :class:`RunQueue` then runs the
tenant's queued runs in a thread, oldest first, one at a time per tenant, and records
each one's status and result where any later request (or another server) can read it.
The run itself is :func:`~pastdue.services.dunning_run.run_dunning`, unchanged: on
PostgreSQL its advisory lock also makes runs queued by other processes take turns.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import date

from pastdue.bootstrap import App
from pastdue.errors import ProblemsFound
from pastdue.services.dunning_run import run_dunning
from pastdue.store import runs
from pastdue.store.database import unit_of_work
from pastdue.store.runs import RunRow

log = logging.getLogger(__name__)


def request_run(app: App, as_of: date, *, dry_run: bool = False, actor: str = "person") -> str:
    """Queue a run of the App's tenant; returns its id. Nothing runs until a
    :class:`RunQueue` (or :func:`run_queued`) takes it."""
    run_id = str(uuid.uuid4())
    with unit_of_work(app.engine) as uow:
        runs.add_run(uow.connection, app.tenant, run_id, as_of, dry_run, actor, app.clock())
        uow.commit()
    return run_id


def run_queued(app: App) -> int:
    """Run the tenant's queued runs, oldest first, until none is left; returns how many ran.

    A run that fails is recorded as failed with the reason (problems in the tenant's data,
    such as no policy, in their own words; a failure of code only by its kind, the details
    going to the log) and the next one still runs.
    """
    done = 0
    while (run := _claim(app)) is not None:
        _execute(app, run)
        done += 1
    return done


def _claim(app: App) -> RunRow | None:
    with unit_of_work(app.engine) as uow:
        run = runs.claim_next(uow.connection, app.tenant, app.clock())
        uow.commit()
    return run


def _execute(app: App, run: RunRow) -> None:
    summary, error = None, None
    try:
        result = run_dunning(app, run.as_of, dry_run=run.dry_run)
        summary = result.as_json()
    except ProblemsFound as exc:
        error = "; ".join(problem.message for problem in exc.problems)
    except Exception as exc:  # the run failed; the queue and the server go on
        log.exception("run %s of tenant %s failed", run.id, app.tenant)
        error = f"the run failed ({type(exc).__name__}); the error is logged"
    with unit_of_work(app.engine) as uow:
        runs.finish(uow.connection, app.tenant, run.id, app.clock(), summary=summary, error=error)
        uow.commit()


class RunQueue:
    """Runs queued runs in background threads: at most one thread per tenant, which drains
    that tenant's queue and ends. One per server process; nothing starts until
    :meth:`kick` is called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._again: set[str] = set()
        self._threads: dict[str, threading.Thread] = {}

    def kick(self, app: App) -> None:
        """Make sure the tenant's queued runs will run: start its thread, or tell the running
        one to look again before it ends (it may have looked just before this run was queued)."""
        with self._lock:
            if app.tenant in self._busy:
                self._again.add(app.tenant)
                return
            self._busy.add(app.tenant)
            thread = threading.Thread(target=self._drain, args=(app,), name=f"run-{app.tenant}", daemon=True)
            self._threads[app.tenant] = thread
        thread.start()

    def _drain(self, app: App) -> None:
        try:
            while True:
                try:
                    run_queued(app)
                except Exception:  # the database is away: what is queued stays queued for the next kick
                    log.exception("the run queue of tenant %s stopped", app.tenant)
                with self._lock:
                    if app.tenant not in self._again:
                        return
                    self._again.discard(app.tenant)
        finally:
            with self._lock:
                self._busy.discard(app.tenant)
                self._again.discard(app.tenant)
                self._threads.pop(app.tenant, None)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no tenant's runs are running here (a server shutting down, a test
        ending); ``False`` if some still were after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads.values())
            if not threads:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            threads[0].join(remaining)
