"""Socrata-style dataset ids (``xxxx-xxxx``, a "4x4") beside the readable ones.

Socrata's dataset ids are always four lowercase letters or digits, a hyphen and four more, and
clients in several languages refuse anything else. Every stored dataset therefore also gets a
4x4, assigned once and kept in the store's ``btvstat_dataset_ids`` table: a readable id that
already has the form is its own 4x4; any other is derived from the readable id (so a demo
loaded twice gets the same 4x4s), drawing again on the rare clash. Every route accepts either.
Stores written before 4x4s existed gain them when opened (:func:`assign_missing`); no row moves.
"""

from __future__ import annotations

import hashlib
import re

import duckdb

from btvstat_open.errors import InvalidDatasetId, UsageError

__all__ = [
    "IDS_TABLE",
    "assign",
    "assign_missing",
    "check_four_by_four",
    "derive_four_by_four",
    "ensure_ids_table",
    "is_four_by_four",
    "resolve",
]

IDS_TABLE = "btvstat_dataset_ids"
# Socrata's own alphabet leaves out characters easy to misread; so does ours (32 characters).
_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
_FORM = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")


def is_four_by_four(text: str) -> bool:
    """Whether ``text`` has Socrata's dataset-id form.

    Example:
        >>> is_four_by_four("abcd-1234"), is_four_by_four("kc-311-potholes")
        (True, False)
    """
    return bool(_FORM.match(text))


def check_four_by_four(text: str) -> str:
    """Return ``text`` if it is a 4x4, else raise :class:`InvalidDatasetId` saying the form.

    Example:
        >>> check_four_by_four("abcd-1234")
        'abcd-1234'
    """
    if not is_four_by_four(text):
        raise InvalidDatasetId(
            f"{text!r} is not a Socrata-style id: use four lowercase letters or digits, a hyphen "
            "and four more (e.g. 'abcd-1234')."
        )
    return text


def derive_four_by_four(dataset_id: str, attempt: int = 0) -> str:
    """The 4x4 a readable id gets (itself if it has the form); ``attempt`` draws again on a clash.

    Example:
        >>> derive_four_by_four("abcd-1234")
        'abcd-1234'
        >>> fxf = derive_four_by_four("kc-311-potholes")
        >>> is_four_by_four(fxf), fxf == derive_four_by_four("kc-311-potholes")
        (True, True)
    """
    if attempt == 0 and is_four_by_four(dataset_id):
        return dataset_id
    digest = hashlib.sha256(f"{dataset_id}\x00{attempt}".encode()).digest()
    number = int.from_bytes(digest[:5], "big")  # 40 bits: eight characters of 5 bits
    chars = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def ensure_ids_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table of 4x4s if the store does not have it yet."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {IDS_TABLE} (id VARCHAR PRIMARY KEY, four_by_four VARCHAR UNIQUE)"
    )


def _taken(con: duckdb.DuckDBPyConnection, fxf: str, dataset_id: str, meta_table: str) -> bool:
    rows = con.execute(
        f"SELECT 1 FROM {IDS_TABLE} WHERE four_by_four = ? AND id <> ? "
        f"UNION ALL SELECT 1 FROM {meta_table} WHERE id = ? AND id <> ? LIMIT 1",
        [fxf, dataset_id, fxf, dataset_id],
    ).fetchall()
    return bool(rows)


def assign(
    con: duckdb.DuckDBPyConnection, dataset_id: str, meta_table: str, requested: str | None = None
) -> str:
    """The dataset's 4x4: the one it has, else ``requested``, else a derived one; kept in the store.

    ``requested`` (a 4x4) replaces the one the dataset has; it must not name another dataset.
    """
    other = con.execute(
        f"SELECT id FROM {IDS_TABLE} WHERE four_by_four = ? AND id <> ?", [dataset_id, dataset_id]
    ).fetchall()
    if other:  # a new id that is another dataset's 4x4 would hide that dataset from its 4x4
        raise UsageError(
            f"{dataset_id!r} is the 4x4 id of dataset {other[0][0]!r}; choose another id for the new dataset."
        )
    current = con.execute(f"SELECT four_by_four FROM {IDS_TABLE} WHERE id = ?", [dataset_id]).fetchall()
    if requested is None and current:
        return str(current[0][0])
    if requested is not None:
        fxf = check_four_by_four(requested)
        if _taken(con, fxf, dataset_id, meta_table):
            raise UsageError(
                f"The id {fxf!r} already names another dataset; choose another 4x4 for {dataset_id!r}."
            )
    else:
        attempt = 0
        fxf = derive_four_by_four(dataset_id)
        while _taken(con, fxf, dataset_id, meta_table):
            attempt += 1
            fxf = derive_four_by_four(dataset_id, attempt)
    con.execute(f"DELETE FROM {IDS_TABLE} WHERE id = ?", [dataset_id])
    con.execute(f"INSERT INTO {IDS_TABLE} (id, four_by_four) VALUES (?, ?)", [dataset_id, fxf])
    return fxf


def assign_missing(con: duckdb.DuckDBPyConnection, meta_table: str) -> int:
    """Give every dataset without a 4x4 one (a store from before 4x4s); returns how many got one."""
    missing = con.execute(
        f"SELECT id FROM {meta_table} WHERE id NOT IN (SELECT id FROM {IDS_TABLE}) ORDER BY id"
    ).fetchall()
    for (dataset_id,) in missing:
        assign(con, dataset_id, meta_table)
    return len(missing)


def resolve(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """The readable id of the dataset whose 4x4 is ``key``, or None."""
    if not is_four_by_four(key):
        return None
    rows = con.execute(f"SELECT id FROM {IDS_TABLE} WHERE four_by_four = ?", [key]).fetchall()
    return str(rows[0][0]) if rows else None
