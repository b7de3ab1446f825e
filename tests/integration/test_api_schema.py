"""The REST API against its own OpenAPI schema: schemathesis generates requests from the
schema the live server serves at ``/api/v1/openapi.json`` (valid ones and broken ones) and
checks that the server never fails and answers only what the schema documents, in the
shapes it documents.

Operations are driven from inside one test through hypothesis, rather than with
schemathesis' lazy pytest fixtures (which do not run on this pytest): the schema then
comes from the server the test started, as a client would fetch it.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from api_support import World
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytest_plugins = ["api_fixtures"]

CONFIG = SchemathesisConfig.from_dict(
    # A cursor the schema allows but the API never gave out is a 400, as Stripe answers one.
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 400, 401, 403, 404, 409]}}}
)

EXAMPLES = 25
"""Per operation: enough to reach every parameter's edges, few enough to stay within a minute."""


def test_the_api_answers_as_its_schema_says(world: World) -> None:
    base_url = str(world.http.base_url).rstrip("/")
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17

    for operation in operations:
        # A write the schema allows may still be refused by the ledger (a customer that does
        # not exist, a currency's decimals): a 422 with the fields at fault, tested elsewhere.
        excluded = [positive_data_acceptance] if operation.method.upper() == "POST" else []
        check(operation, base_url, world.headers("a"), excluded)


def check(operation: Any, base_url: str, headers: dict[str, str], excluded: list[Any]) -> None:
    """Run one operation's generated cases against the server."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case: Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=excluded)

    answers_as_documented()
