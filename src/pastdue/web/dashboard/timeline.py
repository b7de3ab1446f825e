"""One line of plain words for each audit event on a customer's timeline.

The audit log keeps payloads for machines and auditors; a collector scanning a case wants
"A-001: level 2 reached (notice)" rather than JSON. Kinds without a wording of their own
fall back to the payload's fields, so no event is ever hidden from the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MAX_TEXT = 300

Describe = Callable[[Mapping[str, Any], Mapping[str, str]], str]


def _decision(payload: Mapping[str, Any], numbers: Mapping[str, str]) -> str:
    fields = payload.get("fields") or ()
    parts = []
    for row in payload.get("decisions", []):
        entry = dict(zip(fields, row, strict=False)) if isinstance(row, list) else dict(row)
        number = numbers.get(str(entry.get("invoice_id")), str(entry.get("invoice_id")))
        what = f"level {entry.get('level')} ({entry.get('reason')})" if entry.get("act") == "notice" else None
        parts.append(f"{number}: {what or entry.get('act')} {'' if what else entry.get('reason')}".strip())
    return f"run of {payload.get('as_of')}: " + "; ".join(parts)


def _delivery(payload: Mapping[str, Any], _numbers: Mapping[str, str]) -> str:
    text = f"{payload.get('channel')} notice (level {payload.get('level')}): {payload.get('outcome')}"
    return text + (f" — {payload['error']}" if payload.get("error") else "")


def _hold(payload: Mapping[str, Any], numbers: Mapping[str, str]) -> str:
    invoice = payload.get("invoice_id")
    scope = numbers.get(str(invoice), str(invoice)) if invoice else "the whole customer"
    reason = f" {payload['reason']}" if payload.get("reason") else ""
    until = f" until {payload['until']}" if payload.get("until") else ""
    note = f" — {payload['note']}" if payload.get("note") else ""
    return f"hold{reason} on {scope} {payload.get('action')}{until}{note}"


def _call(payload: Mapping[str, Any], _numbers: Mapping[str, str]) -> str:
    until = f", pays by {payload['promise_until']}" if payload.get("promise_until") else ""
    note = f" — {payload['note']}" if payload.get("note") else ""
    return f"call: {payload.get('outcome')}{until}{note}"


def _approval(payload: Mapping[str, Any], _numbers: Mapping[str, str]) -> str:
    note = f" — {payload['note']}" if payload.get("note") else ""
    return f"notice {payload.get('decision')}{note}"


def _portal(payload: Mapping[str, Any], _numbers: Mapping[str, str]) -> str:
    rest = ", ".join(f"{k}: {v}" for k, v in payload.items() if k != "action" and v not in (None, "", []))
    return f"portal: {payload.get('action')}" + (f" ({rest})" if rest else "")


def _plan_request(payload: Mapping[str, Any], _numbers: Mapping[str, str]) -> str:
    note = f" — {payload['note']}" if payload.get("note") else ""
    return f"payment-plan request {payload.get('decision')}{note}"


def _fields(payload: Mapping[str, Any], _numbers: Mapping[str, str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in payload.items() if v not in (None, "", []))


WORDINGS: Mapping[str, Describe] = {
    "decision": _decision,
    "delivery": _delivery,
    "hold": _hold,
    "call": _call,
    "approval": _approval,
    "portal": _portal,
    "plan request": _plan_request,
}


def describe(kind: str, payload: Mapping[str, Any], numbers: Mapping[str, str]) -> str:
    text = WORDINGS.get(kind, _fields)(payload, numbers)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
