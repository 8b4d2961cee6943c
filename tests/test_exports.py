"""Exports: DCAT-US 1.1 data.json validates against the official schema; datapackage has a Table
Schema per KPI series; publishing the series to a local portal over real HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from demo_store import demo_store
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from servers import in_process

from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import Catalog, load_catalog, measure
from catalog.demo import DEMO_DIR
from catalog.exports import datapackage, dcat_us
from catalog.ledger import published, with_published
from catalog.publish import METRIC_COLUMNS, publish_series

SCHEMAS = Path(__file__).parent / "data" / "schemas" / "dcat-us-1.1"
BASE = "https://performance.example.gov"
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, Store]]:
    with demo_store(tmp_path_factory.mktemp("exports-store") / "store") as store:
        yield load_catalog(DEMO_DIR, store=store), store


def dcat_validator() -> jsonschema.Draft4Validator:
    """The DCAT-US 1.1 catalog schema, with bureauCode/programCode not required (see SOURCE.md)."""
    registry: Registry[Any] = Registry()
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        if path.name == "dataset.json":
            schema["required"] = [r for r in schema["required"] if r not in ("bureauCode", "programCode")]
        resource = Resource.from_contents(schema, default_specification=DRAFT4)
        registry = registry.with_resource(
            f"https://project-open-data.cio.gov/v1.1/schema/{path.name}", resource
        )
        registry = registry.with_resource(path.name, resource)
    root = registry["https://project-open-data.cio.gov/v1.1/schema/catalog.json"].contents
    return jsonschema.Draft4Validator(root, registry=registry, format_checker=jsonschema.FormatChecker())


def test_dcat_us_validates_and_has_one_entry_per_dataset_and_kpi(demo: tuple[Catalog, Store]) -> None:
    catalog, store = demo
    document = dcat_us(catalog, store, BASE, today=TODAY)
    errors = sorted(dcat_validator().iter_errors(document), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    identifiers = [entry["identifier"] for entry in document["dataset"]]
    kpi_ids = [f"{BASE}/kpi/{k}" for k in catalog.kpis]
    dataset_ids = [f"{BASE}/api/views/{d.id}" for d in store.datasets()]
    assert sorted(identifiers) == sorted(kpi_ids + dataset_ids)
    assert all("bureauCode" not in e and "programCode" not in e for e in document["dataset"])
    for entry in document["dataset"]:
        formats = {d["format"] for d in entry["distribution"]}
        assert formats == {"CSV", "JSON", "Parquet"}, entry["identifier"]
    assert document["title"] == catalog.settings.title
    assert document["publisher"]["name"] == catalog.settings.publisher


def test_dcat_kpi_entries_link_series_and_source_downloads(demo: tuple[Catalog, Store]) -> None:
    catalog, store = demo
    document = dcat_us(catalog, store, BASE, today=TODAY)
    entry = next(e for e in document["dataset"] if e["identifier"] == f"{BASE}/kpi/pothole-requests-weekly")
    urls = {d["downloadURL"]: d["mediaType"] for d in entry["distribution"]}
    assert urls[f"{BASE}/kpi/pothole-requests-weekly.csv"] == "text/csv"
    assert urls[f"{BASE}/kpi/pothole-requests-weekly.json"] == "application/json"
    assert urls[f"{BASE}/datasets/kc-311-potholes.csv"] == "text/csv"
    assert f"{BASE}/datasets/kc-311-potholes.parquet" in urls
    series = measure(catalog.get("pothole-requests-weekly"), store, catalog.settings, today=TODAY)
    first, last = series.column("period_start")[0].as_py(), series.column("period_end")[-1].as_py()
    assert entry["temporal"] == f"{first.isoformat()}/{last.isoformat()}"
    assert entry["accrualPeriodicity"] == "R/P1W"
    assert "Public Works" in entry["keyword"] and "311" in entry["keyword"]
    dataset_entry = next(
        e for e in document["dataset"] if e["identifier"].endswith("/api/views/kc-311-potholes")
    )
    assert any(d.get("format") == "Parquet" for d in dataset_entry["distribution"])


def test_non_public_kpis_are_left_out(demo: tuple[Catalog, Store], tmp_path: Path) -> None:
    _, store = demo
    shutil.copytree(DEMO_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data", "stories"))
    kpi = next(tmp_path.rglob("pothole-requests-weekly.yaml"))
    kpi.write_text(kpi.read_text().replace("public: true", "public: false"))
    private = load_catalog(tmp_path)
    document = dcat_us(private, store, BASE, today=TODAY)
    assert f"{BASE}/kpi/pothole-requests-weekly" not in [e["identifier"] for e in document["dataset"]]
    assert "pothole-requests-weekly" not in [
        r["name"] for r in datapackage(private, store, BASE)["resources"]
    ]


def test_datapackage_has_a_table_schema_per_kpi_series(demo: tuple[Catalog, Store]) -> None:
    catalog, store = demo
    package = datapackage(catalog, store, BASE)
    resources = {r["name"]: r for r in package["resources"]}
    names = [r["name"] for r in package["resources"]]
    assert len(names) == len(set(names))
    for kpi in catalog.kpis.values():
        resource = resources[kpi.id]
        assert resource["path"] == f"{BASE}/kpi/{kpi.id}.csv"
        fields = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
        expected = {
            "period_start": "date",
            "period_end": "date",
            "value": "number",
            "target": "number",
            "status": "string",
        }
        if kpi.measure.calculation == "rate":
            expected |= {"numerator": "number", "denominator": "number"}
        # the ledger's columns (catalog.ledger): the values as first published
        expected |= {
            "first_published_value": "number",
            "first_published_at": "datetime",
            "revised_at": "datetime",
        }
        assert fields == expected
        assert resource["schema"]["primaryKey"] == ["period_start"]
        # The served series' columns (/kpi/{id}.csv) are exactly the schema's fields, in order.
        series = with_published(measure(kpi, store, catalog.settings, today=TODAY), published(store, kpi.id))
        assert series.column_names == [f["name"] for f in resource["schema"]["fields"]]
    potholes = resources["dataset-kc-311-potholes"]["schema"]["fields"]
    assert {"name": "creation_date", "title": "CREATION DATE", "type": "datetime"} in potholes
    assert package["name"] and all(c.islower() or not c.isalpha() for c in package["name"])


def test_publish_series_to_a_local_portal(demo: tuple[Catalog, Store], tmp_path: Path) -> None:
    from btvstat_open.portal.app import create_portal_app
    from connectors import connect

    catalog, store = demo
    with Store(tmp_path / "portal") as portal_store:
        portal_store.create("kpi-series", "KPI series", list(METRIC_COLUMNS), row_identifier="row_key")
        app = create_portal_app(portal_store, Settings(write_token="s3cret-token"))
        with in_process(app) as (url, http):
            portal = connect(url, username="publisher", password="s3cret-token", session=http)
            result = publish_series(catalog, store, portal, "kpi-series", today=TODAY)
            assert result.errors == 0
            published = portal.pull("kpi-series")
            again = publish_series(catalog, store, portal, "kpi-series", mode="upsert", today=TODAY)
            assert again.errors == 0 and again.created == 0
            assert portal.pull("kpi-series").num_rows == published.num_rows
    expected_rows = sum(
        measure(k, store, catalog.settings, today=TODAY).num_rows for k in catalog.kpis.values()
    )
    assert result.created == expected_rows == published.num_rows
    rows = {r["row_key"]: r for r in published.to_pylist()}
    series = measure(catalog.get("refuse-diversion-rate"), store, catalog.settings, today=TODAY).to_pylist()
    for row in series:
        got = rows[f"refuse-diversion-rate/{row['period_start'].isoformat()}"]
        assert got["value"] == pytest.approx(row["value"])
        assert got["numerator"] == row["numerator"] and got["status"] == row["status"]
        assert got["department"] == "Sanitation" and got["period_size"] == "fiscal_year"


TABLE_SCHEMA_TYPES = {
    "string", "number", "integer", "boolean", "object", "array", "date", "time", "datetime",
    "year", "yearmonth", "duration", "geopoint", "geojson", "any",
}  # fmt: skip
FRICTIONLESS_NAME = r"^([-a-z0-9._/])+$"


def test_each_series_csv_conforms_to_its_table_schema(demo: tuple[Catalog, Store]) -> None:
    """The CSV a client downloads parses under the schema the data package declares for it."""
    import csv
    import io
    import re

    from catalog.commands import series_csv

    catalog, store = demo
    package = datapackage(catalog, store, BASE)
    assert re.match(FRICTIONLESS_NAME, package["name"])
    for resource in package["resources"]:
        assert re.match(FRICTIONLESS_NAME, resource["name"]), resource["name"]
        fields = resource["schema"]["fields"]
        assert all(f["type"] in TABLE_SCHEMA_TYPES for f in fields)
        assert len({f["name"] for f in fields}) == len(fields)
    checked = 0
    for kpi in catalog.kpis.values():
        schema = next(r for r in package["resources"] if r["name"] == kpi.id)["schema"]
        served = with_published(measure(kpi, store, catalog.settings, today=TODAY), published(store, kpi.id))
        text = series_csv(served)
        reader = csv.DictReader(io.StringIO(text))
        assert reader.fieldnames == [f["name"] for f in schema["fields"]]
        keys = []
        for row in reader:
            for f in schema["fields"]:
                cell = row[f["name"]]
                constraints = f.get("constraints", {})
                if cell in schema["missingValues"]:
                    assert not constraints.get("required"), (kpi.id, f["name"])
                    continue
                if f["type"] == "date":
                    date.fromisoformat(cell)
                elif f["type"] == "datetime":
                    datetime.fromisoformat(cell)
                elif f["type"] == "number":
                    float(cell)
                if "enum" in constraints:
                    assert cell in constraints["enum"]
            keys.append(tuple(row[k] for k in schema["primaryKey"]))
            checked += 1
        assert len(keys) == len(set(keys)), kpi.id
    assert checked > 100
