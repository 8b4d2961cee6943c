"""The registry of portal kinds (connectors.kinds.KINDS) is the one place kinds are named: every
kind package is registered, and every consumer (the command line, the catalog's models, the
widgets' provenance line, partitioned pulls, the Socrata connector's refusals, connect()) agrees
with it, kind by kind. A kind left out of the registry, or a consumer that lists kinds of its own,
fails here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from btvstat_open.cli import KIND_CHOICES, build_parser
from btvstat_open.errors import NotSupported, PortalResponseError
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from catalog.models import CatalogSettings
from catalog.models.catalog_yaml import PortalSettings
from connectors import connect
from connectors.kinds import KINDS, detect_kind, guess_kind, kind_class
from connectors.partitioned import pull_partitioned
from connectors.socrata.answers import not_soda
from widgets.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent

# A first answer of each kind a server is asked about (Socrata's own answers are never "another kind").
ANSWERS = {
    "arcgis": {"currentVersion": 11.1, "layers": [{"id": 0}], "tables": []},
    "ckan": {"version": 3},  # what /api/3 answers: every recogniser used to disagree on it
    "opendatasoft": {"total_count": 1, "results": [{"dataset_id": "trees"}]},
}


def _url(name: str) -> str:
    return "data/exports" if KINDS[name].url("data/exports") else "https://portal.example.gov"


def test_every_kind_package_is_registered() -> None:
    packages = sorted(p.parent.name for p in (ROOT / "connectors").glob("*/kind.py"))
    assert len(packages) >= 5, packages
    registered = {id(spec) for spec in KINDS.values()}
    for package in packages:
        spec = importlib.import_module(f"connectors.{package}.kind").KIND
        assert id(spec) in registered, f"connectors/{package}/kind.py states a kind the registry leaves out"
        assert kind_class(spec.name).kind == spec.name


def test_the_command_line_offers_every_kind() -> None:
    assert ("auto", *KINDS) == KIND_CHOICES
    parser = build_parser()
    for name in KINDS:
        assert parser.parse_args(["pull", "u", "d", "-o", "o.csv", "--kind", name]).kind == name
        assert parser.parse_args(["push", "f.csv", "u", "d", "--kind", name]).kind == name
        assert parser.parse_args(["sync", "u", "d", "--kind", name]).kind == name


@pytest.mark.parametrize("name", list(KINDS))
def test_the_catalog_and_the_pages_know_each_kind(name: str) -> None:
    spec, url = KINDS[name], _url(name)
    settings = CatalogSettings.model_validate({"portals": {"p": {"kind": name, "url": url}}})
    assert settings.portals["p"].kind == name
    demo = load_catalog(DEMO_DIR)
    kpi = demo.get("trees-planted-yearly")
    kpi = kpi.model_copy(update={"source": kpi.source.model_copy(update={"portal": "p", "dataset": "a b"})})
    shown = provenance(kpi, settings, "a b")
    assert shown.kind == spec.label
    page = spec.source_page(url, "a b")
    if page is None:
        assert (shown.link, shown.download) == ("/datasets/a%20b.csv", True)
    else:
        assert (shown.link, shown.download) == (page, False)
        assert page.startswith(url) and "a%20b" in page


def test_the_catalog_refuses_a_kind_the_registry_does_not_have() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'socrata', 'arcgis', 'ckan', 'opendatasoft' or 'file'"):
        PortalSettings.model_validate({"kind": "gopher", "url": "https://x.gov"})


@pytest.mark.parametrize("name", list(KINDS))
def test_connect_and_partitioned_pulls_read_each_kind(name: str, tmp_path: Path) -> None:
    url = str(tmp_path) if name == "file" else "https://portal.example.gov"
    with connect(url, kind=name) as portal:
        assert isinstance(portal, kind_class(name)) and portal.kind == name
        if KINDS[name].soql:
            return
        with pytest.raises(NotSupported, match=f"which {name} portals lack"):
            pull_partitioned(portal, "x", str(tmp_path / "out"), partition_by="day")


def test_each_other_kinds_answer_is_refused_by_the_socrata_connector_with_its_name() -> None:
    asked = {name for name, spec in KINDS.items() if spec.probe is not None and name != "socrata"}
    assert set(ANSWERS) == asked, "give a first answer of the new kind here"
    for name, body in ANSWERS.items():
        assert guess_kind(body) == name
        refusal = not_soda(body, "GET /api/views/x.json", "https://s.example.gov", "a dataset object")
        assert isinstance(refusal, PortalResponseError)
        assert f"like a{'n' if KINDS[name].label[0] in 'AEIOU' else ''} {KINDS[name].label}," in str(refusal)
        assert f"kind={name!r}" in str(refusal)


def test_one_recogniser_per_kind_for_urls() -> None:
    shapes = {
        "arcgis": "https://gis.example.gov/arcgis/rest/services/Trees/FeatureServer/0",
        "ckan": "https://data.gov.sg/api/3/action/datastore_search",
        "opendatasoft": "https://data.burlingtonvt.gov/explore/dataset/planting-sites/",
        "file": "s3://city-bucket/exports",
    }
    for name, url in shapes.items():
        assert detect_kind(url) == name
        assert [n for n, spec in KINDS.items() if spec.url(url)] == [name]
