"""The measuring side of ``bench/deliver.py``: what runs inside its child processes.

Usage (``bench/deliver.py`` starts these; each prints one JSON object)::

    python bench/deliver_phases.py render|letters --db URL --now DATETIME --count N
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from typing import Any

TENANT = "default"
BATCH = 50  # as Deliverer claims
SENDER = "billing@bench.example"


def _queued(connection: Any, channel: str, count: int) -> list[Any]:
    """Up to ``count`` pending notices of a channel, spread over customers (ordered by random id)."""
    from sqlalchemy import text

    from pastdue.store import outbox

    ids = connection.execute(
        text(
            "SELECT id FROM notices WHERE tenant_id = :t AND channel = :c AND status = 'pending' ORDER BY id LIMIT :n"
        ),
        {"t": TENANT, "c": channel, "n": count},
    ).scalars()
    found = [outbox.by_id(connection, TENANT, notice_id) for notice_id in list(ids)]
    return [q for q in found if q is not None]


def _documents(connection: Any, queued: list[Any], now: datetime, timing: dict[str, float]) -> list[Any]:
    """Documents as ``Deliverer._claim`` builds them, batch by batch; times context loads and builds apart."""
    from pastdue.services.notice_document import Links, build_document, sender_from_profile
    from pastdue.settings import Settings
    from pastdue.store import outbox
    from pastdue.store.policies import policy_version

    profile = outbox.profile(connection, TENANT)
    sender = sender_from_profile(profile, TENANT)
    links = Links(Settings().base_url, str(profile.get("link_secret") or "bench-secret"))
    policies: dict[tuple[str, int], Any] = {}
    documents = []
    for begin in range(0, len(queued), BATCH):
        batch = queued[begin : begin + BATCH]
        cpu = time.process_time()
        context = outbox.load_context(connection, TENANT, (q.customer_id for q in batch), now.date())
        timing["context_cpu_s"] += time.process_time() - cpu
        for q in batch:
            key = (q.policy_name, q.policy_version)
            if key not in policies:
                policies[key] = policy_version(connection, TENANT, *key)
        cpu = time.process_time()
        for q in batch:
            contacts = outbox.split_contacts(context.customers[q.customer_id].email) if q.channel == "email" else ()
            documents.append(
                build_document(
                    q,
                    context,
                    policies[(q.policy_name, q.policy_version)],
                    sender,
                    links,
                    TENANT,
                    now.date(),
                    contact=contacts[0] if contacts else "",
                    message_id=f"<{q.id}@bench.example>",
                )
            )
        timing["build_cpu_s"] += time.process_time() - cpu
    return documents


def _pin_one_cpu() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def child_render(url: str, now: datetime, count: int) -> dict[str, Any]:
    """Real e-mail notices: documents built, templates rendered and MIME written, each timed."""
    from pastdue.channels.base import OutgoingMessage
    from pastdue.channels.mime import render_email
    from pastdue.rendering import Renderer
    from pastdue.store.database import make_engine

    engine = make_engine(url)
    timing = {"context_cpu_s": 0.0, "build_cpu_s": 0.0}
    with engine.connect() as connection:
        queued = _queued(connection, "email", count)
        wall = time.perf_counter()
        documents = _documents(connection, queued, now, timing)
        timing["documents_wall_s"] = time.perf_counter() - wall
        connection.rollback()
    engine.dispose()
    if not documents:
        return {"emails": 0}

    renderer = Renderer()
    warm = time.perf_counter()
    seen: set[tuple[str, int]] = set()
    for doc in documents:
        if (doc.language, doc.level) not in seen:
            seen.add((doc.language, doc.level))
            renderer.render(doc)
    warm = time.perf_counter() - warm

    # Nothing rendered is kept: the phase's peak memory stays that of one message at a time.
    wall, cpu = time.perf_counter(), time.process_time()
    for doc in documents:
        renderer.render(doc)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    mime_cpu, size = 0.0, 0
    for doc in documents:
        r = renderer.render(doc)
        message = OutgoingMessage(
            notice_id=doc.notice_id,
            channel="email",
            customer_id=doc.customer_id,
            to=doc.customer.email or "nobody@example.com",
            recipient_name=doc.customer.name,
            subject=r.subject,
            text=r.text,
            html=r.html,
            message_id=doc.message_id,
            idempotency_key=doc.notice_id,
            unsubscribe_url=doc.unsubscribe_url,
        )
        started = time.process_time()
        size += len(render_email(message, SENDER))
        mime_cpu += time.process_time() - started
    return {
        "emails": len(documents),
        "templates": len(seen),
        "warm_up_s": warm,
        "render_wall_s": wall,
        "render_cpu_s": cpu,
        "mime_cpu_s": mime_cpu,
        "kib_per_email": size / len(documents) / 1024,
        "languages": sorted({d.language for d in documents}),
        "levels": sorted({d.level for d in documents}),
        **timing,
    }


def _with_address(doc: Any, index: int) -> Any:
    """The dataset's customers have no street; a letter needs one for its address window."""
    from dataclasses import replace

    lines = doc.customer.address_lines
    if len(lines) >= 3:
        return doc
    country = lines[-1] if lines else ""
    address = (f"{index % 200 + 1} Bench Street", f"{10000 + index % 89999} Testing", country)
    return replace(doc, customer=replace(doc.customer, address_lines=tuple(a for a in address if a)))


def child_letters(url: str, now: datetime, count: int) -> dict[str, Any]:
    """Real letter notices to PDF, one CPU: HTML rendering, ``render_pdf`` and ``render_pdfs`` timed apart."""
    _pin_one_cpu()
    from pastdue import pdf
    from pastdue.rendering import Renderer, sample_document
    from pastdue.store.database import make_engine

    engine = make_engine(url)
    timing = {"context_cpu_s": 0.0, "build_cpu_s": 0.0}
    with engine.connect() as connection:
        queued = _queued(connection, "letter", count + 1)
        documents = _documents(connection, queued, now, timing)
        connection.rollback()
    engine.dispose()
    source = "queued letter notices"
    if len(documents) < count + 1:
        languages = ("en", "de", "fr", "nl", "es")
        extra = [sample_document("letter", 4, languages[i % 5]) for i in range(count + 1 - len(documents))]
        documents += extra
        source = f"{len(queued)} queued letter notices and {len(extra)} samples"
    documents = [_with_address(doc, i) for i, doc in enumerate(documents)]

    renderer = Renderer()
    pdf.check_pdf_support()
    first = time.perf_counter()
    pdf.render_pdf(renderer.render(documents[0]).html)  # fonts loaded, caches filled
    first = time.perf_counter() - first
    documents = documents[1:]

    wall, cpu = time.perf_counter(), time.process_time()
    htmls = [renderer.render(doc).html for doc in documents]
    html_wall, html_cpu = time.perf_counter() - wall, time.process_time() - cpu

    wall, cpu = time.perf_counter(), time.process_time()
    single = [pdf.render_pdf(html) for html in htmls]
    single_wall, single_cpu = time.perf_counter() - wall, time.process_time() - cpu

    wall, cpu = time.perf_counter(), time.process_time()
    batch = pdf.render_pdfs(htmls)
    batch_wall, batch_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "letters": len(documents),
        "source": source,
        "first_letter_s": first,
        "html_wall_s": html_wall,
        "html_cpu_s": html_cpu,
        "single_wall_s": single_wall,
        "single_cpu_s": single_cpu,
        "batch_wall_s": batch_wall,
        "batch_cpu_s": batch_cpu,
        "kib_per_pdf": sum(map(len, single)) / len(single) / 1024,
        "pages": sum(pdf.page_count(p) for p in batch[:20]) / min(20, len(batch)),
        "lines": sum(len(d.items) + len(d.other_overdue) for d in documents) / len(documents),
        "harfbuzz_subset": _has_harfbuzz_subset(),
    }


def _has_harfbuzz_subset() -> bool:
    from weasyprint.text import ffi

    return getattr(ffi, "harfbuzz_subset", None) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("render", "letters"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    measure = child_render if args.kind == "render" else child_letters
    print(json.dumps(measure(args.db, now, args.count)))


if __name__ == "__main__":
    main()
