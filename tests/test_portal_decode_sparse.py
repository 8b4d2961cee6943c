"""Write bodies whose rows name different fields decode into aligned columns (nulls where absent)."""

from __future__ import annotations

from pathlib import Path

from btvstat_open.portal.decode import decode_rows
from btvstat_open.store import Store
from btvstat_open.types import Column


def test_fields_missing_from_some_rows_are_null_in_those_rows(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        info = store.create("sparse", "Sparse", [Column("a", "A", "number"), Column("b", "B", "text")])
        rows = [{"a": "1"}, {"b": "x"}, {"a": 2, "b": "y"}, {}, {"b": None}] + [{"a": i} for i in range(1000)]
        table = decode_rows(rows, info, allow_deleted=True).table
    assert table.column("a").to_pylist() == [1.0, None, 2.0, None, None] + [float(i) for i in range(1000)]
    assert table.column("b").to_pylist() == [None, "x", "y", None, None] + [None] * 1000
