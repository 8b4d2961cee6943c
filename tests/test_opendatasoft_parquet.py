"""Opendatasoft Parquet exports against the stand-in portal: same tables as CSV, faults, fallback."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest
from opendatasoft_standin import StandinOds
from servers import serve
from starlette.requests import Request
from starlette.responses import Response
from test_opendatasoft_standin import pull_big_cases_through_faults

from btvstat_open.errors import PortalError
from connectors.opendatasoft import OpendatasoftConnector
from connectors.testing import ConnectorContract, ContractSetup, source_table

STAMP = "2024-01-02T03:04:05+00:00"


def geo_table() -> pa.Table:
    """A geo_point_2d field (a {lon, lat} struct), with a null point and a leading-zero ZIP."""
    points = [{"lon": -73.229049818, "lat": 44.4479677374}, None, {"lon": -73.2, "lat": 44.4746724}]
    return pa.table(
        {
            "site": ["a", "b", "c"],
            "geo_point": pa.array(points, pa.struct([("lon", pa.float64()), ("lat", pa.float64())])),
            "zip": ["05401", None, "05408"],
        }
    )


def standin(offer_parquet: bool) -> StandinOds:
    ods = StandinOds(offer_parquet=offer_parquet)
    ods.put("contract-cases", source_table(), STAMP)
    ods.put("big-cases", source_table(20_000, salt="b"), STAMP)
    ods.put("trees", geo_table(), STAMP)
    return ods


@pytest.fixture(scope="module")
def both() -> Iterator[dict[str, tuple[str, StandinOds]]]:
    """Two portals with the same datasets: one offers Parquet exports, the other CSV only."""
    parquet, csv = standin(True), standin(False)
    with serve(parquet.app()) as parquet_url, serve(csv.app()) as csv_url:
        yield {"parquet": (parquet_url, parquet), "csv": (csv_url, csv)}


@pytest.fixture
def contract(both: dict[str, tuple[str, StandinOds]]) -> ContractSetup:
    url, _ = both["parquet"]
    return ContractSetup(OpendatasoftConnector(url), "contract-cases", None, source_table().num_rows)


class TestOpendatasoftParquetContract(ConnectorContract):
    """Every contract test, on the Parquet path (tests/test_opendatasoft_standin.py: the CSV path)."""


@pytest.mark.parametrize(
    ("dataset_id", "options"),
    [
        ("contract-cases", {}),
        ("contract-cases", {"where": "closed = true AND amount < 10", "order": "amount DESC"}),
        ("contract-cases", {"select": "case_id, opened", "order": "case_id"}),
        ("trees", {"order": "site"}),
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_parquet_and_csv_exports_give_equal_tables(
    both: dict[str, tuple[str, StandinOds]], dataset_id: str, options: dict[str, str], zone: str
) -> None:
    pulled = {}
    for fmt, (url, ods) in both.items():
        ods.log.clear()
        conn = OpendatasoftConnector(url, timezone=zone)
        pulled[fmt] = conn.pull(dataset_id, **options)  # type: ignore[arg-type]
        assert any(line.startswith(f"export{'-parquet' if fmt == 'parquet' else ''} ") for line in ods.log)
    by = "site" if dataset_id == "trees" else "case_id"
    assert pulled["parquet"].schema == pulled["csv"].schema
    assert pulled["parquet"].sort_by(by).equals(pulled["csv"].sort_by(by))
    assert pulled["parquet"].num_rows > 0
    if "opened" in pulled["csv"].column_names:  # the zone's wall time: 2023-07-01 00:00 UTC first
        first = pulled["csv"].sort_by("case_id").column("opened")[0].as_py()
        assert first.hour == (0 if zone == "UTC" else 20)


def test_geo_point_from_parquet_is_the_csv_paths_wkt_point(both: dict[str, tuple[str, StandinOds]]) -> None:
    url, _ = both["parquet"]
    trees = OpendatasoftConnector(url).pull("trees", order="site")
    assert trees.column("geo_point").to_pylist() == [
        "POINT (-73.229049818 44.4479677374)",
        None,
        "POINT (-73.2 44.4746724)",
    ]
    assert trees.column("zip").to_pylist() == ["05401", None, "05408"]


def test_formats_are_asked_once_per_dataset_and_csv_is_the_fallback(
    both: dict[str, tuple[str, StandinOds]],
) -> None:
    for fmt, (url, ods) in both.items():
        conn = OpendatasoftConnector(url)
        ods.log.clear()
        conn.pull("contract-cases")
        conn.pull("contract-cases", select="case_id")
        conn.pull("trees")
        assert [line for line in ods.log if line.startswith("exports ")] == [
            "exports contract-cases",
            "exports trees",
        ]
        exports = [line.split("?")[0] for line in ods.log if line.startswith("export")]
        kind = "export-parquet" if fmt == "parquet" else "export"
        assert exports.count(f"{kind} contract-cases") == 2 and f"{kind} trees" in exports
        assert ("parquet" in conn.export_formats("trees")) == (fmt == "parquet")


def test_a_portal_without_the_exports_listing_is_pulled_as_csv() -> None:
    ods = StandinOds(list_exports=False)
    ods.put("contract-cases", source_table(50), STAMP)
    with serve(ods.app()) as url:
        conn = OpendatasoftConnector(url)
        assert conn.pull("contract-cases").num_rows == 50
        assert conn.export_formats("contract-cases") == frozenset({"csv"})
    assert [line.split("?")[0] for line in ods.log if line.startswith("export")] == [
        "exports contract-cases",
        "export contract-cases",
    ]


def test_parquet_pulls_through_faults_give_exactly_the_source_rows(
    both: dict[str, tuple[str, StandinOds]],
) -> None:
    url, _ = both["parquet"]
    pull_big_cases_through_faults(url, "exports/parquet", seed=11)


class GarbledParquet(StandinOds):
    """A portal whose Parquet export is a complete answer that is not Parquet."""

    async def export_parquet(self, request: Request) -> Response:
        self.log.append(f"export-parquet {request.path_params['id']}")
        return Response(b"PAR1 this is not a parquet file", media_type="application/vnd.apache.parquet")


def test_a_parquet_export_that_does_not_parse_is_a_portal_error() -> None:
    ods = GarbledParquet()
    ods.put("contract-cases", source_table(10), STAMP)
    with (
        serve(ods.app()) as url,
        pytest.raises(PortalError, match=r"Parquet export of 'contract-cases'") as bad,
    ):
        OpendatasoftConnector(url).pull("contract-cases")
    assert bad.value.code == "opendatasoft.bad-export"
    assert ods.log.count("export-parquet contract-cases") == 1  # not asked again: it would not help
