"""One door to a connector: connect(), the command line and the catalog pass options through one
typed, checked object (connectors.options). A site key reaches each kind as it calls it; an option a
kind does not take is a BtvstatError that names it; the HTTP defaults live in one place.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from servers import serve

from btvstat_open.cli import main
from btvstat_open.errors import UsageError
from catalog.models import Catalog, CatalogSettings
from catalog.models.catalog_yaml import PortalSettings
from catalog.portals import open_portal
from connectors import connect
from connectors.kinds import KINDS, kind_class
from connectors.options import CREDENTIALS, HTTP_OPTIONS, HttpOptions

ARCGIS = "https://gis.example.gov/arcgis/rest/services/Trees/FeatureServer"


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_states_the_options_its_connector_takes(name: str) -> None:
    spec = KINDS[name]
    parameters = inspect.signature(kind_class(name).__init__).parameters
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()), name
    assert set(parameters) - {"self", "url"} == spec.options
    if spec.credential is not None:
        assert spec.credential in spec.options & CREDENTIALS
    speaks_http = "session" in spec.options
    assert speaks_http == (spec.options >= HTTP_OPTIONS)
    for option in HTTP_OPTIONS & spec.options:  # no constructor has defaults of its own for these
        default = parameters[option].default
        assert default is None, f"{name}: {option} defaults to {default!r}; let HttpOptions say"


def test_a_site_key_reaches_arcgis_as_its_token(tmp_path: Path) -> None:
    from arcgis_standin import ArcgisStandin, Service, layer_from_table

    from connectors.testing import source_table

    app = ArcgisStandin({"Cases": Service({1: layer_from_table(1, "Cases", source_table(5))})})
    with serve(app) as base:
        service = f"{base}/arcgis/rest/services/Cases/FeatureServer"
        with connect(service, app_token="t0ken", retries=0) as portal:
            assert portal.describe("1").row_count == 5
    assert app.log and all(dict(params).get("token") == "t0ken" for _, params in app.log)


@pytest.mark.parametrize(
    ("url", "options", "named"),
    [
        (ARCGIS, {"sheet": "S"}, "sheet does not apply to arcgis sources"),
        (ARCGIS, {"api_key_id": "k"}, "api_key_id does not apply to arcgis sources"),
        ("https://data.example.gov", {"token": "t"}, "token does not apply to socrata sources"),
        ("exports/", {"app_token": "t"}, "app_token does not apply to file sources"),
        ("exports/", {"tiemout": 5}, "tiemout does not apply to file sources"),
        ("https://data.example.gov", {"timeout": 0}, "timeout=0: give the seconds"),
        ("https://data.example.gov", {"retries": -1}, "retries=-1: give how many times"),
        ("https://data.example.gov", {"backoff": float("nan")}, "backoff=nan: give seconds"),
        (ARCGIS, {"app_token": "a", "token": "b"}, "app_token and token both give the arcgis key"),
        ("https://demo.ckan.org/api/3/action", {"page_size": 0}, "page_size=0: give a whole number"),
        ("exports/", {"page_size": 2.5}, "page_size=2.5: give a whole number"),
        ("https://data.example.gov", {"concurrency": True}, "concurrency=True: give a whole number"),
    ],
)
def test_a_wrong_option_is_a_usage_error_that_names_it(
    url: str, options: dict[str, object], named: str
) -> None:
    with pytest.raises(UsageError, match=named):
        connect(url, **options)  # type: ignore[arg-type]


def test_http_options_go_to_every_kind_that_speaks_http_and_have_one_default(tmp_path: Path) -> None:
    defaults = HttpOptions()
    with connect(ARCGIS) as arcgis, connect("https://demo.ckan.org", kind="ckan", timeout=7) as ckan:
        assert (arcgis.http.timeout, arcgis.http.retry.retries) == (defaults.timeout, defaults.retries)
        assert ckan.http.timeout == 7
    # A folder has no HTTP to apply them to: a catalog's sync passes one set to every portal.
    assert connect(str(tmp_path), retries=2, timeout=5).kind == "file"


def test_the_command_line_refuses_a_flag_the_kind_cannot_take(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cases.csv").write_text("a\n1\n")
    out = str(tmp_path / "out.csv")
    assert main(["pull", str(tmp_path), "cases.csv", "-o", out, "--app-token", "t"]) == 2
    assert "--app-token does not apply to file sources" in capsys.readouterr().err
    assert main(["pull", str(tmp_path), "cases.csv", "-o", out]) == 0


def test_the_catalog_goes_through_the_same_door(tmp_path: Path) -> None:
    portals = {"city": {"url": "https://data.example.gov"}, "gis": {"kind": "arcgis", "url": ARCGIS}}
    catalog = Catalog(tmp_path, CatalogSettings.model_validate({"portals": portals}), {})
    with pytest.raises(UsageError, match="sheet does not apply to socrata sources"):
        open_portal(catalog, "city", {"sheet": "S", "retries": 0})
    with open_portal(catalog, "gis", {"retries": 0, "timeout": 3}) as gis:
        assert (gis.kind, gis.http.timeout, gis.http.retry.retries) == ("arcgis", 3, 0)


def test_the_catalog_names_an_option_its_portals_kind_does_not_take() -> None:
    from pydantic import ValidationError

    assert PortalSettings.model_validate({"kind": "arcgis", "url": ARCGIS, "allow_hosts": ["x.gov"]})
    with pytest.raises(ValidationError, match="allow_hosts is for arcgis portals, not socrata"):
        PortalSettings.model_validate({"url": "https://data.example.gov", "allow_hosts": ["x.gov"]})


def test_a_partitioned_pull_from_a_kind_without_soql_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cases.csv").write_text("a\n1\n")
    argv = ["pull", str(tmp_path), "cases.csv", "-o", str(tmp_path / "out"), "--partition-by", "a"]
    assert main(argv) != 0
    assert "which file portals lack" in capsys.readouterr().err
