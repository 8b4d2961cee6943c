"""Every dataset has a Socrata-style 4x4 id beside its readable one, accepted on every route.

Driven over real HTTP with sodapy and requests; an old store (from before 4x4s) gains ids on
upgrade without losing a row. The SODA 1 paths (``/views/...``) answer as ``/api/views`` does.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import requests
import sodapy
from widget_site import Site, get

from btvstat_open.errors import UsageError
from btvstat_open.store import Store
from btvstat_open.store.fourbyfour import derive_four_by_four
from btvstat_open.types import Column

KC = "kc-311-potholes"
FORM = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")


def _sodapy(portal_url: str, token: str | None = None) -> sodapy.Socrata:
    client = sodapy.Socrata(
        portal_url.removeprefix("http://"), None, username="any" if token else None, password=token
    )
    client.uri_prefix = "http://"
    return client


def test_every_dataset_has_a_four_by_four_shown_by_the_catalog_apis(
    portal_url: str, portal_store: Store
) -> None:
    infos = portal_store.datasets()
    fxfs = {info.id: info.four_by_four for info in infos}
    assert all(FORM.match(f) for f in fxfs.values()) and len(set(fxfs.values())) == len(fxfs)
    assert fxfs[KC] == derive_four_by_four(KC)  # derived: the same store loaded twice gets the same
    results = requests.get(f"{portal_url}/api/catalog/v1", params={"limit": 1000}, timeout=30).json()[
        "results"
    ]
    public = {info.id for info in infos if info.public}  # other tests may leave private datasets
    assert {r["resource"]["id"]: r["resource"]["fourByFour"] for r in results} == {
        i: f for i, f in fxfs.items() if i in public
    }
    by_fxf = requests.get(f"{portal_url}/api/catalog/v1", params={"ids": fxfs[KC]}, timeout=30).json()
    assert [r["resource"]["id"] for r in by_fxf["results"]] == [KC]
    found = requests.get(f"{portal_url}/api/catalog/v1", params={"q": fxfs[KC]}, timeout=30).json()
    assert [r["resource"]["id"] for r in found["results"]] == [KC]  # search finds it by its 4x4
    meta = requests.get(f"{portal_url}/api/views/metadata/v1/{fxfs[KC]}", timeout=30).json()
    assert meta["id"] == KC and meta["fourByFour"] == fxfs[KC]


def test_sodapy_reads_and_describes_by_the_four_by_four(portal_url: str, portal_store: Store) -> None:
    fxf = portal_store.info(KC).four_by_four
    with _sodapy(portal_url) as client:
        assert client.get(fxf, order="case_id", limit=50) == client.get(KC, order="case_id", limit=50)
        view = client.get_metadata(fxf)
        # Asked by the 4x4, the view names it as its id (clients that check the form get it back).
        assert view["id"] == view["fourByFour"] == fxf and view["resourceName"] == KC
        assert client.get_metadata(KC)["id"] == KC
        assert client.get(fxf, where="days_to_close > 100", select="count(*) AS n") == client.get(
            KC, where="days_to_close > 100", select="count(*) AS n"
        )


@pytest.mark.parametrize(
    "path",
    [
        "/resource/{id}.csv?$order=case_id&$limit=20",
        "/resource/{id}.geojson?$limit=3&$order=case_id",
        "/resource/{id}/2020002530.json",
        "/api/views/{id}/rows.csv",
        "/api/v3/views/{id}/query.json?query=SELECT%20case_id%20ORDER%20BY%20case_id%20LIMIT%204",
        "/d/{id}",
    ],
)
def test_every_read_route_accepts_the_four_by_four(portal_url: str, portal_store: Store, path: str) -> None:
    fxf = portal_store.info(KC).four_by_four
    by_name = requests.get(portal_url + path.format(id=KC), timeout=60)
    by_fxf = requests.get(portal_url + path.format(id=fxf), timeout=60)
    assert by_name.status_code == 200, by_name.text
    assert by_fxf.status_code == 200, by_fxf.text
    if path.startswith("/d/"):
        assert f"<code>{fxf}</code>" in by_fxf.text and by_fxf.text == by_name.text
    else:
        assert by_fxf.content == by_name.content


def test_writes_accept_the_four_by_four(portal_url: str, portal_store: Store, write_token: str) -> None:
    info = portal_store.create("fxf-writes", "Writes by 4x4", [Column("k", "K", "text")], row_identifier="k")
    with _sodapy(portal_url, write_token) as client:
        result = client.upsert(info.four_by_four, [{"k": "a"}, {"k": "b"}])
        assert result["Rows Created"] == 2
        client.delete(info.four_by_four, row_id="a")
        assert client.get("fxf-writes") == [{"k": "b"}]
        client.update_metadata(info.four_by_four, {"description": "by 4x4"})
    assert portal_store.info("fxf-writes").description == "by 4x4"
    assert portal_store.info("fxf-writes").four_by_four == info.four_by_four
    gone = requests.delete(
        f"{portal_url}/api/views/{info.four_by_four}.json", auth=("any", write_token), timeout=30
    )
    assert gone.status_code == 200 and not portal_store.exists("fxf-writes")
    assert requests.get(f"{portal_url}/resource/{info.four_by_four}.json", timeout=30).status_code == 404


def test_a_store_from_before_four_by_fours_gains_them_without_losing_rows(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.load("old-one", pa.table({"n": [1.0, 2.0]}), [Column("n", "N", "number")])
    store.load("abcd-1234", pa.table({"n": [3.0]}), [Column("n", "N", "number")])
    before = {i.id: (store.arrow(i.id).to_pylist(), i.version) for i in store.datasets()}
    store.close()
    with duckdb.connect(str(tmp_path / "store.duckdb")) as con:  # as a store written before 4x4s
        con.execute("DROP TABLE btvstat_dataset_ids")
    upgraded = Store(tmp_path)
    after = {i.id: (upgraded.arrow(i.id).to_pylist(), i.version) for i in upgraded.datasets()}
    assert after == before
    assert upgraded.info("abcd-1234").four_by_four == "abcd-1234"  # a 4x4 already is its own
    fxf = upgraded.info("old-one").four_by_four
    assert FORM.match(fxf) and upgraded.resolve(fxf) == "old-one"
    upgraded.close()
    assert Store(tmp_path).info("old-one").four_by_four == fxf  # assigned once, kept


def test_a_chosen_four_by_four_is_kept_and_may_not_name_another_dataset(tmp_path: Path) -> None:
    store = Store(tmp_path)
    cols = [Column("n", "N", "number")]
    assert (
        store.load("counts", pa.table({"n": [1.0]}), cols, four_by_four="cnts-2020").four_by_four
        == "cnts-2020"
    )
    assert store.load("counts", pa.table({"n": [2.0]}), cols).four_by_four == "cnts-2020"  # reload keeps it
    with pytest.raises(UsageError, match="already names another dataset"):
        store.load("other", pa.table({"n": [1.0]}), cols, four_by_four="cnts-2020")
    assert not store.exists("other")  # nothing written
    with pytest.raises(UsageError, match="is the 4x4 id of dataset 'counts'"):
        store.load("cnts-2020", pa.table({"n": [1.0]}), cols)
    assert not store.exists("cnts-2020") and store.resolve("cnts-2020") == "counts"


def test_soda1_paths_answer_as_api_views(portal_url: str, portal_store: Store) -> None:
    fxf = portal_store.info(KC).four_by_four
    for ident in (KC, fxf):
        old = requests.get(f"{portal_url}/views/{ident}.json", timeout=30)
        new = requests.get(f"{portal_url}/api/views/{ident}.json", timeout=30)
        assert old.status_code == 200 and old.json() == new.json()
        old_csv = requests.get(f"{portal_url}/views/{ident}/rows.csv?accessType=DOWNLOAD", timeout=60)
        assert old_csv.content == requests.get(f"{portal_url}/api/views/{ident}/rows.csv", timeout=60).content
    assert requests.get(f"{portal_url}/views/no-such-set.json", timeout=30).status_code == 404


def test_legacy_rows_json_zips_names_with_values(portal_url: str, portal_store: Store) -> None:
    fxf = portal_store.info(KC).four_by_four
    doc = requests.get(f"{portal_url}/views/{fxf}/rows.json", timeout=60).json()
    assert doc == requests.get(f"{portal_url}/api/views/{fxf}/rows.json", timeout=60).json()
    names = [c["fieldName"] for c in doc["meta"]["view"]["columns"]]
    assert names[:2] == [":sid", ":id"] and doc["meta"]["view"]["id"] == fxf
    assert len(doc["data"]) == portal_store.info(KC).row_count
    rows = {r["case_id"]: r for r in (dict(zip(names, row, strict=True)) for row in doc["data"])}
    exported = list(
        csv.DictReader(
            io.StringIO(requests.get(f"{portal_url}/resource/{KC}.csv?$limit=5000", timeout=60).text)
        )
    )
    assert len(rows) == len(exported)
    for row in exported[:50]:
        got = rows[row["case_id"]]
        assert {k: ("" if got[k] is None else got[k]) for k in ("status", "days_to_close")} == {
            "status": row["status"],
            "days_to_close": row["days_to_close"],
        }


def test_the_one_server_takes_the_four_by_four_on_downloads_and_pages(site: Site) -> None:
    """The widgets' downloads (``/datasets/``) and the portal's pages in the one server."""
    fxf = site.store.info(KC).four_by_four
    for path in (
        "/datasets/{id}.csv",
        "/datasets/{id}.parquet",
        "/resource/{id}.json?$limit=3&$order=case_id",
    ):
        by_name, by_fxf = get(site, path.format(id=KC)), get(site, path.format(id=fxf))
        assert by_name.status_code == by_fxf.status_code == 200
        assert by_fxf.content == by_name.content
    assert get(site, "/datasets/zzzz-zzzz.csv").status_code == 404
