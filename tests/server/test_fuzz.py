"""The API fuzzed from its own OpenAPI schema (schemathesis): whatever a client sends,
the answer is never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 25


def test_no_input_makes_a_server_error(client: TestClient) -> None:
    """Every operation of the app over the seeded store, ``EXAMPLES`` generated requests
    each (reading needs no token here; launching is refused without one, so fuzzing
    queues no job)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.body!r} -> "
                f"{response.status_code}: {response.text[:500]}"
            )

        no_server_error()
