"""The Opendatasoft connector on real Burlington (BTVStat) CSV exports, served byte for byte.

The exports (tests/data/real/opendatasoft-burlington-btvstat) are the recordings. No Explore v2.1
dataset answer was recorded for them, so the schemas the replay serves
(tests/data/opendatasoft/*.dataset.json) were written for these tests from the exports' headers
and values, and are marked ``X-Replay-Constructed``. An export is served only to a request
without ``where``/``select``/``order_by`` (the recorded exports are whole).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.opendatasoft import OpendatasoftConnector
from connectors.opendatasoft.exports import columns_from_fields, read_export

HERE = Path(__file__).parent / "data"
EXPORTS = HERE / "real" / "opendatasoft-burlington-btvstat"
SCHEMAS = HERE / "opendatasoft"
BASE = "/api/explore/v2.1/catalog/datasets"


class OdsReplay:
    def __init__(self) -> None:
        self.log: list[str] = []

    async def dataset(self, request: Request) -> Response:
        path = SCHEMAS / f"{request.path_params['id']}.dataset.json"
        if not path.exists():
            return Response(b'{"error_code": "DatasetNotFound"}', 404, media_type="application/json")
        return Response(
            path.read_bytes(), media_type="application/json", headers={"X-Replay-Constructed": "1"}
        )

    async def export(self, request: Request) -> Response:
        self.log.append(str(request.query_params))
        path = EXPORTS / f"{request.path_params['id']}.csv"
        if any(k in request.query_params for k in ("where", "select", "order_by")) or not path.exists():
            return Response(b'{"error_code": "NotRecorded"}', 404, media_type="application/json")
        return Response(path.read_bytes(), media_type="text/csv; charset=utf-8")


@pytest.fixture(scope="module")
def tables() -> Iterator[dict[str, pa.Table]]:
    app = OdsReplay()
    routes = [Route(BASE + "/{id}", app.dataset), Route(BASE + "/{id}/exports/csv", app.export)]
    with serve(Starlette(routes=routes)) as url:
        conn = OpendatasoftConnector(url)
        yield {name: conn.pull(name) for name in ("planting-sites", "child-care-locations")}


def test_semicolons_without_quoting_keep_commas_inside_values(tables: dict[str, pa.Table]) -> None:
    trees = tables["planting-sites"]
    assert trees.num_rows == 12_836
    species = trees.column("species").to_pylist()
    assert "linden,littleleaf" in species and "mapl,norway" in species


def test_crlf_line_ends_leave_no_carriage_return(tables: dict[str, pa.Table]) -> None:
    assert b"\r\n" in (EXPORTS / "planting-sites.csv").read_bytes()[:300]
    trees = tables["planting-sites"]
    assert trees.schema.field("planted").type == pa.float64() and trees.column("planted").null_count == 0
    assert not any(v.endswith("\r") for v in trees.column("species").to_pylist() if v)


def test_geo_point_lat_lon_text_becomes_a_wkt_point(tables: dict[str, pa.Table]) -> None:
    trees = tables["planting-sites"]
    assert trees.column_names[0] == "geo_point"  # the header says "Geo Point": the label
    assert trees.column("geo_point")[0].as_py() == "POINT (-73.229049818 44.4479677374)"
    assert trees.column("geo_point").null_count == 0


def test_empty_cell_is_null(tables: dict[str, pa.Table]) -> None:
    assert tables["planting-sites"].column("park").null_count == 9_349


def test_double_written_with_point_zero_is_a_number(tables: dict[str, pa.Table]) -> None:
    appraise = tables["planting-sites"].column("appraise")
    assert appraise.type == pa.float64() and appraise[1].as_py() == 240.0 and appraise[0].as_py() == 2470.0


def test_year_month_dates_are_the_first_of_the_month(tables: dict[str, pa.Table]) -> None:
    modified = tables["planting-sites"].column("modified")
    assert modified.type == pa.timestamp("us") and modified.null_count == 0
    assert modified[0].as_py() == datetime(2013, 10, 1)


def test_planted_zero_for_unknown_stays_zero(tables: dict[str, pa.Table]) -> None:
    planted = tables["planting-sites"].column("planted")
    assert pc.sum(pc.equal(planted, 0)).as_py() == 10_956  # the portal's value, not turned into null


def test_snake_case_geo_point_zip_with_leading_zero_times_and_dates(tables: dict[str, pa.Table]) -> None:
    care = tables["child-care-locations"]
    assert care.num_rows == 58
    first = care.slice(0, 1).to_pylist()[0]
    assert first["geo_point"] == "POINT (-73.214781035 44.4746724)"
    assert first["zip_code"] == "05401" and care.schema.field("zip_code").type == pa.string()
    assert first["usual_program_start"] == "14:30:00"  # a time of day: text, as written
    assert first["current_license_start_date"] == datetime(2020, 1, 19)
    assert first["provider_id"] == 222417.0


def test_export_without_bom_and_with_bom_read_alike(tmp_path: Path, tables: dict[str, pa.Table]) -> None:
    raw = (EXPORTS / "child-care-locations.csv").read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8)
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(codecs.BOM_UTF8 + raw)
    fields = orjson.loads((SCHEMAS / "child-care-locations.dataset.json").read_bytes())["fields"]
    table = pa.Table.from_batches(list(read_export(with_bom, columns_from_fields(fields))))
    assert table.equals(tables["child-care-locations"])
