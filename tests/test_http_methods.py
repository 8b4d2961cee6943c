"""HEAD on every GET route (same status and headers, no body), OPTIONS and 405 with a true Allow.

Against the one server (dashboard, widgets and the local portal) served by uvicorn, with raw
``http.client`` so nothing between the test and the server fills in or drops what it sends.
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import pytest
import requests
from widget_site import Site

KPI = "pothole-days-to-close"
DATASET = "kc-311-potholes"
# Headers that may differ between two answers to the same request (the clock, the framing).
VARYING = {"date", "server", "connection", "keep-alive", "transfer-encoding"}


def _samples(site: Site) -> dict[str, str]:
    """A real value for every path parameter a GET route takes."""
    breakdown_kpi = next(k.id for k in site.catalog.kpis.values() if k.breakdown is not None)
    goal = next(iter(site.catalog.settings.goals)).id
    meeting = next(iter(site.catalog.meetings))
    department = next(k.department for k in site.catalog.kpis.values())
    first = requests.get(f"{site.base}/resource/{DATASET}.json?$limit=1&$order=:id", timeout=60).json()[0]
    return {
        "kpi_id": KPI,
        "breakdown_kpi": breakdown_kpi,
        "peer_kpi": next(k.id for k in site.catalog.kpis.values() if k.peers is not None),
        "goal_id": goal,
        "slug": re.sub(r"[^a-z0-9]+", "-", department.lower()).strip("-"),
        "meeting_id": meeting,
        "dataset_id": DATASET,
        "resource": f"{DATASET}.json",
        "row": f"{first['case_id']}.json",
        "name": "site.css",
        "story_id": next(iter(site.catalog.stories)),
        "number": "1",  # a kept packet revision
    }


def _get_paths(site: Site) -> list[str]:
    """Every GET route of the server with its parameters filled in (an unknown one fails the test)."""
    samples = _samples(site)
    paths = requests.get(f"{site.base}/openapi.json", timeout=60).json()["paths"]
    out = ["/docs"]
    for template, operations in paths.items():
        if "get" not in operations or "{rest" in template:
            continue
        if "breakdown" in template:
            template = template.replace("{kpi_id}", "{breakdown_kpi}")
        if "/peers." in template:
            template = template.replace("{kpi_id}", "{peer_kpi}")
        names = re.findall(r"{(\w+)}", template)
        assert set(names) <= set(samples), f"no sample value for {template}"
        out.append(template.format(**samples))
    return out


def _request(base: str, method: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def test_head_answers_every_get_route_as_get_does(site: Site) -> None:
    paths = _get_paths(site)
    assert len(paths) > 30
    for path in paths:
        # HEAD first, on a cold cache: it must not depend on a GET having filled it.
        head_status, head_headers, head_body = _request(site.base, "HEAD", path)
        get_status, get_headers, get_body = _request(site.base, "GET", path)
        assert head_body == b"", path
        assert head_status == get_status, (path, head_status, get_status)
        assert get_status in (200, 304), (path, get_status, get_body[:300])
        same = {k: v for k, v in head_headers.items() if k not in VARYING}
        assert same == {k: v for k, v in get_headers.items() if k not in VARYING}, path


def test_head_of_a_streamed_export_sends_headers_only(site: Site) -> None:
    status, headers, body = _request(site.base, "HEAD", f"/api/views/{DATASET}/rows.csv")
    assert status == 200 and body == b""
    assert headers["content-type"].startswith("text/csv") and "etag" in headers
    # The server goes on answering on the same pools afterwards (the stopped stream gave its slot back).
    assert requests.get(f"{site.base}/resource/{DATASET}.json?$limit=1", timeout=60).status_code == 200


def test_head_of_a_missing_thing_is_the_get_status(site: Site) -> None:
    for path in ("/kpi/no-such-kpi", f"/resource/no-such-{DATASET}.json", "/no/such/route"):
        head_status, _, body = _request(site.base, "HEAD", path)
        assert head_status == 404 and body == b"", path


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        (f"/resource/{DATASET}.json", "GET, HEAD, OPTIONS, POST, PUT, DELETE"),
        (f"/resource/{DATASET}/1.json", "GET, HEAD, OPTIONS, POST, PUT, DELETE"),
        (f"/api/views/{DATASET}.json", "GET, HEAD, OPTIONS, PUT, DELETE"),
        ("/api/views.json", "OPTIONS, POST"),
        (f"/kpi/{KPI}.svg", "GET, HEAD, OPTIONS"),
        ("/", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_and_405_name_every_method_of_the_path(site: Site, path: str, allow: str) -> None:
    wanted = {m.strip() for m in allow.split(",")}
    status, headers, body = _request(site.base, "OPTIONS", path)
    assert status == 204 and body == b""
    assert {m.strip() for m in headers["allow"].split(",")} == wanted
    assert not any(h.startswith("access-control-") for h in headers)  # no CORS grant: preflights fail
    refused = "PATCH" if "PATCH" not in wanted else "TRACE"
    status, headers, body = _request(site.base, refused, path)
    assert status == 405
    assert {m.strip() for m in headers["allow"].split(",")} == wanted
    assert b'"error":true' in body and b"method.not-allowed" in body


def test_options_on_an_unknown_path_is_a_404(site: Site) -> None:
    status, _, body = _request(site.base, "OPTIONS", "/no/such/route")
    assert status == 404 and b"not.found" in body
