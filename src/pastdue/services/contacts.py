"""Consent, opt-out and bad addresses, per channel and address; and the tenant's profile."""

from __future__ import annotations

from typing import Any

from pastdue.bootstrap import App
from pastdue.core.allocation import AllocationOrder
from pastdue.core.delivery import ContactFlag
from pastdue.core.send_window import parse_window
from pastdue.errors import Problem, ProblemsFound
from pastdue.services.delivery_checks import DEFAULT_WINDOWS
from pastdue.store import audit, outbox, policies
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work

WINDOW_NAMES = tuple(DEFAULT_WINDOWS)
PROFILE_KEYS = ("name", "address", "email", "phone", "iban", "bic", "payment_url")


def flag_contact(app: App, channel: str, address: str, flag: ContactFlag | None, actor: str, reason: str = "") -> None:
    """Record consent, an opt-out or a bad address (``None`` clears what was recorded)."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        outbox.set_flag(uow.connection, app.tenant, channel, address, flag, reason, now)
        payload = {"channel": channel, "address": address, "flag": flag.value if flag else None, "reason": reason}
        audit.append(uow.connection, app.tenant, [AuditEvent("contact", address, payload, actor)], now)
        uow.commit()


def contact_flags(app: App) -> list[dict[str, str]]:
    with app.engine.connect() as connection:
        return outbox.list_flags(connection, app.tenant)


def show_profile(app: App) -> dict[str, Any]:
    with app.engine.connect() as connection:
        values = outbox.profile(connection, app.tenant)
    values.pop("link_secret", None)
    return values


def set_profile(app: App, key: str, value: str, actor: str) -> None:
    """Set how the tenant presents itself (``name``, ``address``, ``iban``, ...) or a send
    window (``window.email = 09:00-18:00``)."""
    if key.startswith("window."):
        if key.removeprefix("window.") not in WINDOW_NAMES:
            raise ProblemsFound([Problem("profile", None, key, f"unknown window (known: {', '.join(WINDOW_NAMES)})")])
        if parse_window(value) is None:
            raise ProblemsFound(
                [Problem("profile", None, key, 'must look like "08:00-20:00", "09:00-17:00 every" or "always"')]
            )
    elif key == "allocation_order":
        if value not in {o.value for o in AllocationOrder}:
            known = ", ".join(o.value for o in AllocationOrder)
            raise ProblemsFound([Problem("profile", None, key, f"unknown order {value!r} (known: {known})")])
    elif key not in PROFILE_KEYS:
        raise ProblemsFound(
            [
                Problem(
                    "profile",
                    None,
                    key,
                    f"unknown setting (known: {', '.join(PROFILE_KEYS)}, allocation_order, window.CHANNEL)",
                )
            ]
        )
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        policies.ensure_tenant(uow.connection, app.tenant, now)
        values = outbox.profile(uow.connection, app.tenant)
        if key.startswith("window."):
            values.setdefault("windows", {})[key.removeprefix("window.")] = value
        else:
            values[key] = value.replace("\\n", "\n")
        outbox.save_profile(uow.connection, app.tenant, values)
        audit.append(uow.connection, app.tenant, [AuditEvent("profile", key, {"key": key, "value": value}, actor)], now)
        uow.commit()
