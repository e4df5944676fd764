"""Every API operation, fed valid and invalid requests generated from the OpenAPI document (schemathesis):
an error is a 4xx problem+json, never a 500.

The requests go over HTTP to the live server (real commits); a member of an organization that buys and
supplies, with every role, signs them. The tables are emptied afterwards.
"""

from collections.abc import AsyncIterator

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, strategies
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import live_server  # noqa: F401 - fixture
from tests.conftest import truncate_all
from tests.factories import make_member
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role

EXAMPLES_PER_OPERATION = 6
# Deployments without these adapters configured answer 503 by design (the problem says which setting).
NOT_CONFIGURED = frozenset({"stripe_not_configured"})
# Operations of another protocol answer errors in its own form: the Handle proxy's JSON, cXML's <Status>.
OWN_ERROR_FORM = frozenset({"GET /api/handles/{prefix}/{suffix}", "POST /api/v1/punchout/cxml"})


@pytest.fixture
async def signed_headers(engine: AsyncEngine) -> AsyncIterator[dict[str, str]]:
    async with make_sessionmaker(engine)() as session, session.begin():
        member = await make_member(session, kind=OrgKind.BOTH, roles=tuple(r for r in Role if r != Role.PLATFORM_ADMIN))
        headers = member.headers
    yield headers
    await truncate_all(engine)


@pytest.fixture
def operations(live_server: str) -> list[APIOperation]:  # noqa: F811
    """Every operation of the live server's OpenAPI document (one that cannot be read fails the test)."""
    schema = schemathesis.openapi.from_url(f"{live_server}/api/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_no_request_makes_the_api_fail(operations: list[APIOperation], live_server: str,  # noqa: F811
                                       signed_headers: dict[str, str]) -> None:
    failures: list[str] = []
    for operation in operations:
        failures += _failures_of(operation, live_server, signed_headers)
    assert not failures, "\n".join(failures)


def _failures_of(operation: APIOperation, base_url: str, headers: dict[str, str]) -> list[str]:
    """The answers that broke the rule, for valid and invalid requests generated for one operation."""
    failures = []
    cases = strategies.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE))

    @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=cases)
    def call(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        content_type = response.headers.get("content-type", [""])[0]  # schemathesis keeps every header's values
        problem = content_type == "application/problem+json"
        code = response.json().get("code") if problem and response.content else None  # HEAD: no body
        server_failed = response.status_code >= 500 and code not in NOT_CONFIGURED
        not_a_problem = response.status_code >= 400 and not problem and operation.label not in OWN_ERROR_FORM
        if server_failed or not_a_problem:
            failures.append(f"{operation.label}: {response.status_code} {content_type} {response.text[:300]}")

    call()
    return failures
