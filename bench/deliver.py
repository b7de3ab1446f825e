"""Benchmark the delivery path: templates rendered, e-mails sent to a local SMTP sink, letters made.

Usage::

    python bench/deliver.py [--invoices 1000000] [--backends sqlite,postgres] [--render 20000]
                            [--emails 20000] [--letters 200] [--now 2026-06-30T16:00:00+00:00]
                            [--sink fast|aiosmtpd] [--all-channels] [--profile DIR] [--data DIR]
                            [--pg-url URL] [--ceiling 10000]

Per backend, the ledger of ``bench/ledger.py`` (same dataset, cached in ``bench/data/<n>-seed7``)
is imported and given its first run as of 2026-06-30; the notices that run queues are then
used four ways, each in a child process of its own whose wall time and peak resident memory
(``ru_maxrss`` from ``wait4``) are its own:

* ``render``: real e-mail notices of the queue made into documents as ``Deliverer`` makes
  them (``load_context`` per batch of 50, ``build_document``) and rendered by
  ``Renderer.render`` (subject, text and HTML), after one warm-up render per template; the
  MIME bytes the SMTP channel would send are written and timed apart. One core.
* ``letters``: real letter notices made into documents (given a postal address, which the
  dataset has none of), rendered to HTML, then to PDF by ``pastdue.pdf.render_pdf`` one by
  one and by ``render_pdfs`` in batches. Pinned to one CPU.
* ``deliver``: ``pastdue deliver --now NOW --limit N --json`` against an SMTP sink
  (``bench/smtp_sink.py``, in a process of its own), with one worker; then on PostgreSQL,
  after the sent e-mails are put back in the queue, with two workers at once, each
  ``--limit N/2`` (``--limit`` counts the notices a worker sends, checked per batch of 50).
  Only e-mail notices are due meanwhile: the benchmark postpones the others (letters would be
  suppressed for want of an address, phone notices become task files), unless
  ``--all-channels`` leaves the run's whole queue as it is. Throughput is what the sink
  received over the phase's wall time (first worker started to last worker ended,
  interpreter start-up included) and over the workers' own ``elapsed_s``. The sink also
  checks that it received every e-mail the workers report sent, and no Message-ID twice.
* ``profile`` (with ``--profile DIR``): the one-worker delivery again under cProfile.

The default ``--now`` (16:00 UTC on Tuesday 2026-06-30) lies inside the 08:00-20:00 send
window of every time zone in the dataset; notices outside it would be postponed, not sent.
The machine's other work shares the CPUs, so figures per CPU second are printed besides wall
figures. The script prints figures and asserts nothing about time. Exit status: 0, or 1 when
a phase failed, the sink missed a message or saw a duplicate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deliver_phases import BATCH, SENDER, TENANT
from ledger import (
    AS_OF,
    DEFAULT_PG_URL,
    GENERATOR,
    HERE,
    POLICY,
    SEED,
    Phase,
    _child_env,
    _max_rss_mib,
    dataset,
    pastdue,
    postgres_database,
    sqlite_database,
)
from smtp_sink import Sink, measure_ceiling

DEFAULT_NOW = "2026-06-30T16:00:00+00:00"
FAR_FUTURE = "2999-01-01T00:00:00.000000+00:00"

TARGETS = {"render": 5000.0, "deliver": 1000.0, "letters": 40.0}


# -- child processes ------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    out: Any
    err: Any
    started: float
    wall_s: float = 0.0
    peak_mib: float = 0.0
    exit_code: int = 0


def start(name: str, command: list[str], env: dict[str, str]) -> Child:
    # Closed by finish(), once the child has exited and its output is read.
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
    began = time.perf_counter()
    return Child(name, subprocess.Popen(command, stdout=out, stderr=err, env=env), out, err, began)


def finish(backend: str, children: list[Child]) -> list[Phase]:
    """Wait for every child; each one's wall time ends when it exits (polled every 2 ms)."""
    waiting = {c.process.pid: c for c in children}
    while waiting:
        for pid, child in list(waiting.items()):
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done == 0:
                continue
            child.wall_s = time.perf_counter() - child.started
            child.peak_mib = _max_rss_mib(usage.ru_maxrss)
            child.exit_code = os.waitstatus_to_exitcode(status)
            child.process.returncode = child.exit_code
            del waiting[pid]
        if waiting:
            time.sleep(0.002)
    phases = []
    for c in children:
        c.out.seek(0)
        c.err.seek(0)
        stdout, stderr = c.out.read().decode("utf-8", "replace"), c.err.read().decode("utf-8", "replace")
        c.out.close()
        c.err.close()
        phases.append(Phase(backend, c.name, c.wall_s, c.peak_mib, c.exit_code, stdout, stderr))
    return phases


def run_one(backend: str, name: str, command: list[str], env: dict[str, str]) -> Phase:
    return finish(backend, [start(name, command, env)])[0]


def last_json(phase: Phase) -> dict[str, Any] | None:
    if not phase.ok:
        return None
    lines = phase.stdout.strip().splitlines()
    data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return data


def report_failure(phase: Phase) -> None:
    print(f"FAILED (exit {phase.exit_code})")
    tail = (phase.stderr or phase.stdout).strip().splitlines()[-15:]
    print("\n".join(f"    {line}" for line in tail))


# -- the database, seen from the benchmark -------------------------------------------------------


def sql(url: str, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
    from sqlalchemy import text

    from pastdue.store.database import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params or {})
            return list(result) if result.returns_rows else [result.rowcount]
    finally:
        engine.dispose()


def queue_counts(url: str) -> dict[tuple[str, str], int]:
    rows = sql(
        url,
        "SELECT channel, status, count(*) FROM notices WHERE tenant_id = :t GROUP BY channel, status",
        {"t": TENANT},
    )
    return {(channel, status): n for channel, status, n in rows}


def print_counts(backend: str, counts: dict[tuple[str, str], int], when: str) -> None:
    by_channel: dict[str, list[str]] = {}
    for (channel, status), n in sorted(counts.items()):
        by_channel.setdefault(channel, []).append(f"{n} {status}")
    text = "; ".join(f"{channel} {', '.join(parts)}" for channel, parts in by_channel.items()) or "empty"
    print(f"{backend}: notices {when}: {text}")


def postpone_others(url: str) -> int:
    rows = sql(
        url,
        "UPDATE notices SET due_at = :far WHERE tenant_id = :t AND status = 'pending' AND channel <> 'email'",
        {"far": FAR_FUTURE, "t": TENANT},
    )
    return int(rows[0])


def first_due(url: str) -> str | None:
    """When the run made its notices due: what a notice put back in the queue is due at again."""
    rows = sql(url, "SELECT min(due_at) FROM notices WHERE tenant_id = :t AND status = 'pending'", {"t": TENANT})
    return str(rows[0][0]) if rows and rows[0][0] else None


def requeue(url: str, due_at: str, all_channels: bool) -> int:
    """Put what one delivery phase settled back in the queue, as the run left it, for the next phase."""
    which = "status IN ('sent', 'suppressed', 'cancelled', 'failed')" if all_channels else "channel = 'email'"
    rows = sql(
        url,
        "UPDATE notices SET status = 'pending', due_at = :due, lease_owner = NULL, attempts = 0, contact = NULL, "
        f"provider_id = NULL, error = NULL, message_id = NULL, sent_at = NULL WHERE tenant_id = :t AND {which} "
        "AND status <> 'pending'",
        {"due": due_at, "t": TENANT},
    )
    return int(rows[0])


def pending_due(url: str, now: datetime, all_channels: bool) -> int:
    from pastdue.store.sql import stamp

    channel = "" if all_channels else "AND channel = 'email' "
    rows = sql(
        url,
        f"SELECT count(*) FROM notices WHERE tenant_id = :t {channel}AND status = 'pending' AND due_at <= :now",
        {"t": TENANT, "now": stamp(now)},
    )
    return int(rows[0][0])


# -- phases ----------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Everything one backend measured, for the summary."""

    backend: str
    notices: dict[tuple[str, str], int] = field(default_factory=dict)
    phases: list[Phase] = field(default_factory=list)
    render: dict[str, Any] | None = None
    letters: dict[str, Any] | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    healthy: bool = True


def setup(figures: Figures, url: str, data: Path, policy: Path) -> bool:
    steps = [
        ("init", ["init"]),
        ("import", ["import", str(data)]),
        ("policy apply", ["policy", "apply", str(policy), "--default"]),
        ("run (first)", ["run", "--as-of", AS_OF, "--json"]),
    ]
    for name, args in steps:
        print(f"{figures.backend}: {name} ...", end=" ", flush=True)
        phase = pastdue(figures.backend, name, url, *args)
        figures.phases.append(phase)
        if not phase.ok:
            report_failure(phase)
            return False
        summary = phase.run_json()
        extra = f", {summary['notices']} notices queued (elapsed_s {summary['elapsed_s']})" if summary else ""
        print(f"{phase.wall_s:.2f} s, peak {phase.peak_mib:.0f} MiB{extra}", flush=True)
    return True


def child_command(kind: str, url: str, args: argparse.Namespace) -> list[str]:
    count = args.render if kind == "render" else args.letters
    script = str(HERE / "deliver_phases.py")
    return [sys.executable, script, kind, "--db", url, "--now", args.now, "--count", str(count)]


def measure_render(figures: Figures, url: str, args: argparse.Namespace, env: dict[str, str]) -> None:
    print(f"{figures.backend}: render (up to {args.render} queued e-mails) ...", end=" ", flush=True)
    phase = run_one(figures.backend, "render", child_command("render", url, args), env)
    figures.phases.append(phase)
    r = last_json(phase)
    if r is None:
        figures.healthy = False
        report_failure(phase)
        return
    figures.render = r
    if not r["emails"]:
        print("no e-mail notices queued")
        return
    n = r["emails"]
    print(f"{phase.wall_s:.2f} s, peak {phase.peak_mib:.0f} MiB")
    print(
        f"    {n} e-mails ({r['templates']} templates: levels {r['levels']}, languages {', '.join(r['languages'])}), "
        f"warm-up {r['warm_up_s']:.2f} s"
    )
    print(
        f"    rendered: {n / r['render_cpu_s']:,.0f}/s per CPU second, {n / r['render_wall_s']:,.0f}/s wall "
        f"({1e6 * r['render_cpu_s'] / n:.0f} us each); MIME written: {n / r['mime_cpu_s']:,.0f}/s per CPU second "
        f"({r['kib_per_email']:.1f} KiB each)"
    )
    built = r["build_cpu_s"] + r["context_cpu_s"]
    print(
        f"    documents built: {n / r['build_cpu_s']:,.0f}/s per CPU second (build_document alone), "
        f"{n / built:,.0f}/s with load_context per batch of {BATCH}, {n / r['documents_wall_s']:,.0f}/s wall "
        "(database included)"
    )


def measure_letters(figures: Figures, url: str, args: argparse.Namespace, env: dict[str, str]) -> None:
    print(f"{figures.backend}: letters ({args.letters}, one CPU) ...", end=" ", flush=True)
    phase = run_one(figures.backend, "letters", child_command("letters", url, args), env)
    figures.phases.append(phase)
    r = last_json(phase)
    if r is None:
        figures.healthy = False
        report_failure(phase)
        return
    figures.letters = r
    n = r["letters"]
    print(f"{phase.wall_s:.2f} s, peak {phase.peak_mib:.0f} MiB")
    print(
        f"    {n} letters from {r['source']}: {r['lines']:.1f} invoice lines, {r['pages']:.1f} pages and "
        f"{r['kib_per_pdf']:.0f} KiB each; first letter {r['first_letter_s']:.2f} s (not counted); "
        f"HTML {1000 * r['html_cpu_s'] / n:.1f} ms each; HarfBuzz subsetter "
        + ("installed" if r["harfbuzz_subset"] else "MISSING (Debian libharfbuzz-subset0)")
    )
    for mode, label in (("single", "render_pdf, one by one"), ("batch", "render_pdfs, batches of 32")):
        wall = r["html_wall_s"] + r[f"{mode}_wall_s"]
        cpu = r["html_cpu_s"] + r[f"{mode}_cpu_s"]
        print(
            f"    {label}: {n / wall:.1f} letters/s wall, {n / cpu:.1f}/s per CPU second "
            f"({1000 * cpu / n:.1f} ms CPU each, HTML included)"
        )


def measure_delivery(
    figures: Figures,
    url: str,
    args: argparse.Namespace,
    env: dict[str, str],
    sink: Sink,
    workers: int,
    limit: int,
) -> None:
    name = f"deliver x{workers}"
    per_worker = math.ceil(limit / workers)
    command = [sys.executable, "-c", "from pastdue.cli import main; main()", "--db", url]
    command += ["deliver", "--now", args.now, "--limit", str(per_worker), "--json"]
    print(f"{figures.backend}: {name} (--limit {per_worker} each) ...", end=" ", flush=True)
    sink.reset()
    began = time.perf_counter()
    children = [start(f"{name} #{i + 1}", command, env) for i in range(workers)]
    phases = finish(figures.backend, children)
    wall = time.perf_counter() - began
    seen = sink.stats()
    figures.phases.extend(phases)
    summaries = []
    for phase in phases:
        summary = last_json(phase)
        if summary is None:
            figures.healthy = False
            report_failure(phase)
            return
        summaries.append(summary)
    sent = sum(s["sent_by_channel"].get("email", 0) for s in summaries)
    others = sum(s["sent"] for s in summaries) - sent
    outcomes: dict[str, int] = {}
    for s in summaries:
        for outcome, n in s["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
    elapsed = max(s["elapsed_s"] for s in summaries)
    result = {
        "workers": workers,
        "wall_s": wall,
        "received": seen["messages"],
        "sent": sent,
        "elapsed_s": elapsed,
        "duplicates": seen["duplicates"],
        "sink": seen,
        "outcomes": outcomes,
        "peak_mib": max(p.peak_mib for p in phases),
    }
    figures.deliveries.append(result)
    ok = seen["duplicates"] == 0 and seen["messages"] == sent and seen["without_id"] == 0
    figures.healthy = figures.healthy and ok
    print(f"{wall:.2f} s, peak {result['peak_mib']:.0f} MiB per worker")
    print(
        f"    sink received {seen['messages']} messages ({seen['bytes'] / max(1, seen['messages']) / 1024:.1f} KiB "
        f"each) over {seen['connections']} connection(s), {seen['unique_ids']} distinct Message-IDs, "
        f"duplicates {seen['duplicates']}, without Message-ID {seen['without_id']}"
        + ("" if ok else f"  <-- MISMATCH: workers report {sent} sent")
    )
    also = f" (and {others} notices on other channels)" if others else ""
    print(f"    outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}{also}")
    for phase, s in zip(phases, summaries, strict=True):
        emails = s["sent_by_channel"].get("email", 0)
        rate = emails / s["elapsed_s"] if s["elapsed_s"] else 0.0
        print(
            f"    {phase.name}: sent {emails} e-mails in {s['elapsed_s']:.2f} s own time ({rate:,.0f}/s), "
            f"{phase.wall_s:.2f} s wall, peak {phase.peak_mib:.0f} MiB"
        )
    print(
        f"    throughput: {seen['messages'] / wall:,.0f}/s over the phase's wall time, "
        f"{sent / elapsed:,.0f}/s over the slowest worker's elapsed_s, "
        f"{seen['messages'] / seen['span_s'] if seen['span_s'] else 0:,.0f}/s first to last message at the sink "
        f"(sink CPU {seen['cpu_s']:.2f} s)"
    )


def profile_delivery(
    figures: Figures, url: str, args: argparse.Namespace, env: dict[str, str], limit: int, folder: Path
) -> None:
    import pstats

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"deliver-{figures.backend}.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(path), "-m", "pastdue", "--db", url]
    command += ["deliver", "--now", args.now, "--limit", str(limit), "--json"]
    print(f"{figures.backend}: deliver x1 under cProfile ...", end=" ", flush=True)
    phase = run_one(figures.backend, "deliver (cProfile)", command, env)
    summary = last_json(phase)
    if summary is None:
        report_failure(phase)
        return
    print(f"sent {summary['sent']} in {summary['elapsed_s']:.2f} s (profiled); {path}")
    stats = pstats.Stats(str(path))
    for order, only, label in (
        ("cumulative", "/pastdue/", "pastdue's own functions by cumulative time"),
        ("tottime", "", "all functions by own time"),
    ):
        stats.sort_stats(order)
        print(f"    top 20, {label} (seconds; the profiler slows Python code down):")
        for line in _top(stats, 20, only):
            print(f"      {line}")


def _top(stats: Any, count: int, only: str) -> list[str]:
    rows = []
    for func in stats.fcn_list:
        filename, line, name = func
        if only not in filename or (only and name == "<module>"):
            continue  # imports are start-up, not delivery
        calls, _primitive, total, cumulative, _callers = stats.stats[func]
        where = f"{_short(filename)}:{line}({name})" if line else name
        rows.append(f"{cumulative:7.2f} cum {total:7.2f} own {calls:>9} calls  {where}")
        if len(rows) == count:
            break
    return rows


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def measure_backend(
    backend: str, url: str, data: Path, policy: Path, args: argparse.Namespace, env: dict[str, str], sink: Sink
) -> Figures:
    figures = Figures(backend)
    if not setup(figures, url, data, policy):
        figures.healthy = False
        return figures
    if backend == "postgres":
        autovacuum = sql(url, "SHOW autovacuum")[0][0]
        print(
            f"{backend}: server autovacuum {autovacuum} (off: the queued notices stay unanalysed during the benchmark)"
        )
    figures.notices = queue_counts(url)
    print_counts(backend, figures.notices, "after the first run")
    measure_render(figures, url, args, env)
    measure_letters(figures, url, args, env)

    now = datetime.fromisoformat(args.now)
    due_at = first_due(url)
    if args.all_channels:
        available = pending_due(url, now, True)
        print(f"{backend}: {available} notices due, on every channel (--all-channels: --limit counts any channel's)")
    else:
        postponed = postpone_others(url)
        available = pending_due(url, now, False)
        print(f"{backend}: {available} e-mail notices due; {postponed} notices of other channels postponed")
    limit = min(args.emails, available)
    if not limit or due_at is None:
        print(f"{backend}: nothing to deliver")
        return figures
    measure_delivery(figures, url, args, env, sink, 1, limit)
    if backend == "postgres":
        requeue(url, due_at, args.all_channels)
        measure_delivery(figures, url, args, env, sink, 2, limit)
    else:
        print(f"{backend}: two workers only on PostgreSQL (SQLite serialises every write; one worker is its case)")
    if args.profile:
        requeue(url, due_at, args.all_channels)
        profile_delivery(figures, url, args, env, limit, args.profile)
    print_counts(backend, queue_counts(url), "at the end")
    return figures


# -- summary ---------------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "ok" if value >= target else "BELOW"


def summary_rows(f: Figures, invoices: int, all_channels: bool) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    size = f"{invoices:,}"
    phase_peak = {p.name: p.peak_mib for p in f.phases}
    r = f.render
    if r and r["emails"]:
        n = r["emails"]
        rate = n / r["render_cpu_s"]
        rows.append(
            (
                f.backend,
                size,
                "templates rendered (e-mail), 1 core",
                f"{rate:,.0f}/s CPU, {n / r['render_wall_s']:,.0f}/s wall",
                ">= 5,000/s",
                verdict(rate, TARGETS["render"]),
                f"{phase_peak.get('render', 0):.0f}",
            )
        )
        rows.append(
            (
                f.backend,
                size,
                "documents built (+ load_context)",
                f"{n / r['build_cpu_s']:,.0f}/s CPU ({n / (r['build_cpu_s'] + r['context_cpu_s']):,.0f}/s)",
                "",
                "",
                "",
            )
        )
    for d in f.deliveries:
        rate = d["received"] / d["wall_s"]
        rows.append(
            (
                f.backend,
                size,
                f"e-mails delivered to the sink, {d['workers']} worker{'s' if d['workers'] > 1 else ''}"
                + (" (whole queue)" if all_channels else ""),
                f"{rate:,.0f}/s wall, {d['sent'] / d['elapsed_s']:,.0f}/s elapsed_s ({d['received']})",
                ">= 1,000/s",
                verdict(rate, TARGETS["deliver"]) + (", DUPLICATES" if d["duplicates"] else ""),
                f"{d['peak_mib']:.0f}",
            )
        )
    lt = f.letters
    if lt:
        n = lt["letters"]
        for mode, label in (("single", "render_pdf"), ("batch", "render_pdfs")):
            cpu = lt["html_cpu_s"] + lt[f"{mode}_cpu_s"]
            wall = lt["html_wall_s"] + lt[f"{mode}_wall_s"]
            rows.append(
                (
                    f.backend,
                    size,
                    f"letters rendered ({label}), 1 core",
                    f"{n / cpu:.1f}/s CPU, {n / wall:.1f}/s wall",
                    ">= 40/s",
                    verdict(n / cpu, TARGETS["letters"]),
                    f"{phase_peak.get('letters', 0):.0f}",
                )
            )
    for p in f.phases:
        if p.name in ("import", "run (first)"):
            rows.append((f.backend, size, f"{p.name} (set-up)", f"{p.wall_s:.2f} s wall", "", "", f"{p.peak_mib:.0f}"))
    return rows


def print_summary(
    all_figures: list[Figures], invoices: int, ceiling: dict[str, Any] | None, all_channels: bool
) -> None:
    header = ("backend", "invoices", "figure", "measured", "target", "verdict", "peak RSS MiB")
    rows = [row for f in all_figures for row in summary_rows(f, invoices, all_channels)]
    if ceiling:
        rows.append(
            (
                "-",
                "-",
                f"sink ceiling ({ceiling['impl']}, smtplib client)",
                f"{ceiling['per_s']:,.0f}/s wall",
                "",
                "",
                "",
            )
        )
    if not rows:
        print("\nnothing measured")
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(
        "\n/s CPU: per CPU second of the measuring process (the per-core figure; the machine's other work "
        "does not dilute it); /s wall: per second of wall time. Delivery wall time runs from the first "
        "worker's start to the last one's exit, interpreter start-up included; elapsed_s is the "
        "slowest worker's own time. Peak RSS is each child's (per worker for delivery)."
    )


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--invoices", type=int, default=1_000_000, help="invoices to generate (default 1000000)")
    add("--data", type=Path, help="dataset folder, generated if it lacks expected.json (default bench/data/<n>-seed7)")
    add("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    add("--pg-url", default=DEFAULT_PG_URL, help=f"server on which a benchmark database is created ({DEFAULT_PG_URL})")
    add("--generator", type=Path, default=GENERATOR, help="dataset generator")
    add("--render", type=int, default=20_000, help="queued e-mails to render (default 20000)")
    add("--emails", type=int, default=20_000, help="e-mails to send per phase, at most those queued (default 20000)")
    add("--letters", type=int, default=200, help="letters to render to PDF (default 200)")
    add("--now", default=DEFAULT_NOW, help=f"the delivery's clock (default {DEFAULT_NOW})")
    add("--sink", choices=("fast", "aiosmtpd"), default="fast", help="SMTP sink implementation (default fast)")
    add("--ceiling", type=int, default=10_000, help="messages for the sink's own ceiling (0: skip; default 10000)")
    add(
        "--all-channels",
        action="store_true",
        help="deliver the run's whole queue (letters, phone tasks too) instead of its e-mails alone",
    )
    add("--profile", type=Path, metavar="DIR", help="also run one delivery under cProfile, writing DIR/*.prof")
    args = parser.parse_args(argv)
    args.backends_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends_list) - {"sqlite", "postgres"})
    if unknown or not args.backends_list:
        parser.error(f"--backends: unknown {', '.join(unknown) or '(none given)'}; use sqlite,postgres")
    if min(args.invoices, args.render, args.emails, args.letters) < 1:
        parser.error("--invoices, --render, --emails and --letters must be at least 1")
    try:
        moment = datetime.fromisoformat(args.now)
    except ValueError:
        parser.error(f"--now: {args.now!r} is not an ISO 8601 date and time")
    if moment.tzinfo is None:
        parser.error("--now needs an offset, e.g. 2026-06-30T16:00:00+00:00")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    cache: Path = args.data or HERE / "data" / f"{args.invoices}-seed{SEED}"
    data = dataset(args.invoices, cache, args.generator)
    expected = json.loads((data / "expected.json").read_text(encoding="utf-8"))
    print(
        f"dataset: {expected['customers']} customers, {expected['invoices']} invoices, "
        f"{expected['open_invoices']} open as of {AS_OF}; delivery clock {args.now}; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )

    ceiling = None
    if args.ceiling:
        ceiling = measure_ceiling(args.sink, args.ceiling)
        print(
            f"sink: {args.sink}; its ceiling from a trivial smtplib client over one connection: "
            f"{ceiling['per_s']:,.0f} messages/s ({ceiling['messages']} of {ceiling['bytes']} B; sink CPU "
            f"{ceiling['sink_cpu_s']:.2f} s, client CPU {ceiling['client_cpu_s']:.2f} s)"
        )

    all_figures: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="pastdue-bench-deliver-") as folder, Sink(args.sink) as sink:
        work = Path(folder)
        policy = work / "standard-catch-up.toml"
        policy.write_text(POLICY, encoding="utf-8")
        env = _child_env()
        env.update(
            PASTDUE_EMAIL_URL=sink.url,
            PASTDUE_EMAIL_FROM=SENDER,
            PASTDUE_SMS_URL=f"file://{work / 'sms'}",
            PASTDUE_LETTER_DIR=str(work / "letters"),
            PASTDUE_PHONE_DIR=str(work / "phone"),
        )
        os.environ.update({k: v for k, v in env.items() if k.startswith("PASTDUE_")})  # for ledger.pastdue
        print(f"sink: {args.sink} on {sink.url}")
        for backend in args.backends_list:
            database = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
            with database as url:
                if url is None:
                    continue
                all_figures.append(measure_backend(backend, url, data, policy, args, env, sink))

    print_summary(all_figures, expected["invoices"], ceiling, args.all_channels)
    print(
        "targets: templates >= 5,000 e-mails/s on one core; delivery to a local SMTP sink >= 1,000 e-mails/s "
        "with connection reuse; letters >= 40/s per core."
    )
    healthy = bool(all_figures) and all(f.healthy for f in all_figures)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
