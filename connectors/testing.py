"""The connector contract suite: what every connector must do, whatever the portal kind.

It ships in the package so that every portal kind here, and connectors written elsewhere,
run the same tests (it needs pytest). Subclass :class:`ConnectorContract` and provide a
``contract`` fixture returning a :class:`ContractSetup`: a connector, a readable dataset
holding ``source_table()`` rows, and (for kinds that can ``push``) an empty writable dataset
with the same columns (row identifier ``case_id``). Tests of a capability the connector does
not declare check instead that the verb raises :class:`~btvstat_open.errors.NotSupported`.

Example:
    >>> from connectors.testing import CONTRACT_COLUMNS, source_table
    >>> source_table(3).column_names == [c.field_name for c in CONTRACT_COLUMNS]
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from btvstat_open.errors import BtvstatError, NotSupported
from btvstat_open.instants import instant
from btvstat_open.types import Column
from connectors.base import Capability, Connector

__all__ = ["CONTRACT_COLUMNS", "ConnectorContract", "ContractSetup", "source_table"]

CONTRACT_COLUMNS = (
    Column("case_id", "Case ID", "text"),
    Column("amount", "Amount", "number"),
    Column("opened", "Opened", "floating_timestamp"),
    Column("closed", "Closed", "checkbox"),
)


def source_table(n: int = 2_345, salt: str = "") -> pa.Table:
    """Rows with a leading-zero text key, numbers, timestamps, booleans and some nulls."""
    base = datetime(2023, 7, 1)
    return pa.table(
        {
            "case_id": [f"{salt}{i:06d}" for i in range(n)],
            "amount": [None if i % 17 == 0 else i / 8 for i in range(n)],
            "opened": pa.array([base + timedelta(minutes=7 * i) for i in range(n)], pa.timestamp("us")),
            "closed": [i % 3 == 0 for i in range(n)],
        }
    )


@dataclass
class ContractSetup:
    """What the suite runs against: a connector, its readable dataset and its row count.

    ``writable_id`` is an empty dataset with the contract columns, for kinds that can push.
    """

    connector: Connector
    dataset_id: str
    writable_id: str | None
    rows: int

    def requires(self, capability: Capability) -> bool:
        """True when the connector declares ``capability``; otherwise checks the verb refuses."""
        if self.connector.supports(capability):
            return True
        with pytest.raises(NotSupported) as refused:
            if capability == "push":
                self.connector.push(source_table(1), self.dataset_id)
            elif capability == "create":
                self.connector.create("x", CONTRACT_COLUMNS)
            else:
                self.connector.row_stats(self.dataset_id)
        assert refused.value.capability == capability and refused.value.message
        return False


def _sorted(table: pa.Table) -> pa.Table:
    return table.select([c.field_name for c in CONTRACT_COLUMNS]).sort_by("case_id")


class ConnectorContract:
    """Tests every connector must pass (pytest collects them from a subclass)."""

    def test_describe(self, contract: ContractSetup) -> None:
        desc = contract.connector.describe(contract.dataset_id)
        assert [(c.field_name, c.data_type) for c in desc.columns] == [
            (c.field_name, c.data_type) for c in CONTRACT_COLUMNS
        ]
        assert desc.row_count == contract.rows
        assert desc.arrow_schema.field("opened").type == pa.timestamp("us")

    def test_datasets_lists_it(self, contract: ContractSetup) -> None:
        assert contract.dataset_id in {d.id for d in contract.connector.datasets(limit=100)}

    def test_pull_is_every_row_typed(self, contract: ContractSetup) -> None:
        table = contract.connector.pull(contract.dataset_id)
        assert _sorted(table).equals(_sorted(source_table(contract.rows)))

    def test_iter_batches_streams_record_batches(self, contract: ContractSetup) -> None:
        batches = list(contract.connector.iter_batches(contract.dataset_id, where="amount > 100"))
        assert batches and all(isinstance(b, pa.RecordBatch) for b in batches)
        got = pa.Table.from_batches(batches)
        expected = source_table(contract.rows).filter(
            pa.compute.greater(source_table(contract.rows)["amount"], 100)
        )
        assert _sorted(got).equals(_sorted(expected))

    def test_select_and_order(self, contract: ContractSetup) -> None:
        table = contract.connector.pull(contract.dataset_id, select="case_id, amount", order="case_id DESC")
        assert table.column_names == ["case_id", "amount"]
        ids = table.column("case_id").to_pylist()
        assert ids == sorted(ids, reverse=True) and len(ids) == contract.rows

    @pytest.mark.parametrize("suffix", [".parquet", ".csv"])
    def test_pull_to_writes_whole_files(self, contract: ContractSetup, tmp_path: Path, suffix: str) -> None:
        path = tmp_path / f"out{suffix}"
        result = contract.connector.pull_to(contract.dataset_id, path)
        assert result.rows == contract.rows and result.path == path
        if suffix == ".parquet":
            back = pq.read_table(path)
        else:
            types = {c.field_name: c.arrow_field.type for c in CONTRACT_COLUMNS}
            back = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
        assert _sorted(back).equals(_sorted(source_table(contract.rows)))
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left

    def test_failed_pull_leaves_the_old_file(self, contract: ContractSetup, tmp_path: Path) -> None:
        path = tmp_path / "keep.parquet"
        path.write_bytes(b"previous output")
        with pytest.raises(BtvstatError):
            contract.connector.pull_to("no-such-dataset", path)
        assert path.read_bytes() == b"previous output"
        assert [p.name for p in tmp_path.iterdir()] == ["keep.parquet"]

    def test_push_upsert_replace_and_delete(self, contract: ContractSetup) -> None:
        if not contract.requires("push"):
            return
        conn, target = contract.connector, contract.writable_id
        assert target is not None, "a connector that can push needs a writable dataset"
        first = conn.push(source_table(300), target, mode="replace", batch_size=128)
        assert (first.created, first.batches, first.errors) == (300, 3, 0)
        changed = source_table(350).slice(250)  # 50 existing rows, 50 new
        second = conn.push(changed, target, mode="upsert")
        assert (second.created, second.updated) == (50, 50)
        doomed = source_table(10).select(["case_id"]).append_column(":deleted", pa.array([True] * 10))
        third = conn.push(doomed, target)
        assert third.deleted == 10
        assert _sorted(conn.pull(target)).equals(_sorted(source_table(350).slice(10)))
        # replace leaves exactly the new rows
        conn.push(source_table(40, salt="r"), target, mode="replace")
        assert _sorted(conn.pull(target)).equals(_sorted(source_table(40, salt="r")))

    def test_row_stats_and_changes(self, contract: ContractSetup) -> None:
        if not contract.requires("changes"):
            return
        count, latest = contract.connector.row_stats(contract.dataset_id)
        assert count == contract.rows and latest is not None
        changes = pa.Table.from_batches(
            list(contract.connector.iter_changes(contract.dataset_id, columns=["case_id"], since=latest))
        )
        assert changes.column_names == [":id", ":updated_at", "case_id"] and changes.num_rows >= 1
        at_latest, _ = contract.connector.row_stats(contract.dataset_id, since=latest, before=latest)
        assert at_latest == 0  # an empty window
        stamp = instant(latest)
        window = (stamp + timedelta(milliseconds=1)).isoformat()
        in_window, newest = contract.connector.row_stats(contract.dataset_id, since=latest, before=window)
        assert in_window == changes.num_rows and newest == latest
        later = instant(latest) + timedelta(seconds=1)
        assert not list(
            contract.connector.iter_changes(contract.dataset_id, columns=[], since=later.isoformat())
        )

    def test_create_then_push(self, contract: ContractSetup) -> None:
        if not contract.requires("create"):
            return
        conn = contract.connector
        wanted = f"{contract.writable_id}-new"
        created = conn.create(
            "Created by the contract", CONTRACT_COLUMNS, dataset_id=wanted, row_identifier="case_id"
        )
        assert created.id  # a portal may choose the id; everything below uses the one it gave
        described = conn.describe(created.id)
        assert [(c.field_name, c.data_type) for c in described.columns] == [
            (c.field_name, c.data_type) for c in CONTRACT_COLUMNS
        ]
        assert described.row_identifier == "case_id" and described.row_count == 0
        pushed = conn.push(source_table(25), created.id)
        assert pushed.created == 25 and pushed.dataset_id == created.id
        assert _sorted(conn.pull(created.id)).equals(_sorted(source_table(25)))
