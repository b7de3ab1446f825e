"""Benchmark letter rendering: letters per second on one core, and peak memory.

Usage::

    python bench/letters.py [--letters 200] [--modes plain,single,batch,parallel] [--workers 2]

The letters are the one-page final notices of ``tests/integration/letter_fixture.py`` (A4,
address window, a table of three invoices, page numbers), cycling through German, French,
Spanish and Dutch customers. Each mode runs in a fresh child process, pinned to one CPU
except ``parallel``, so that its time and peak resident memory (``ru_maxrss``) are its own:

* ``plain``    WeasyPrint as documented, ``HTML(string=...).write_pdf()`` per letter: the baseline
* ``single``   :func:`pastdue.pdf.render_pdf` per letter, as ``LetterChannel.send`` does
* ``batch``    :func:`pastdue.pdf.render_pdfs` on all letters in one process, as ``send_many`` does
* ``parallel`` the same with ``--workers`` processes

"per CPU-s" is the one-core figure: letters per second of CPU time, which a busy machine
disturbs less than the wall-clock "letters/s" (the same figure when the machine is idle).

The first letter of each mode (fonts loaded, caches filled) is timed apart and not counted.
Whether HarfBuzz's font subsetter (Debian ``libharfbuzz-subset0``) is installed changes the
figures tenfold, so it is printed too. The script prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "integration"
MODES = ("plain", "single", "batch", "parallel")


def letters(count: int) -> list[str]:
    sys.path.insert(0, str(FIXTURES))
    from letter_fixture import sample_letters

    return [html for _, html in sample_letters(count)]


def run_mode(mode: str, count: int, workers: int) -> dict[str, Any]:
    """Render ``count`` letters one way and measure it; runs in its own process."""
    if mode != "parallel" and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from pastdue import pdf

    htmls = letters(count + 1)
    started = time.perf_counter()
    pdf.check_pdf_support()
    render = renderer(mode, workers)
    render(htmls[:1])
    first = time.perf_counter() - started

    wall, cpu = time.perf_counter(), time.process_time()
    outputs = render(htmls[1:])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "mode": mode,
        "letters": len(outputs),
        "cores": workers if mode == "parallel" else 1,
        "first_letter_s": first,
        "wall_s": wall,
        "cpu_s": cpu + (children.ru_utime + children.ru_stime if mode == "parallel" else 0.0),
        "kib_per_letter": sum(map(len, outputs)) / len(outputs) / 1024,
        "peak_rss_mib": own / 1024,
        "peak_rss_worker_mib": children.ru_maxrss / 1024 if mode == "parallel" else None,
        "harfbuzz_subset": _has_harfbuzz_subset(),
    }


def renderer(mode: str, workers: int) -> Callable[[list[str]], list[bytes]]:
    import weasyprint

    from pastdue import pdf

    def plain(htmls: list[str]) -> list[bytes]:
        return [weasyprint.HTML(string=html).write_pdf() for html in htmls]

    def single(htmls: list[str]) -> list[bytes]:
        return [pdf.render_pdf(html) for html in htmls]

    def batch(htmls: list[str]) -> list[bytes]:
        return pdf.render_pdfs(htmls, workers=workers if mode == "parallel" else 1)

    return {"plain": plain, "single": single}.get(mode, batch)


def _has_harfbuzz_subset() -> bool:
    from weasyprint.text import ffi

    return getattr(ffi, "harfbuzz_subset", None) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=200, help="letters per mode (default 200)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes for the parallel mode")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_mode(args.child, args.letters, args.workers)))
        return

    print(f"{args.letters} one-page letters per mode, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    columns = ("letters/s", "per CPU-s", "CPU ms", "1st (s)", "KiB/pdf", "peak MiB")
    header = f"{'mode':<9} " + " ".join(f"{column:>9}" for column in columns)
    print(header)
    print("-" * len(header))
    subset = None
    for mode in args.modes.split(","):
        command = [sys.executable, __file__, "--child", mode, "--letters", str(args.letters)]
        done = subprocess.run([*command, "--workers", str(args.workers)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{mode:<9} failed:\n{done.stderr}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        subset = r["harfbuzz_subset"]
        rate = r["letters"] / r["wall_s"]
        peak = f"{r['peak_rss_mib']:.0f}" + (f"+{r['peak_rss_worker_mib']:.0f}/w" if r["peak_rss_worker_mib"] else "")
        print(
            f"{mode:<9} {rate:>9.1f} {r['letters'] / r['cpu_s']:>9.1f} {1000 * r['cpu_s'] / r['letters']:>9.1f} "
            f"{r['first_letter_s']:>9.2f} {r['kib_per_letter']:>9.1f} {peak:>9}"
        )
    if subset is not None:
        state = "installed" if subset else "MISSING (install libharfbuzz-subset0)"
        print(f"HarfBuzz subsetter: {state}")
        print("letters/s is wall-clock; per CPU-s and CPU ms (per letter) count CPU time, of all workers in parallel")


if __name__ == "__main__":
    main()
