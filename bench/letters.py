"""Benchmark letter rendering: letters per second on one core, and peak memory.

Usage::

    python bench/letters.py [--letters 200] [--sources real,fixture] [--modes plain,single,batch,parallel]
                            [--workers 2]

Two kinds of letter, each rendered in every mode:

* ``real``     what pastdue prints: the notices :class:`pastdue.rendering.Renderer` makes of
               :func:`pastdue.rendering.sample_document` on the letter channel, cycling through
               levels 1-4 and the five languages (en, de, fr, nl, es), each with its own customer
               id. The figure that counts.
* ``fixture``  the one-page final notices of ``tests/integration/letter_fixture.py`` (A4,
               address window, a table of three invoices, page numbers), cycling through German,
               French, Spanish and Dutch customers; independent of the templates.

Each source and mode runs in a fresh child process, pinned to one CPU except ``parallel``, so
that its time and peak resident memory (``ru_maxrss``) are its own:

* ``plain``    WeasyPrint as documented, ``HTML(string=...).write_pdf()`` per letter: the baseline
* ``single``   :func:`pastdue.pdf.render_pdf` per letter, as ``LetterChannel.send`` does
* ``batch``    :func:`pastdue.pdf.render_pdfs` on all letters in one process, as ``send_many`` does
* ``parallel`` the same with ``--workers`` processes

"per CPU-s" is the one-core figure: letters per second of CPU time (``time.process_time()``),
which a busy machine disturbs less than the wall-clock "letters/s" (the same figure when the
machine is idle and the process has its core to itself).

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
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "integration"
MODES = ("plain", "single", "batch", "parallel")
SOURCES = ("real", "fixture")
LEVELS = (1, 2, 3, 4)
LANGUAGES = ("en", "de", "fr", "nl", "es")


def letters(source: str, count: int) -> list[str]:
    """``count`` complete HTML letters of one source (see the module docstring)."""
    if source == "real":
        return real_letters(count)
    sys.path.insert(0, str(FIXTURES))
    from letter_fixture import sample_letters

    return [html for _, html in sample_letters(count)]


def real_letters(count: int) -> list[str]:
    from pastdue.rendering import Renderer, sample_document

    renderer = Renderer()
    kinds = [(level, language) for level in LEVELS for language in LANGUAGES]
    htmls = []
    for n in range(count):
        level, language = kinds[n % len(kinds)]
        doc = sample_document("letter", level, language)
        htmls.append(renderer.render(replace(doc, customer_id=f"C-{n:05d}")).html)
    return htmls


def run_mode(source: str, mode: str, count: int, workers: int) -> dict[str, Any]:
    """Render ``count`` letters one way and measure it; runs in its own process."""
    if mode != "parallel" and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from pastdue import pdf

    htmls = letters(source, count + 1)
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
        "source": source,
        "mode": mode,
        "letters": len(outputs),
        "pages": sum(pdf.page_count(output) for output in outputs),
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
    parser.add_argument("--letters", type=int, default=200, help="letters per source and mode (default 200)")
    parser.add_argument("--sources", default=",".join(SOURCES), help=f"comma-separated, of {', '.join(SOURCES)}")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes for the parallel mode")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--source", choices=SOURCES, default="real", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_mode(args.source, args.child, args.letters, args.workers)))
        return

    print(f"{args.letters} letters per source and mode, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    columns = ("letters/s", "per CPU-s", "CPU ms", "pages", "1st (s)", "KiB/pdf", "peak MiB")
    header = f"{'source':<8} {'mode':<9} " + " ".join(f"{column:>9}" for column in columns)
    print(header)
    print("-" * len(header))
    subset = None
    for source in args.sources.split(","):
        for mode in args.modes.split(","):
            command = [sys.executable, __file__, "--child", mode, "--source", source, "--letters", str(args.letters)]
            done = subprocess.run(
                [*command, "--workers", str(args.workers)], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                print(f"{source:<8} {mode:<9} failed:\n{done.stderr}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            subset = r["harfbuzz_subset"]
            rate = r["letters"] / r["wall_s"]
            peak = f"{r['peak_rss_mib']:.0f}"
            if r["peak_rss_worker_mib"]:
                peak += f"+{r['peak_rss_worker_mib']:.0f}/w"
            print(
                f"{source:<8} {mode:<9} {rate:>9.1f} {r['letters'] / r['cpu_s']:>9.1f} "
                f"{1000 * r['cpu_s'] / r['letters']:>9.1f} {r['pages'] / r['letters']:>9.2f} "
                f"{r['first_letter_s']:>9.2f} {r['kib_per_letter']:>9.1f} {peak:>9}"
            )
    if subset is not None:
        state = "installed" if subset else "MISSING (install libharfbuzz-subset0)"
        print(f"HarfBuzz subsetter: {state}")
        print("letters/s is wall-clock; per CPU-s and CPU ms (per letter) count CPU time, of all workers in parallel;")
        print("pages is pages per letter")


if __name__ == "__main__":
    main()
