"""connect() and detect_kind(): a kind by the URL's shape, by the server's first answer, or forced;
a kind whose package is missing, and a URL that is no kind, are clear errors.

The stand-in servers answer each kind's first question with a real recorded body (tests/data/real,
SOURCES.md B5), except Opendatasoft, whose catalog answer is not recorded there: it is written
here in the documented shape (``total_count`` and ``results``). The CKAN stand-in answers its
probe with a recorded Action API envelope (package_show's: every action answers in it). The
CKAN and Opendatasoft stand-ins of tests/ then answer `--kind auto` end to end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from faults import serve_portal
from servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from btvstat_open.errors import UsageError
from btvstat_open.store import Store
from connectors import connect, detect_kind
from connectors.kinds import KINDS, kind_class

REAL = Path(__file__).parent / "data" / "real"


def _body(relative: str) -> bytes:
    return (REAL / relative).read_bytes()


def _app(path: str, body: bytes, seen: list[str]) -> Starlette:
    """Answers ``path`` (a query string included) with ``body``; everything else is a 404."""

    async def answer(request: Request) -> Response:
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        seen.append(asked)
        if asked == path:
            return Response(body, media_type="application/json")
        return JSONResponse({"error": "not here"}, status_code=404)

    return Starlette(routes=[Route("/{rest:path}", answer)])


FIRST_ANSWERS = {
    "arcgis": ("/?f=json", _body("arcgis-hub-usfs/Actv_TimberHarvest_service.json")),
    "ckan": (
        "/api/3/action/package_search?rows=0",
        _body("ckan-dcatd-demo/17be64bb-da74-4195-9bb8-565c39846af2.json"),
    ),
    "socrata": ("/api/catalog/v1?limit=1", _body("socratadata-catalog-v1/v1-086e69.json")),
}


@pytest.fixture(params=sorted(FIRST_ANSWERS))
def stand_in(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, list[str]]]:
    kind = request.param
    path, body = FIRST_ANSWERS[kind]
    seen: list[str] = []
    with serve(_app(path, body, seen)) as url:
        yield kind, url, seen


def test_the_first_answer_names_the_kind(stand_in: tuple[str, str, list[str]]) -> None:
    kind, url, seen = stand_in
    with requests.Session() as session:
        assert detect_kind(url, session) == kind
    assert seen[-1] == FIRST_ANSWERS[kind][0]  # the kinds before it were asked first, and said no


def test_an_opendatasoft_catalog_answer_names_its_kind() -> None:
    seen: list[str] = []
    body = json.dumps({"total_count": 2, "results": []}).encode()
    path = "/api/explore/v2.1/catalog/datasets?limit=0"
    with serve(_app(path, body, seen)) as url, requests.Session() as session:
        assert detect_kind(url, session) == "opendatasoft"
    assert seen == [path]


def test_the_local_portal_is_socrata_when_asked(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store, serve_portal(store) as (url, _):
        assert connect(url, kind="auto").kind == "socrata"


def test_a_server_that_is_no_kind_is_a_usage_error_listing_them() -> None:
    with (
        serve(_app("/nothing", b"{}", [])) as url,
        requests.Session() as session,
        pytest.raises(
            UsageError, match=r"answers none of .*--kind \(socrata, arcgis, ckan, opendatasoft, file\)"
        ),
    ):
        detect_kind(url, session)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://sampleserver6.arcgisonline.com/arcgis/rest/services/Recreation/FeatureServer", "arcgis"),
        ("https://gis.example.gov/server/Trees/MapServer/", "arcgis"),
        ("https://data.gov.sg/api/3/action/datastore_search", "ckan"),
        ("https://data.burlingtonvt.gov/api/explore/v2.1", "opendatasoft"),
        ("https://data.burlingtonvt.gov/explore/dataset/planting-sites/", "opendatasoft"),
        ("https://data.kcmo.org", "socrata"),
        ("exports/", "file"),
        ("/srv/exports", "file"),
        ("file:///srv/exports", "file"),
        ("s3://city-bucket/exports", "file"),
        ("memory://exports", "file"),
    ],
)
def test_the_url_shape_decides_without_a_request(url: str, kind: str) -> None:
    assert detect_kind(url) == kind


def test_kind_forces_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    assert connect(str(tmp_path), kind="file").kind == "file"
    assert connect("http://127.0.0.1:9", kind="socrata").kind == "socrata"
    with pytest.raises(UsageError, match="Unknown portal kind 'gis'"):
        connect("http://127.0.0.1:9", kind="gis")
    with pytest.raises(UsageError, match="gopher:// is no portal kind"):
        connect("gopher://example.gov/x")


def test_a_kind_whose_package_is_missing_says_it_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind registered before its connector package lands (or left out of an install)."""
    from dataclasses import replace

    monkeypatch.setitem(KINDS, "ckan", replace(KINDS["ckan"], target="connectors.no_such_kind:Nothing"))
    with pytest.raises(UsageError, match=r"kind 'ckan' is not installed: .*connectors\.no_such_kind"):
        kind_class("ckan")
    with pytest.raises(UsageError, match="kind 'ckan' is not installed"):
        connect("https://data.gov.sg/api/3/action/x")


def test_pull_of_an_arcgis_url_needs_no_kind(tmp_path: Path) -> None:
    """The command line picks the ArcGIS connector from the service URL (and maps the app token)."""
    import pyarrow.parquet as pq
    from arcgis_standin import ArcgisStandin, Service, layer_from_table

    from btvstat_open.cli import main
    from connectors.testing import source_table

    app = ArcgisStandin({"Cases": Service({1: layer_from_table(1, "Cases", source_table(120))})})
    out = tmp_path / "cases.parquet"
    with serve(app) as base:
        service = f"{base}/arcgis/rest/services/Cases/FeatureServer"
        assert main(["pull", service, "1", "-o", str(out), "--app-token", "t0ken"]) == 0
        assert main(["pull", service, "1", "-o", str(out), "--sheet", "S"]) == 2
    assert pq.read_table(out).num_rows == 120
    assert {"f": "json"}.items() <= dict(app.log[0][1]).items()
    assert all(params.get("token") == "t0ken" for _, params in app.log[:3])


@pytest.mark.parametrize("kind", ["ckan", "opendatasoft"])
def test_pull_with_kind_auto_asks_the_server(kind: str, tmp_path: Path) -> None:
    """A bare site URL: `--kind auto` asks each kind's first question and pulls with the one that answers."""
    import pyarrow.parquet as pq
    from ckan_standin import StandinCkan
    from opendatasoft_standin import StandinOds

    from btvstat_open.cli import main
    from connectors.testing import source_table

    out = tmp_path / "cases.parquet"
    if kind == "ckan":
        ckan = StandinCkan()
        ckan.add_table(
            "cases", "5b1c7a8e-0000-4000-8000-000000000009", source_table(80), "2024-01-02T03:04:05"
        )
        app, dataset, log = ckan.app(), "cases", ckan.log
    else:
        ods = StandinOds()
        ods.put("cases", source_table(80), "2024-01-02T03:04:05+00:00")
        app, dataset, log = ods.app(), "cases", ods.log
    with serve(app) as base:
        if kind == "ckan":
            ckan.url = base
        assert connect(base, kind="auto").kind == kind
        assert main(["pull", base, dataset, "-o", str(out), "--kind", "auto"]) == 0
    assert pq.read_table(out).num_rows == 80 and log


def test_kind_auto_asks_with_the_callers_session(tmp_path: Path) -> None:
    class Counting(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.asked: list[str] = []

        def request(
            self, method: str | bytes, url: str | bytes, *args: object, **kwargs: object
        ) -> requests.Response:  # type: ignore[override]
            self.asked.append(str(url))
            return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]

    with Store(tmp_path / "s") as store, serve_portal(store) as (url, _), Counting() as session:
        assert connect(url, kind="auto", session=session).kind == "socrata"
    assert session.asked[-1] == f"{url}/api/catalog/v1?limit=1"
