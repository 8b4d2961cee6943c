"""Write bodies as sent (a JSON array of row objects, or CSV with a header) to a list of rows.

The rows are typed afterwards by :mod:`btvstat_open.portal.decode`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from btvstat_open.errors import BadRequestBody

__all__ = ["MAX_LISTED_ERRORS", "parse_body"]

MAX_LISTED_ERRORS = 50  # bad rows listed in an error body; the count says how many in all


def parse_body(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The rows of a write body: a JSON array (or one object) or CSV with a header of field names.

    Example:
        >>> parse_body(b'[{"a": "1"}]', "application/json")
        [{'a': '1'}]
        >>> parse_body(b'a,b\\n1,\\n', "text/csv")
        [{'a': '1', 'b': None}]
    """
    kind = content_type.split(";")[0].strip().lower()
    stripped = body.lstrip()
    if kind in ("text/csv", "application/csv") or (
        kind not in ("application/json",) and stripped[:1] not in (b"[", b"{")
    ):
        return _parse_csv(body)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestBody(
            f"The body is not valid JSON: {exc}. Send a JSON array of row objects."
        ) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise BadRequestBody("The body must be a JSON array of row objects (or CSV with a header row).")
    bad = [i for i, row in enumerate(data) if not isinstance(row, dict)]
    if bad:
        listed = bad[:MAX_LISTED_ERRORS]
        raise BadRequestBody(
            f"Rows {listed} are not JSON objects; each row must be an object of field: value.",
            data={"errors": [{"row": i, "field": None, "message": "not an object"} for i in listed]},
        )
    return data


def _parse_csv(body: bytes) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequestBody(f"The CSV body is not UTF-8 (byte {exc.start}); save it as UTF-8.") from None
    # Python's csv refuses cells over 128 KiB by default; the body is already bounded by
    # max_body_bytes, so any cell that fits in it is accepted (the limit is process-wide and only
    # ever raised here).
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _csv_rows(reader)
    except csv.Error as exc:
        raise BadRequestBody(
            f"The CSV body cannot be read near line {reader.line_num}: {exc}. Quote cells that hold "
            'commas, quotes or line breaks ("a ""b"" c"), and double the quotes inside them.'
        ) from None


def _csv_rows(reader: Any) -> list[dict[str, Any]]:
    try:
        header = next(reader)
    except StopIteration:
        return []
    rows: list[dict[str, Any]] = []
    for number, record in enumerate(reader):
        if not any(record):
            continue
        if len(record) != len(header):
            raise BadRequestBody(
                f"CSV row {number} has {len(record)} cells but the header has {len(header)}.",
                data={"errors": [{"row": number, "field": None, "message": "wrong number of cells"}]},
            )
        rows.append({name: (cell if cell != "" else None) for name, cell in zip(header, record, strict=True)})
    return rows
