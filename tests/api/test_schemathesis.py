"""Property-based run of the OpenAPI document (schemathesis): no 5xx on any operation.

Bounded: a few examples per operation, against an app on SQLite without background
workers. Each operation is called with a key of a role allowed to use it, so the
generated inputs reach validation and the handlers instead of stopping at 403.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import make_api
from tests.api.helpers import seed_keys
from tests.store.dbfixtures import close_database, open_database


def _role_for(method: str, path: str) -> str:
    if path.startswith("/v1/admin"):
        return "admin"
    if method == "POST" and path == "/v1/reports":
        return "workstation"
    return "attending"


def test_no_server_errors(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, start_workers=False, wait_timeout_s=0.2)
    keys = seed_keys(db, key)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1

            @given(operation.as_strategy())
            @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
            def check(case: Any) -> None:
                headers = keys[_role_for(case.method.upper(), case.path)]
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.path}: {response.status_code}")
                elif response.status_code >= 400:
                    error = response.json()["error"]
                    assert set(error) == {"code", "message", "details"}, error

            check()
    finally:
        close_database(db, handle)
    assert operations >= 20
    assert failures == []
