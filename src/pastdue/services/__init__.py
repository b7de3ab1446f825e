"""Use cases: each one a unit of work that commits whole or not at all.

The CLI, the web app and library users call these; they pick no adapters themselves (the
:class:`~pastdue.bootstrap.App` carries them) and hold no business rules (the core does).
"""

from pastdue.services.dunning_run import RunSummary, calendar_for_policy, run_dunning
from pastdue.services.holds import active_holds, place_hold, release_hold
from pastdue.services.ledger import ImportSummary, PolicyApplied, apply_policy, import_ledger, init, list_policies
from pastdue.services.reads import invoices, notices, require_schema, verify_audit

__all__ = [
    "ImportSummary",
    "PolicyApplied",
    "RunSummary",
    "active_holds",
    "apply_policy",
    "calendar_for_policy",
    "import_ledger",
    "init",
    "invoices",
    "list_policies",
    "notices",
    "place_hold",
    "release_hold",
    "require_schema",
    "run_dunning",
    "verify_audit",
]
