"""The demo server's ``/datapackage.json`` and ``/data.json`` as third-party tools read them.

- frictionless 5 (from PyPI) opens ``/datapackage.json`` over HTTP and validates every resource:
  the descriptor and every row of every CSV it points to (the KPI series and the source datasets,
  la-water-power-usage's location column included).
- ckanext-dcat's own DCAT-JSON conversion (``ckanext.dcat.converters.dcat_to_ckan``, from PyPI; it
  imports without a CKAN install, its harvester class does not) turns every ``/data.json`` entry
  into a CKAN package dict, found the way its harvester's gather stage finds them; each package's
  tags must then pass CKAN's tag rules (ckan/logic/validators.py: ``tag_length_validator``,
  ``tag_name_validator``), written out below since CKAN itself is not installed here.
- and the harvester itself: ckanext-dcat's ``dcat_json`` harvester (in ckanext-harvest) harvests
  ``/data.json`` into the session's real CKAN 2.12 (``tests/ckan_site.py``), every dataset with
  its keywords as tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ckan_site import CkanSite
from ckanext.dcat.converters import dcat_to_ckan
from demo_store import demo_store
from frictionless import Package, system
from servers import serve

from btvstat_open.load import load_file
from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

# CKAN 2.12, ckan/logic/validators.py and ckan/model/tag.py: MIN_TAG_LENGTH, MAX_TAG_LENGTH and
# the pattern tag_name_validator matches.
MIN_TAG_LENGTH, MAX_TAG_LENGTH = 2, 100
WATER_CSV = "la-city-kpis/Water_and_Electric_Usage_from_2005_-_2013.csv"
CKAN_TAG = re.compile(r"[\w \-.]*$", re.UNICODE)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[str]:
    """The demo catalog and datasets served over HTTP on 127.0.0.1.

    la-water-power-usage is loaded from the real CSV, whose "Zip Code" cells are Socrata location
    texts (``90001\n(33.97..., -118.24...)``): a location column, as when the issue was found.
    """
    with demo_store(tmp_path_factory.mktemp("harvest-store")) as store:
        info = load_file(store, real_data / WATER_CSV, "la-water-power-usage", name="LA water and power")
        assert {c.field_name: c.data_type for c in info.columns}["zip_code"] == "location"
        with serve(create_app(store, load_catalog(DEMO_DIR, store))) as url:
            yield url


def test_frictionless_validates_every_resource_of_the_datapackage(demo_url: str) -> None:
    with system.use_context(trusted=True):  # remote paths (our own server) are allowed
        package = Package(f"{demo_url}/datapackage.json")
        report = package.validate()
    names = [r.name for r in package.resources]
    assert "dataset-la-water-power-usage" in names and len(names) >= 20
    problems = [(task.name, [e.message for e in task.errors][:3]) for task in report.tasks if not task.valid]
    assert report.valid, problems
    assert len(report.tasks) == len(names)
    location = next(
        f
        for r in package.resources
        if r.name == "dataset-la-water-power-usage"
        for f in r.schema.fields
        if f.name == "zip_code"
    )
    assert location.type == "string"


def _tag_problems(tag: dict[str, Any]) -> list[str]:
    name = tag["name"]
    problems = []
    if not MIN_TAG_LENGTH <= len(name) <= MAX_TAG_LENGTH:
        problems.append(f"length {len(name)}")
    if not CKAN_TAG.match(name):
        problems.append("characters")
    return problems


def test_ckanext_dcat_converts_every_data_json_entry_into_tags_ckan_accepts(demo_url: str) -> None:
    document = requests.get(f"{demo_url}/data.json", timeout=60).json()
    entries = document["dataset"]  # what DCATJSONHarvester._get_guids_and_datasets reads
    assert len(entries) >= 20 and all(e.get("identifier") for e in entries)
    refused = {}
    for entry in entries:
        package = dcat_to_ckan(entry)
        assert package["title"] and package["tags"], entry["identifier"]
        names = [t["name"] for t in package["tags"]]
        assert len(names) == len(set(names)), entry["identifier"]  # a package holds each tag once
        bad = {t["name"]: _tag_problems(t) for t in package["tags"] if _tag_problems(t)}
        if bad:
            refused[entry["identifier"]] = bad
    assert refused == {}
    # The display form of a keyword CKAN would refuse is kept, as a theme.
    parks = [e for e in entries if "Parks Recreation and Waterfront" in e["keyword"]]
    assert parks and all("Parks, Recreation and Waterfront" in e["theme"] for e in parks)


def _ckan_get(site: CkanSite, action: str, **params: str) -> Any:
    resp = requests.get(f"{site.url}/api/3/action/{action}", params=params, timeout=60)
    answer = resp.json()
    assert answer.get("success"), f"{action}: {answer.get('error')}"
    return answer["result"]


def test_ckanext_dcat_harvests_the_whole_data_json_into_a_real_ckan(
    demo_url: str, ckan_site: CkanSite
) -> None:
    """ckanext-dcat's DCAT-JSON harvester, in ckanext-harvest, in the real CKAN 2.12 of the session:
    every dataset of ``/data.json`` becomes a CKAN package with its keywords as tags (gather,
    fetch and import run by ``ckan harvester run-test``, no queue consumers)."""
    entries = requests.get(f"{demo_url}/data.json", timeout=60).json()["dataset"]
    assert len(entries) >= 20
    ckan_site.action(
        "harvest_source_create",
        name="btvstat-demo-data-json",
        title="btvstat-open demo",
        url=f"{demo_url}/data.json",
        source_type="dcat_json",
        frequency="MANUAL",
    )
    ckan_site.cli("harvester", "run-test", "btvstat-demo-data-json")
    harvested: dict[str, dict[str, Any]] = {}
    for name in _ckan_get(ckan_site, "package_list"):
        package = _ckan_get(ckan_site, "package_show", id=name)
        guid = next((e["value"] for e in package.get("extras") or [] if e["key"] == "guid"), None)
        if guid is not None:
            harvested[guid] = package
    missing = sorted(e["identifier"] for e in entries if e["identifier"] not in harvested)
    assert missing == [], f"{len(missing)} of {len(entries)} datasets were not harvested"
    for entry in entries:
        package = harvested[entry["identifier"]]
        assert package["title"] == entry["title"]
        assert sorted(t["name"] for t in package["tags"]) == sorted(set(entry["keyword"])), entry[
            "identifier"
        ]
