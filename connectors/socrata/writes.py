"""Writing to Socrata: publish rows (upsert, replace, delete) and create datasets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from btvstat_open.errors import UsageError
from btvstat_open.store import check_dataset_id
from btvstat_open.types import Column
from connectors.base import DatasetDescription, PushMode, PushResult
from connectors.http import HttpClient, parse_json
from connectors.socrata.answers import view_or_refuse
from connectors.socrata.describe import SocrataMetadata
from connectors.socrata.metadata import description_from_view
from connectors.socrata.push import BodyFormat, push_table, read_push_data

__all__ = ["SocrataWrites", "view_payload"]


def view_payload(
    name: str,
    columns: Sequence[Column],
    *,
    dataset_id: str | None = None,
    row_identifier: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    """The ``POST /api/views.json`` body that creates a dataset, as sodapy's ``create`` sends it.

    Example:
        >>> body = view_payload("KPIs", [Column("row_key", "Row key", "text")], row_identifier="row_key")
        >>> body["columns"][0]["dataTypeName"], body["metadata"]
        ('text', {'rowIdentifier': 'row_key'})
    """
    if not name.strip():
        raise UsageError("A new dataset needs a name.")
    names = [c.field_name for c in columns]
    if row_identifier is not None and row_identifier not in names:
        raise UsageError(f"Row identifier {row_identifier!r} is not one of the columns {names}.")
    payload: dict[str, Any] = {
        "name": name,
        "description": description,
        "columns": [
            {
                "fieldName": c.field_name,
                "name": c.name,
                "dataTypeName": c.data_type,
                "description": c.description,
            }
            for c in columns
        ],
    }
    if row_identifier is not None:
        payload["metadata"] = {"rowIdentifier": row_identifier}
    if dataset_id is not None:
        payload["id"] = check_dataset_id(dataset_id)
    return payload


class SocrataWrites:
    """The write verbs of the Socrata connector: ``push`` and ``create``.

    It holds the connector's HTTP client and its metadata half (a push checks the row identifier).

    Example:
        >>> from connectors.http import HttpClient
        >>> http = HttpClient("http://127.0.0.1:8000")
        >>> SocrataWrites(http, SocrataMetadata(http), push_batch_size=5000).push_batch_size
        5000
    """

    def __init__(self, http: HttpClient, meta: SocrataMetadata, *, push_batch_size: int = 10_000) -> None:
        self.http = http
        self.meta = meta
        self.push_batch_size = push_batch_size

    def push(
        self,
        data: Any,
        dataset_id: str,
        *,
        mode: PushMode = "upsert",
        row_id: str | None = None,
        batch_size: int | None = None,
        body: BodyFormat = "json",
    ) -> PushResult:
        """Upsert or replace rows in batches; rows with a true ``:deleted`` are deleted.

        Re-running a push after a failure is safe: ``replace`` starts from a clean replace,
        and keyed upserts (a row identifier or ``:id`` in every row) overwrite what they wrote.
        An upsert whose rows carry no key cannot be sent twice without doubling rows, so a 5xx
        or a dropped connection ends it with an error instead of a retry.

        Example:
            >>> import pyarrow as pa
            >>> from connectors import connect
            >>> writer = connect(push_url, username="btvstat", password=write_token)  # a local portal
            >>> table = pa.table({"row_key": ["a", "b"], "value": [1.0, 2.0]})
            >>> writer.push(table, writable_id, mode="replace").created
            2
        """
        check_dataset_id(dataset_id)
        table = read_push_data(data)
        # No metadata route (the write route may still exist): the row identifier is unknown.
        desc = self.meta.describe_or_blank(dataset_id)
        if row_id is not None:
            if row_id not in table.column_names:
                raise UsageError(
                    f"row_id={row_id!r} is not a column of the data; columns: {table.column_names}"
                )
            if row_id != ":id" and desc.row_identifier != row_id:
                raise UsageError(
                    f"Dataset {dataset_id!r} identifies rows by {desc.row_identifier or ':id'!r}, "
                    f"not {row_id!r}; set its row identifier on the portal, or push without row_id=."
                )
        key = row_id or desc.row_identifier or ":id"
        keyed = key in table.column_names and table.column(key).null_count == 0

        def send(method: str, path: str, payload: bytes, content_type: str, idempotent: bool) -> Any:
            _, answer = self.http.request(
                method,
                path,
                data=payload,
                headers={"Content-Type": content_type},
                parse=parse_json,
                idempotent=idempotent,
            )
            return answer

        return push_table(
            send,
            table,
            dataset_id,
            mode=mode,
            batch_size=batch_size or self.push_batch_size,
            body=body,
            keyed=keyed,
        )

    def create(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        dataset_id: str | None = None,
        row_identifier: str | None = None,
        description: str = "",
    ) -> DatasetDescription:
        """Create an empty dataset (``POST /api/views.json``); returns the portal's description of it.

        btvstat-open's local portal uses ``dataset_id`` when given; Socrata chooses the id
        itself, so push to the returned ``.id``. Creating is not retried after a 5xx or a
        dropped connection (it might create two datasets).

        Example:
            >>> cols = [Column("row_key", "Row key", "text"), Column("value", "Value", "number")]
            >>> from connectors import connect
            >>> writer = connect(push_url, username="btvstat", password=write_token)  # a local portal
            >>> writer.create("KPI series", cols, row_identifier="row_key").id  # an id of the portal's
            '...-...'
        """
        payload = view_payload(
            name, columns, dataset_id=dataset_id, row_identifier=row_identifier, description=description
        )

        def parse(resp: requests.Response) -> DatasetDescription:
            return description_from_view(
                view_or_refuse(parse_json(resp), "POST /api/views.json", self.http.url)
            )

        _, desc = self.http.request(
            "POST", "/api/views.json", json_body=payload, parse=parse, idempotent=False
        )
        assert desc is not None
        return desc
