"""The store comes up from empty on each backend and keeps tenants apart."""

from __future__ import annotations

from pastdue import services
from pastdue.bootstrap import App


def test_a_new_database_has_an_intact_empty_audit_chain(app: App) -> None:
    assert services.verify_audit(app) == 0
