"""HTML letters to PDF: the one place pastdue calls WeasyPrint.

Plain ``HTML(string=...).write_pdf()`` spends time in places that have a remedy here
(figures from ``bench/letters.py``, CPU time on one core):

* Embedding fonts. WeasyPrint subsets every font it embeds, once per PDF. With HarfBuzz's
  subsetter (Debian ``libharfbuzz-subset0``) that costs a few milliseconds; without it
  WeasyPrint falls back to fontTools, which parses DejaVu's large layout tables every time
  and takes a quarter of a second per letter. :func:`render_pdfs` therefore lays letters out
  one by one (so each keeps its own ``counter(page)`` and ``counter(pages)``), paints all of
  them into one PDF so that fonts are subset once per batch, and cuts that PDF back into one
  file per letter with pypdf.
* Parsing the template's stylesheet, which is the same for every letter of a template. A
  ``<style>`` element is parsed once and reused, when lifting it out of the document cannot
  change the cascade (see :func:`_lift_stylesheets`).
* Python's cycle collector, which walks the layout's many short-lived objects again and
  again; it is paused while a letter or a batch is laid out (the layout is full of reference
  cycles, so one collection afterwards, about 4 ms a letter, still has to free it).
* Counting pages. The letter channel records each letter's pages; :func:`page_count` answers
  from the layout for a PDF made here instead of parsing it again with pypdf (~2.5 ms).

What remains is WeasyPrint laying out and drawing text, about 70% of a letter's time: roughly
0.4 ms per line of text plus a few microseconds per character, and about 0.3 ms per element
(style, box, layout), all in Python; an empty A4 page with a page-number footer alone takes
8 ms. So a real pastdue letter (``letter/body.html``, about 75 lines) costs 75-90 ms of CPU,
and the template is written to keep its elements and lines few (see ``letter/style.css``).
A fresh process also pays a small warm-up: WeasyPrint's HarfBuzz subsetting names C array
types by their length, and cffi parses each new one (~4 ms, a few dozen per process).
:func:`render_pdfs` can spread the work over processes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import multiprocessing
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from typing import Any

from pastdue.errors import ConfigurationError
from pastdue.gc_pause import cycle_collector_paused

log = logging.getLogger(__name__)

SYSTEM_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"
"""Debian packages WeasyPrint needs; its import fails with OSError without them."""

SUBSET_PACKAGE = "libharfbuzz-subset0"
"""Debian package that makes embedding fonts fast; optional, but letters are ten times slower without it."""

BATCH_SIZE = 32
"""Letters painted into one PDF by :func:`render_pdfs`: enough to share the font subsetting,
few enough that the laid-out documents held at once (about 3 MB each) stay under 100 MB."""

PAGE_COUNTS_KEPT = 4096
"""Page counts of PDFs made here, remembered for :func:`page_count` (a few dozen bytes each)."""


def check_pdf_support() -> None:
    """Raise :class:`ConfigurationError` now, rather than at the first letter, if PDFs cannot be made."""
    _weasyprint()


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """One letter as PDF bytes; ``base_url`` resolves relative links and images in ``html``."""
    with cycle_collector_paused():
        document = _layout(html, base_url)
        pdf: bytes = document.write_pdf()
    _remember_page_count(pdf, len(document.pages))
    return pdf


def render_pdfs(htmls: Sequence[str], base_url: str | None = None, *, workers: int = 1) -> list[bytes]:
    """Many letters as PDF bytes, in the order given: the fast path for a day's letters.

    Each PDF is a letter of its own, with its own page numbers, and draws exactly what
    :func:`render_pdf` draws; only links to anchors inside a letter (``href="#..."``) are
    lost in the cut, links to URLs are kept. ``workers`` above 1 renders batches in that many
    fresh processes (spawned, so no database connection or lock is inherited); it pays off
    with idle cores and a few hundred letters, as each process first spends about a second
    loading WeasyPrint and the fonts.
    """
    batches = [list(htmls[start : start + BATCH_SIZE]) for start in range(0, len(htmls), BATCH_SIZE)]
    if workers <= 1 or len(batches) <= 1:
        rendered = [letter for batch in batches for letter in _render_batch(batch, base_url)]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
            rendered = [letter for batch in pool.map(_render_batch, batches, repeat(base_url)) for letter in batch]
    for pdf, pages in rendered:
        _remember_page_count(pdf, pages)
    return [pdf for pdf, _ in rendered]


def page_count(pdf: bytes) -> int:
    """How many pages a PDF has: as laid out, for a PDF made here, else read back as a printer would.

    The letter channel counts the pages of every letter it stores; reading them back with
    pypdf took a few milliseconds a letter, which WeasyPrint's layout already knew.
    """
    known = _take_page_count(pdf)
    if known is not None:
        return known
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


_page_counts: dict[bytes, int] = {}
_page_counts_lock = threading.Lock()


def _pdf_key(pdf: bytes) -> bytes:
    return hashlib.blake2b(pdf, digest_size=16).digest()


def _remember_page_count(pdf: bytes, pages: int) -> None:
    key = _pdf_key(pdf)
    with _page_counts_lock:
        _page_counts[key] = pages
        while len(_page_counts) > PAGE_COUNTS_KEPT:
            del _page_counts[next(iter(_page_counts))]  # the oldest


def _take_page_count(pdf: bytes) -> int | None:
    key = _pdf_key(pdf)
    with _page_counts_lock:
        return _page_counts.pop(key, None)


def _render_batch(htmls: list[str], base_url: str | None) -> list[tuple[bytes, int]]:
    """Lay out each letter alone, paint them all into one PDF, and cut it into one PDF per letter.

    Returns each letter's PDF with its number of pages.
    """
    if not htmls:
        return []
    with cycle_collector_paused():
        documents = [_layout(html, base_url) for html in htmls]
        pages = [page for document in documents for page in document.pages]
        combined = documents[0].copy(pages).write_pdf()
        pdfs = _split(combined, documents)
    return [(pdf, len(document.pages)) for pdf, document in zip(pdfs, documents, strict=True)]


def _split(combined: bytes, documents: list[Any]) -> list[bytes]:
    """Cut the batch's PDF at each letter's pages, carrying over what WeasyPrint puts in one letter's PDF."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    reader = PdfReader(io.BytesIO(combined))
    producer = reader.metadata.producer if reader.metadata and reader.metadata.producer else "WeasyPrint"
    pdfs = []
    start = 0
    for document in documents:
        writer = PdfWriter()
        for index in range(start, start + len(document.pages)):
            writer.add_page(reader.pages[index])
        start += len(document.pages)
        writer.add_metadata(_info(document.metadata, producer))
        if document.metadata.lang:
            writer.root_object[NameObject("/Lang")] = TextStringObject(document.metadata.lang)
        output = io.BytesIO()
        writer.write(output)
        pdfs.append(output.getvalue())
    return pdfs


def _info(metadata: Any, producer: str) -> dict[str, str]:
    """The document information WeasyPrint writes from ``<title>`` and ``<meta>``, less the dates."""
    info = {"/Producer": producer}
    fields = {
        "/Title": metadata.title,
        "/Author": ", ".join(metadata.authors or ()),
        "/Subject": metadata.description,
        "/Keywords": ", ".join(metadata.keywords or ()),
        "/Creator": metadata.generator,
    }
    info.update({key: value for key, value in fields.items() if value})
    return info


def _layout(html: str, base_url: str | None) -> Any:
    """A laid-out WeasyPrint document, paginated but not yet painted."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=base_url)
    stylesheets = _lift_stylesheets(document)
    return document.render(font_config=_font_config(), stylesheets=stylesheets)


def _lift_stylesheets(document: Any) -> list[Any]:
    """Take the ``<style>`` elements out of ``document`` and return them parsed, from a cache.

    WeasyPrint parses a document's stylesheets again for every document, which costs as much
    as laying out a paragraph or two; a template's stylesheet is the same for all its letters.
    Handed back through ``stylesheets=``, they move from the author's to the user's origin of
    the cascade. That can only change the result where an author declaration would now win
    over them: another stylesheet (a ``<link>``), or an ``!important`` in a ``style``
    attribute. With either of those, or a ``<style>`` with attributes (``media``), or
    ``@counter-style`` rules (which WeasyPrint keeps per document), nothing is lifted and the
    document renders exactly as written.
    """
    root = document.etree_element
    found: list[tuple[Any, Any]] = []
    for parent in root.iter():
        if "!important" in parent.get("style", ""):
            return []
        for child in parent:
            if child.tag == "link" and "stylesheet" in child.get("rel", "").lower().split():
                return []
            if child.tag == "style":
                if any(name != "type" or value.strip().lower() != "text/css" for name, value in child.items()):
                    return []
                if "@counter-style" in (child.text or "").lower():
                    return []
                found.append((parent, child))
    if not found:
        return []
    import cssselect2

    for parent, child in found:
        parent.remove(child)
    # The element wrapper caches children; rebuild it as WeasyPrint's HTML() does.
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    return [_stylesheet(child.text or "", document.base_url) for _, child in found]


@functools.lru_cache(maxsize=64)
def _stylesheet(css: str, base_url: str | None) -> Any:
    return _weasyprint().CSS(string=css, base_url=base_url, font_config=_font_config())


@functools.cache
def _font_config() -> Any:
    """One font configuration per process: it holds fontconfig's state and any ``@font-face`` fonts."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _weasyprint() -> Any:
    try:
        with warnings.catch_warnings():
            # Said once at import and said again, with the remedy, by the warning logged below.
            warnings.filterwarnings("ignore", "HarfBuzz-Subset will be required", DeprecationWarning)
            import weasyprint
    except OSError as error:
        raise ConfigurationError(
            f"letters cannot be rendered to PDF: WeasyPrint cannot load Pango ({error}); "
            f"install the system libraries, on Debian or Ubuntu: apt-get install {SYSTEM_PACKAGES}"
        ) from error
    from weasyprint.text import ffi

    if getattr(ffi, "harfbuzz_subset", None) is None:
        log.warning(
            "HarfBuzz's font subsetter is missing, so every PDF embeds its fonts the slow way "
            "(about ten times slower); install it, on Debian or Ubuntu: apt-get install %s",
            SUBSET_PACKAGE,
        )
    return weasyprint
