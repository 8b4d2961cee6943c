"""Dataset metadata that lasts: a reload keeps name, description, license and the rest unless given
anew, and the license, attribution, source page and the source's own last-updated day reach
``data.json``, ``datapackage.json``, the Metadata API, ``/d/{id}`` and the KPI cards' freshness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from btvstat_open.cli import main
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.exports import datapackage, dcat_us

WELLBEING = "santa-monica-wellbeing/data.csv"
ODC_BY = "https://opendatacommons.org/licenses/by/1-0/"
SOURCE = "https://github.com/CityofSantaMonica/WellbeingData"
KPI = """\
id: wellbeing-findings
title: Wellbeing findings
department: Office of Civic Wellbeing
source: {portal: local, dataset: wellbeing, date_column: year}
measure: {calculation: count}
period: {size: year}
freshness: {expect: yearly}
"""


def load(store: Path, csv: Path, *more: str) -> None:
    assert main(["load", str(csv), "--dataset", "wellbeing", "--store", str(store), *more]) == 0


@pytest.fixture
def wellbeing(tmp_path: Path, real_data: Path) -> Path:
    csv = tmp_path / "wellbeing.csv"
    shutil.copy(real_data / WELLBEING, csv)
    store = tmp_path / "store"
    load(
        store,
        csv,
        *("--name", "Wellbeing Index findings", "--description", "What the 2014 and 2017 surveys found."),
        *("--license", "ODC-By-1.0", "--attribution", "City of Santa Monica", "--source-url", SOURCE),
        *("--tag", "wellbeing", "--tag", "survey", "--source-updated", "2018-05-01"),
    )
    load(store, csv)  # the monthly refresh, with no metadata options
    return tmp_path


def test_a_reload_keeps_the_metadata(wellbeing: Path) -> None:
    with Store(wellbeing / "store") as store:
        info = store.info("wellbeing")
    assert (info.name, info.description) == (
        "Wellbeing Index findings",
        "What the 2014 and 2017 surveys found.",
    )
    assert (info.license, info.attribution, info.source_url) == ("ODC-By-1.0", "City of Santa Monica", SOURCE)
    assert (info.tags, info.source_updated, info.row_count) == (("wellbeing", "survey"), "2018-05-01", 523)


def test_a_reload_changes_what_it_is_given(wellbeing: Path) -> None:
    load(wellbeing / "store", wellbeing / "wellbeing.csv", "--name", "Findings", "--license", "CC-BY-4.0")
    with Store(wellbeing / "store") as store:
        info = store.info("wellbeing")
    assert (info.name, info.license, info.attribution) == ("Findings", "CC-BY-4.0", "City of Santa Monica")


def test_the_license_and_source_reach_every_description(wellbeing: Path) -> None:
    catalog_dir = wellbeing / "catalog"
    catalog_dir.mkdir()
    (catalog_dir / "findings.yaml").write_text(KPI)
    with Store(wellbeing / "store") as store:
        catalog = load_catalog(catalog_dir, store)
        entry = next(
            d for d in dcat_us(catalog, store, "http://x")["dataset"] if d["title"].startswith("Well")
        )
        assert entry["license"] == ODC_BY
        assert entry["publisher"]["name"] == "City of Santa Monica"
        assert entry["references"] == [SOURCE] and entry["modified"] == "2018-05-01"
        assert entry["keyword"] == ["wellbeing", "survey"]
        package = datapackage(catalog, store, "http://x")
        resource = next(r for r in package["resources"] if r["name"] == "dataset-wellbeing")
        assert resource["licenses"] == [{"name": "ODC-By-1.0", "path": ODC_BY}]
        assert resource["sources"] == [{"title": "City of Santa Monica", "path": SOURCE}]
        client = TestClient(create_app(store, catalog, Settings(write_token="t", warm_up=False)))
        view = client.get("/api/views/wellbeing.json").json()
        assert view["license"] == {"name": "ODC-By-1.0", "termsLink": ODC_BY}
        assert view["attributionLink"] == SOURCE
        page = client.get("/d/wellbeing").text
        assert f'<a href="{ODC_BY}" rel="license">ODC-By-1.0</a>' in page
        assert "Source last updated" in page and "2018-05-01" in page
        kpis = client.get("/api/kpis").json()
        card = next(
            k for k in (kpis if isinstance(kpis, list) else kpis["kpis"]) if k["id"] == "wellbeing-findings"
        )
        assert card["data_updated_at"].startswith("2018-05-01")  # the source's day, not the load's


def test_a_source_url_must_be_a_web_address(wellbeing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "load",
            str(wellbeing / "wellbeing.csv"),
            "--dataset",
            "wellbeing",
            "--store",
            str(wellbeing / "store"),
            "--source-url",
            "javascript:alert(1)",
        ]
    )
    assert code == 2
    assert "is not a web address" in capsys.readouterr().err


def test_a_datasets_block_in_the_catalog_reaches_data_json(tmp_path: Path, real_data: Path) -> None:
    """A synced dataset (Santa Monica's findings, read as a file) takes its license from catalog.yaml."""
    catalog_dir = tmp_path / "catalog"
    (catalog_dir / "files").mkdir(parents=True)
    shutil.copy(real_data / WELLBEING, catalog_dir / "files" / "wellbeing.csv")
    (catalog_dir / "catalog.yaml").write_text(
        "portals:\n  santa-monica: {kind: file, url: files}\n"
        "datasets:\n"
        f"  wellbeing: {{license: ODC-By-1.0, attribution: City of Santa Monica, source_url: '{SOURCE}',"
        " source_updated: 2018-05-01}\n"
    )
    (catalog_dir / "findings.yaml").write_text(KPI.replace("portal: local", "portal: santa-monica"))
    store_dir = tmp_path / "store"
    assert main(["sync", "--catalog", str(catalog_dir), "--store", str(store_dir)]) == 0
    out = tmp_path / "data.json"
    export = ["catalog", "export", str(catalog_dir), "--format", "dcat-us", "--store", str(store_dir)]
    assert main([*export, "-o", str(out)]) == 0

    entry = next(d for d in json.loads(out.read_text())["dataset"] if d["identifier"].endswith("/wellbeing"))
    assert entry["license"] == ODC_BY and entry["publisher"]["name"] == "City of Santa Monica"
    assert entry["modified"] == "2018-05-01"


def test_datasets_lists_the_store_and_shows_a_datasets_columns(
    wellbeing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(wellbeing / "store")
    capsys.readouterr()
    assert main(["datasets", "--store", store]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["id", "rows", "columns", "updated", "(UTC)", "name"]
    assert listing[1].split()[:3] == ["wellbeing", "523", "30"] and listing[1].endswith(
        "Wellbeing Index findings"
    )
    assert main(["datasets", "wellbeing", "--store", store]) == 0
    described = capsys.readouterr().out
    assert "license: ODC-By-1.0" in described and "source last updated: 2018-05-01" in described
    assert "  demographic_lens  text      Demographic Lens" in described
    assert "  zip90401          checkbox  zip90401" in described
    assert main(["datasets", "nope", "--store", store]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.parametrize("as_of", ["2019-01-01", None])
def test_data_json_modified_and_the_cards_data_updated_agree(
    tmp_path: Path, real_data: Path, as_of: str | None
) -> None:
    """Without a source-updated day, both say the day the store last changed, as of the as-of day."""
    from datetime import UTC, datetime

    store_dir = tmp_path / "store"
    load(store_dir, real_data / WELLBEING)
    catalog_dir = tmp_path / "catalog"
    catalog_dir.mkdir()
    (catalog_dir / "findings.yaml").write_text(KPI)
    if as_of:
        (catalog_dir / "catalog.yaml").write_text(f"as_of: {as_of}\n")
    with Store(store_dir) as store:
        loaded = store.info("wellbeing").rows_updated_at.date()
        client = TestClient(
            create_app(store, load_catalog(catalog_dir, store), Settings(write_token="t", warm_up=False))
        )
        document = client.get("/data.json").json()
        kpis = client.get("/api/kpis").json()
        dashboard = client.get("/").text
    entry = next(d for d in document["dataset"] if d["identifier"].endswith("/wellbeing"))
    card = next(
        k for k in (kpis if isinstance(kpis, list) else kpis["kpis"]) if k["id"] == "wellbeing-findings"
    )
    expected = as_of or datetime.now(UTC).date().isoformat()
    assert as_of or loaded.isoformat() == expected  # loaded just now: today is its day
    assert entry["modified"][:10] == card["data_updated_at"][:10] == expected
    assert "Data updated today" in dashboard  # the same day, counted to the as-of day
