"""A DataStore resource's content fingerprint: how a sync sees a change that moves no metadata.

CKAN's ``datastore_upsert`` (method ``update``) changes rows without touching the package's
``metadata_modified``, the resource's ``last_modified`` or the row count, and a delete plus an
insert in one interval leaves the count as it was. So the validators a sync compares carry a
fingerprint of the rows themselves:

* where the site runs ``datastore_search_sql`` (``md5``, ``string_agg`` and ``row_to_json`` are
  on CKAN's allow-list of SQL functions), one query: the row count and the md5 of every row's
  md5 in ``_id`` order, computed by the database (``sql:COUNT:MD5``);
* elsewhere, every row is read through ``datastore_search`` and hashed here (``rows:COUNT:SHA``):
  a full re-pull compared with the last one, so a sync with nothing changed still says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyarrow as pa

from btvstat_open.errors import PortalAuthError, PortalRequestError
from connectors.ckan.query import quote_name

__all__ = ["fingerprint_sql", "rows_fingerprint", "sql_refused"]


def fingerprint_sql(resource_id: str) -> str:
    """The ``datastore_search_sql`` statement whose one row is ``n`` (rows) and ``fp`` (md5).

    Example:
        >>> print(fingerprint_sql("5b1c"))  # doctest: +NORMALIZE_WHITESPACE
        SELECT count(*) AS n, md5(string_agg(md5(row_to_json(t)::text), '' ORDER BY t."_id")) AS fp
        FROM "5b1c" t
    """
    return (
        "SELECT count(*) AS n, md5(string_agg(md5(row_to_json(t)::text), '' ORDER BY t.\"_id\")) AS fp "
        f"FROM {quote_name(resource_id)} t"
    )


def sql_refused(exc: PortalAuthError | PortalRequestError) -> bool:
    """Whether an error means the site does not run ``datastore_search_sql`` (or not this query).

    CKAN answers 400 for an action it does not know, 403 where SQL search is off or a function
    is not on its allow-list, 409 for SQL it refuses.
    """
    return exc.status in (400, 403, 409) or "not known" in exc.message.lower()


def rows_fingerprint(batches: Iterable[pa.RecordBatch]) -> str:
    """``rows:COUNT:SHA256`` of every row, hashed in the order read (``_id`` order).

    Example:
        >>> rows_fingerprint([pa.record_batch({"a": [1, 2]})]).split(":")[:2]
        ['rows', '2']
        >>> a = rows_fingerprint([pa.record_batch({"a": [1, 2]})])
        >>> a == rows_fingerprint([pa.record_batch({"a": [1, 3]})])
        False
    """
    digest, rows = hashlib.sha256(), 0
    for batch in batches:
        rows += batch.num_rows
        for column in batch.columns:
            digest.update(repr(column.to_pylist()).encode())
    return f"rows:{rows}:{digest.hexdigest()}"
