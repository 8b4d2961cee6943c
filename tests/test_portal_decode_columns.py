"""The column-at-a-time decoder gives exactly the row-by-row decoder's table, or hands the body over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from btvstat_open.errors import BadRequestBody
from btvstat_open.portal.decode import decode_row_by_row, decode_rows
from btvstat_open.portal.decode.columns import decode_columns
from btvstat_open.store import DatasetInfo, Store
from btvstat_open.types import Column

COLUMNS = [
    Column("name", "Name", "text"),
    Column("n", "N", "number"),
    Column("flag", "Flag", "checkbox"),
    Column("opened", "Opened", "floating_timestamp"),
    Column("closed", "Closed", "fixed_timestamp"),
    Column("where", "Where", "point"),
    Column("link", "Link", "url"),
]


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatasetInfo]:
    with Store(Path(tmp_path_factory.mktemp("decode"))) as store:
        yield store.create("mixed", "Mixed", COLUMNS)


numbers = st.one_of(
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.from_regex(r"\A\s?[-+]?(\d{1,4}(\.\d{0,3})?|\.\d{1,3})([eE][-+]?\d{1,2})?\s?\Z"),
    st.booleans(),
    st.text(max_size=4),
)
moments = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="minutes")),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:\d{2})?\Z"),
    st.dates().map(str),
    st.integers(),
)
coordinate = st.one_of(
    st.floats(-180, 180).map(repr),
    st.floats(-1e-3, 1e-3).map(repr),
    st.sampled_from(["0", "-0", "1.0", "0.00005", "12", "-73.191755", "44.4673770", "1e-5"]),
)
points = st.one_of(
    st.tuples(coordinate, coordinate).map(lambda p: f"POINT ({p[0]} {p[1]})"),
    st.tuples(coordinate, coordinate).map(lambda p: f"point({p[0]}  {p[1]})"),
    st.just({"type": "Point", "coordinates": [1.5, 2]}),
    st.text(max_size=5),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(st.text(max_size=8), st.integers(), st.booleans()),
    "n": numbers,
    "flag": st.one_of(st.booleans(), st.sampled_from(["true", "0", "maybe"])),
    "opened": moments,
    "closed": moments,
    "where": points,
    "link": st.one_of(st.text(max_size=8), st.just({"url": "https://example.org"})),
    ":id": st.one_of(st.text(min_size=1, max_size=6), st.integers()),
    ":deleted": st.booleans(),
    "Name": st.text(max_size=4),
}
rows = st.lists(
    st.dictionaries(st.sampled_from(sorted(VALUES)), st.none(), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: st.one_of(st.none(), VALUES[k]) for k in keys})
    ),
    min_size=1,
    max_size=12,
)


PLAIN_NUMBERS = (
    st.one_of(st.integers(-(2**60), 2**60), st.floats(allow_nan=False, allow_infinity=False)),
    st.from_regex(r"\A[-+]?(\d{1,4}(\.\d{0,3})?|\.\d{1,3})([eE][-+]?\d{1,2})?\Z"),
)


plain_moments = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="milliseconds")),
    st.dates().map(str),
)
plain_coordinate = st.one_of(
    st.integers(-180, 180).map(str), st.floats(-180, 180).filter(lambda f: abs(f) >= 1e-4).map(repr)
)


@st.composite
def plain_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Bodies as a program sending a table makes them: one kind of value per column."""
    values: dict[str, st.SearchStrategy[Any]] = {
        "name": st.text(max_size=8),
        "n": draw(st.sampled_from(PLAIN_NUMBERS)),
        "flag": st.booleans(),
        "opened": plain_moments,
        "closed": plain_moments,
        "where": st.tuples(plain_coordinate, plain_coordinate).map(lambda p: f"POINT ({p[0]} {p[1]})"),
        "link": st.text(max_size=8),
        ":id": st.text(min_size=1, max_size=6),
    }
    row = st.fixed_dictionaries({}, optional={k: st.one_of(st.none(), v) for k, v in values.items()})
    return draw(st.lists(row, min_size=1, max_size=12))


def _row_by_row(body: list[dict[str, Any]], info: DatasetInfo) -> Any:
    try:
        return decode_row_by_row(body, info).table
    except BadRequestBody:
        return "refused"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(rows, plain_rows()))
def test_the_fast_path_agrees_with_the_row_by_row_path_or_steps_aside(
    body: list[dict[str, Any]], info: DatasetInfo
) -> None:
    fast = decode_columns(body, info)
    slow = _row_by_row(body, info)
    event("fast path" if fast is not None else "row by row")
    if fast is not None:
        assert not isinstance(slow, str), f"the fast path accepted a body the full decoder refuses: {body}"
        assert fast.equals(slow), f"{body}\n{fast}\n{slow}"


def test_plain_bodies_take_the_fast_path_with_the_same_result(info: DatasetInfo) -> None:
    body: list[dict[str, Any]] = [
        {
            ":id": f"row-{i}",
            "name": f"n{i}",
            "n": (1.5, 7)[i % 2],
            "flag": i % 2 == 0,
            "opened": "2022-08-25T03:22:24.429",
            "closed": "2024-01-31",
            "where": "POINT (-73.191755 44.467377)",
            "link": "https://example.org/a",
        }
        for i in range(300)
    ]
    body.append({"name": None})
    fast = decode_columns(body, info)
    assert fast is not None
    assert fast.equals(decode_row_by_row(body, info).table)
    assert fast.column("n").to_pylist()[:3] == [1.5, 7.0, 1.5]
    assert decode_rows(body, info).table.equals(fast)
    texts = [{"n": "36"}, {"n": "-0.5"}, {"n": None}]
    as_text = decode_columns(texts, info)
    assert as_text is not None and as_text.column("n").to_pylist() == [36.0, -0.5, None]


def test_a_number_with_odd_whitespace_is_a_named_bad_value(info: DatasetInfo) -> None:
    with pytest.raises(BadRequestBody, match="row 0 field 'n'"):
        decode_rows([{"n": "0\x1f"}], info)


@pytest.mark.parametrize(
    "body",
    [
        [{"Name": "display name"}],
        [{":id": "a", ":deleted": True}],
        [{"n": "36 apples"}],
        [{"n": True}],
        [{"name": 5}],
        [{"opened": "2024-01-31T00:00:00+05:00"}],
        [{"where": {"type": "Point", "coordinates": [1, 2]}}],
        [{"where": "POINT (1.0 2)"}],
        [{"nope": 1}],
        [{}],
    ],
)
def test_irregular_bodies_go_to_the_row_by_row_decoder(body: list[dict[str, Any]], info: DatasetInfo) -> None:
    assert decode_columns(body, info) is None
