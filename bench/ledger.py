"""Benchmark the ledger path end to end: import, policy, first run, rerun, next-day run.

Usage::

    python bench/ledger.py [--invoices 1000000] [--data DIR] [--backends sqlite,postgres]
                           [--pg-url URL] [--generator PATH]

The dataset comes from ``shared/bench/make_dataset.py`` (``--seed 7 --as-of 2026-06-30``) and
is cached in ``bench/data/<n>-seed7``. Every phase runs the ``pastdue`` CLI in a fresh child
process, so that its wall time and peak resident memory (``ru_maxrss`` from ``wait4``) are
its own. SQLite works on a file in a temporary folder (``TMPDIR`` chooses where);
PostgreSQL on a database created for the run and dropped afterwards (peak memory is the
client's only). The script prints figures and compares the first run's levels with the
generator's ``expected.json``; it asserts nothing about time. Exit status: 0, or 1 when a
phase failed or the levels differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pastdue.policies import standard_policy_toml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_dataset.py"
SEED = 7
AS_OF = "2026-06-30"
NEXT_DAY = "2026-07-01"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The standard policy of DESIGN.md section 6, catching up as expected.json is computed.
POLICY = standard_policy_toml("catch-up")

# The targets for one million invoices on SQLite, for reference only.
TARGET_SECONDS = {"import": 20.0, "run (first)": 5.0, "run (next day)": 0.5}
TARGET_MIB = 1024.0


@dataclass
class Phase:
    backend: str
    name: str
    wall_s: float
    peak_mib: float
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def run_json(self) -> dict[str, Any] | None:
        if not self.ok or not self.name.startswith("run"):
            return None
        data: dict[str, Any] = json.loads(self.stdout)
        return data


def dataset(invoices: int, folder: Path, generator: Path) -> Path:
    """The generated ledger folder, made once and reused while its expected.json exists."""
    if (folder / "expected.json").is_file():
        print(f"dataset: reusing {folder}")
        return folder
    if not generator.is_file():
        sys.exit(f"dataset generator not found: {generator} (use --generator PATH)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    print(f"dataset: generating {invoices} invoices into {folder} ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(generator),
            "--invoices",
            str(invoices),
            "--seed",
            str(SEED),
            "--as-of",
            AS_OF,
            "--out",
            str(partial),
        ],
        check=True,
    )
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    print(f"dataset: generated in {time.perf_counter() - started:.1f} s")
    return folder


def _child_env() -> dict[str, str]:
    """The working tree's sources first; nothing from PASTDUE_* steers the database."""
    steering = ("PASTDUE_DATABASE_URL", "PASTDUE_TENANT")
    env = {k: v for k, v in os.environ.items() if k not in steering}
    src = str(PROJECT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _max_rss_mib(ru_maxrss: int) -> float:
    # Linux reports kibibytes, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def pastdue(backend: str, name: str, url: str, *args: str) -> Phase:
    """Run ``pastdue --db URL ARGS...`` in a child process of its own; time and measure it."""
    command = [sys.executable, "-c", "from pastdue.cli import main; main()", "--db", url, *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=_child_env())
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Phase(
            backend,
            name,
            wall,
            _max_rss_mib(usage.ru_maxrss),
            child.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def run_phases(backend: str, url: str, data: Path, policy: Path) -> list[Phase]:
    steps: list[tuple[str, list[str]]] = [
        ("init", ["init"]),
        ("import", ["import", str(data)]),
        ("policy apply", ["policy", "apply", str(policy), "--default"]),
        ("run (first)", ["run", "--as-of", AS_OF, "--json"]),
        ("run (again)", ["run", "--as-of", AS_OF, "--json"]),
        ("run (next day)", ["run", "--as-of", NEXT_DAY, "--json"]),
    ]
    phases: list[Phase] = []
    for name, args in steps:
        print(f"{backend}: {name} ...", end=" ", flush=True)
        phase = pastdue(backend, name, url, *args)
        outcome = f"{phase.wall_s:.2f} s" if phase.ok else f"FAILED (exit {phase.exit_code})"
        print(outcome, flush=True)
        phases.append(phase)
        if not phase.ok:
            tail = (phase.stderr or phase.stdout).strip().splitlines()[-15:]
            print("\n".join(f"    {line}" for line in tail))
            break
    return phases


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pastdue-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'pastdue.db'}"


@contextmanager
def postgres_database(server_url: str) -> Iterator[str | None]:
    """A fresh database on the server, dropped afterwards; ``None`` when none answers."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(server_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    name = f"pastdue_bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        reason = (str(exc).strip() or repr(exc)).splitlines()[0]
        print(f"postgres: skipped, {admin.render_as_string()} is not reachable: {reason}")
        yield None
        return
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _note(phase: Phase) -> str:
    summary = phase.run_json()
    if summary is None:
        return "" if phase.ok else f"exit {phase.exit_code}"
    return (
        f"elapsed_s {summary['elapsed_s']}, reviewed {summary['reviewed']}, "
        f"actions {summary['actions']}, notices {summary['notices']}"
    )


def _target(phase: Phase) -> str:
    if phase.backend != "sqlite":
        return ""

    def verdict(seconds: float, limit: float) -> str:
        return "ok" if seconds <= limit else "OVER"

    parts = []
    limit = TARGET_SECONDS.get(phase.name)
    summary = phase.run_json()
    if limit is not None and summary is not None:
        # A run is judged by its own elapsed_s; the wall time adds the process start-up.
        parts.append(
            f"<= {limit:g} s: elapsed {verdict(summary['elapsed_s'], limit)}, wall {verdict(phase.wall_s, limit)}"
        )
    elif limit is not None:
        parts.append(f"<= {limit:g} s: {verdict(phase.wall_s, limit)}")
    if phase.peak_mib > TARGET_MIB:
        parts.append("memory OVER")
    return ", ".join(parts)


def print_table(phases: list[Phase]) -> None:
    if not phases:
        print("\nno backend ran")
        return
    header = ("backend", "phase", "wall s", "peak RSS MiB", "target (sqlite)", "run")
    rows = [(p.backend, p.name, f"{p.wall_s:.2f}", f"{p.peak_mib:.0f}", _target(p), _note(p)) for p in phases]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def compare_levels(backend: str, phases: list[Phase], expected: dict[str, Any]) -> bool:
    first = next((p for p in phases if p.name == "run (first)"), None)
    summary = first.run_json() if first else None
    if summary is None:
        print(f"{backend}: no first run to compare with expected.json")
        return False
    got: dict[str, int] = summary["by_level"]
    want: dict[str, int] = expected["per_level"]
    if got == want:
        print(f"{backend}: by_level {got} MATCH expected.json per_level")
        return True
    print(f"{backend}: by_level differs from expected.json per_level:")
    for level in sorted(set(got) | set(want), key=int):
        if got.get(level) != want.get(level):
            print(f"    level {level}: got {got.get(level)}, expected {want.get(level)}")
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--invoices", type=int, default=1_000_000, help="invoices to generate (default 1000000)")
    add(
        "--data",
        type=Path,
        help="dataset folder, generated if it lacks expected.json (default bench/data/<n>-seed7)",
    )
    add("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    add(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help=f"server on which a benchmark database is created (default {DEFAULT_PG_URL})",
    )
    add("--generator", type=Path, default=GENERATOR, help=f"dataset generator (default {GENERATOR})")
    args = parser.parse_args(argv)

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - {"sqlite", "postgres"})
    if unknown or not backends:
        named = ", ".join(unknown) or "(none given)"
        parser.error(f"--backends: unknown {named}; use sqlite,postgres")
    if args.invoices < 1:
        parser.error("--invoices must be at least 1")

    cache: Path = args.data or HERE / "data" / f"{args.invoices}-seed{SEED}"
    data = dataset(args.invoices, cache, args.generator)
    expected = json.loads((data / "expected.json").read_text(encoding="utf-8"))
    print(
        f"dataset: {expected['customers']} customers, {expected['invoices']} invoices, "
        f"{expected['payments']} payments, {expected['open_invoices']} open as of {AS_OF}"
    )

    phases: list[Phase] = []
    healthy = True
    with tempfile.TemporaryDirectory(prefix="pastdue-bench-policy-") as folder:
        policy = Path(folder) / "standard-catch-up.toml"
        policy.write_text(POLICY, encoding="utf-8")
        for backend in backends:
            database = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
            with database as url:
                if url is None:
                    continue
                done = run_phases(backend, url, data, policy)
                phases.extend(done)
                matched = compare_levels(backend, done, expected)
                healthy = healthy and matched and all(p.ok for p in done)

    print_table(phases)
    print(
        "\ntargets (SQLite, 1,000,000 invoices): import <= 20 s, first run <= 5 s, "
        "next-day run <= 0.5 s, peak memory <= 1 GB"
    )
    print("wall s includes interpreter start-up and imports; elapsed_s is the run's own time.")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
