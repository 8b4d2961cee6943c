"""``/openapi.json`` tells the truth, proven with schemathesis against the served app.

The whole server (portal and widgets, with the demo catalog and data) runs under uvicorn on
127.0.0.1. Schemathesis reads ``/openapi.json``, generates requests for every operation from it and
checks each response: no 500, a documented status, a documented content type, a body that fits the
documented schema, documented headers. Requests it makes up rarely name a real KPI or dataset, so
each operation is also checked once with real ids through the same checks. Examples per operation
are bounded, so the run takes about a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from demo_store import demo_store
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from servers import serve  # schemathesis calls the routes over HTTP

from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.server import create_app
from btvstat_open.web.openapi import merged, undescribed
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from widgets.api_docs import WIDGET_ROUTES

TOKEN = "openapi-test-token"
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
EXAMPLES = 12
KPI = "pothole-days-to-close"
DATASET = "la-library-monthly"


@schemathesis.serializer("text/csv")
def _csv(ctx: Any, value: Any) -> bytes:
    """Write bodies sent as CSV: schemathesis makes up a string, sent as it is."""
    return str(value).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = demo_store(tmp_path_factory.mktemp("openapi") / "store")
    app = create_app(store, load_catalog(DEMO_DIR, store), Settings(write_token=TOKEN, warm_up=False))
    with serve(app) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def document(site: str) -> dict[str, Any]:
    response = requests.get(f"{site}/openapi.json", timeout=30)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_every_route_is_described(document: dict[str, Any]) -> None:
    """A route added without a description in PORTAL_ROUTES or WIDGET_ROUTES fails here, by name."""
    assert undescribed(document, merged(PORTAL_ROUTES, WIDGET_ROUTES)) == []


def test_no_status_the_server_never_sends(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert "422" not in statuses, (method, path)  # validation errors are 400s here
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "application/json" in response.get("content", {}):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["required"] == ["code", "error", "message"], (method, path, status)
    assert "HTTPValidationError" not in document.get("components", {}).get("schemas", {})


def test_media_types_are_the_routes_own(document: dict[str, Any]) -> None:
    def ok(method: str, path: str) -> set[str]:
        return set(document["paths"][path][method]["responses"]["200"].get("content", {}))

    assert ok("get", "/resource/{resource}") == {"application/json", "text/csv", "application/vnd.geo+json"}
    assert ok("get", "/kpi/{kpi_id}") == {"text/html"}
    assert ok("get", "/kpi/{kpi_id}.png") == {"image/png"}
    assert ok("get", "/api/views/{dataset_id}/rows.csv") == {"text/csv"}
    assert ok("delete", "/api/views/{resource}") == set()
    page_404 = document["paths"]["/kpi/{kpi_id}"]["get"]["responses"]["404"]["content"]
    assert set(page_404) == {"text/html"}


def test_soql_parameters_are_declared_on_resource_reads(document: dict[str, Any]) -> None:
    names = [p["name"] for p in document["paths"]["/resource/{resource}"]["get"]["parameters"]]
    for name in ("$select", "$where", "$order", "$group", "$having", "$limit", "$offset", "$q", "$query"):
        assert name in names
    assert "$$exclude_system_fields" in names


def _real_cases(schema: Any) -> list[Any]:
    """One case per operation that names things that exist (made-up ids only reach the 404s)."""
    real = {
        "kpi_id": KPI,
        "dataset_id": DATASET,
        "resource": f"{DATASET}.json",
        "row": "row-none-none-none.json",
        "goal_id": "streets-in-repair",
        "slug": "public-works",
        "meeting_id": "2020-03-04-public-works",
        "story_id": "2020-02-potholes",
        "number": "1",  # a kept packet revision
    }
    cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        cases.append(operation.Case(path_parameters={n: real[n] for n in names}, query={}))
    return cases


def _explore(operation: Any, site: str, calls: dict[str, int]) -> None:
    """Up to EXAMPLES generated requests for one operation, each response checked."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        calls[operation.label] += 1
        case.call_and_validate(base_url=site, checks=CHECKS, timeout=60)

    run()


def test_schemathesis_finds_nothing(site: str, document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(document)
    failures: dict[str, str] = {}
    for case in _real_cases(schema):
        try:
            case.call_and_validate(base_url=site, checks=CHECKS, timeout=60)
        except Exception as exc:  # each failure is an AssertionError of schemathesis's own
            failures[f"{case.operation.label} (real ids)"] = str(exc)[:800]
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        calls[operation.label] = 0
        try:
            _explore(operation, site, calls)
        except Exception as exc:
            failures[operation.label] = str(exc)[:800]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert len(calls) >= 25 and all(n >= 1 for n in calls.values()), calls
    assert sum(calls.values()) >= 8 * len(calls), calls


def test_the_checks_catch_an_untrue_document(site: str, document: dict[str, Any]) -> None:
    """FastAPI's own document (200 JSON for everything) fails these checks: they can fail."""
    lying = {**document, "paths": {"/kpi/{kpi_id}.png": {"get": {
        "parameters": [{"name": "kpi_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {}}}}},
    }}}}  # fmt: skip
    schema = schemathesis.openapi.from_dict(lying)
    case = _real_cases(schema)[0]
    with pytest.raises(FailureGroup, match="Undocumented Content-Type"):
        case.call_and_validate(base_url=site, checks=CHECKS, timeout=60)
