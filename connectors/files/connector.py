"""The file connector: CSV, Excel ``.xlsx`` and Parquet files in a folder or under an fsspec URL.

``PORTAL_URL`` is the folder (a path, relative to the working directory or to ``base_dir``) or
a URL prefix (``file://``, ``s3://bucket/exports``, ``memory://``); ``DATASET_ID`` is a file
name (``planting-sites.csv``), or its stem when only one data file has it. Files are typed by
the loader of ``btvstat-open load`` (:func:`btvstat_open.load.read_file`): CSV delimiters
sniffed (``;`` exports from Opendatasoft read as they are), types inferred, ``--column-type``
style overrides as ``column_types``.

A file is read whole (once per version: the connector keeps the last file it read); ``select``,
``where`` and ``order`` are then run by DuckDB over its columns, which reads SoQL's common
clauses alike (comparisons, ``and``/``or``, ``in``, ``like``, ``is null``; functions are
DuckDB's). A file has no row timestamps, so there is no ``since`` and no ``changes``: a sync
pulls the file whole when its validators (ETag, or size and modification time) moved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Unpack

import duckdb
import pyarrow as pa

from btvstat_open.errors import LoadError, SoqlError
from btvstat_open.limits import limit, too_large
from btvstat_open.load import LoadedFile, read_file
from btvstat_open.load.csv_cells import FileBytes
from connectors.base import Capability, Connector, DatasetDescription, DatasetSummary, PullOptions
from connectors.files.location import FileInfo, Folder

__all__ = ["FileConnector"]

_READ_ONLY = (
    "Files are read-only here: write the file itself (`btvstat-open pull URL ID -o FILE` writes one), "
    "or push to a portal that takes rows."
)


class FileConnector(Connector):
    """Datasets that are files: ``connect("exports/", kind="file")`` or ``connect("s3://b/x")``.

    Options: ``base_dir`` (what a relative folder is relative to: a catalog's folder),
    ``storage_options`` (passed to fsspec: credentials, endpoint), ``sheet`` (of a workbook;
    default the first), ``column_types`` and ``date_formats`` (as ``btvstat-open load``
    takes them), ``page_size`` (rows per record batch). A filesystem's credentials come through
    ``storage_options``; a portal's (``app_token``...) are refused by ``connect()``.

    Example:
        >>> files = FileConnector("catalog/demo/data/burlington")
        >>> [d.id for d in files.datasets(q="child")]
        ['child-care-locations.csv']
        >>> desc = files.describe("child-care-locations")
        >>> desc.row_count, desc.column("zip_code").data_type
        (58, 'text')
        >>> files.pull("child-care-locations", select="provider_name", where="total_licensed_capacity >= 100",
        ...            order="provider_name").num_rows
        9
    """

    kind: ClassVar[str] = "file"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    unsupported_reasons: ClassVar[dict[str, str]] = {
        "push": _READ_ONLY,
        "create": _READ_ONLY,
        "changes": "A file has no row timestamps, so it cannot list changed rows: a sync pulls it whole "
        "when it changed (its ETag, or size and modification time).",
    }

    def __init__(
        self,
        url: str,
        *,
        base_dir: str | Path | None = None,
        storage_options: dict[str, Any] | None = None,
        sheet: str | None = None,
        column_types: Mapping[str, str] | None = None,
        date_formats: Mapping[str, str] | None = None,
        page_size: int = 50_000,
    ) -> None:
        self.folder = Folder(
            url, base_dir=Path(base_dir) if base_dir else None, storage_options=storage_options
        )
        self.url = self.folder.url
        self.sheet = sheet
        self.column_types = dict(column_types or {})
        self.date_formats = dict(date_formats or {})
        self.page_size = max(1, int(page_size))
        self._last: tuple[str, str, LoadedFile] | None = None  # (path, etag, file)

    def __repr__(self) -> str:
        return f"FileConnector({self.url!r})"

    def _read(self, dataset_id: str) -> tuple[FileInfo, LoadedFile]:
        info = self.folder.file(dataset_id)
        if self._last is not None and self._last[:2] == (info.path, info.etag):
            return info, self._last[2]
        if not self.folder.is_local and info.size > limit("BTVSTAT_MAX_FILE_MB"):
            # A remote file is read into memory whole: refuse one larger than the cap before reading.
            raise LoadError(
                too_large("BTVSTAT_MAX_FILE_MB", f"{info.name} at {self.url} ({info.size:,} bytes)")
            )
        source: Path | FileBytes = (
            Path(info.path) if self.folder.is_local else FileBytes(info.name, self.folder.read(info))
        )
        loaded = read_file(
            source, column_types=self.column_types, date_formats=self.date_formats, sheet=self._sheet(info)
        )
        self._last = (info.path, info.etag, loaded)
        return info, loaded

    def _sheet(self, info: FileInfo) -> str | None:
        return self.sheet if info.name.lower().endswith(".xlsx") else None

    def _description(self, dataset_id: str, info: FileInfo, loaded: LoadedFile) -> DatasetDescription:
        sheet = self._sheet(info)
        where = f"{info.name}" + (f", sheet {sheet!r}" if sheet else "") + f" in {self.url}"
        return DatasetDescription(
            id=dataset_id,
            name=info.name,
            columns=tuple(loaded.columns),
            description=f"The file {where}.",
            row_count=loaded.num_rows,
            last_modified=info.modified,
            etag=info.etag,
            last_modified_header=info.http_date,
        )

    def describe(self, dataset_id: str) -> DatasetDescription:
        """The file's columns (typed as ``btvstat-open load`` types them), rows and validators."""
        info, loaded = self._read(dataset_id)
        return self._description(dataset_id, info, loaded)

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """None when the file's ETag (or size and time) is still ``etag``; the file is then not read."""
        info = self.folder.file(dataset_id)
        if etag is not None and info.etag == etag:
            return None
        return self.describe(dataset_id)

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """The data files in the folder (by name), optionally those whose name holds ``q``."""
        found = []
        for info in self.folder.files():
            if q and q.lower() not in info.name.lower():
                continue
            updated = info.modified.isoformat() if info.modified else None
            link = f"{self.url.rstrip('/')}/{info.name}"
            found.append(DatasetSummary(info.name, info.name, updated_at=updated, link=link))
        return found[:limit]

    def iter_batches(self, dataset_id: str, **options: Unpack[PullOptions]) -> Iterator[pa.RecordBatch]:
        """The file's rows in file order (or ``order``), ``select``/``where`` applied by DuckDB."""
        if options.get("since"):
            raise self.not_supported("changes")
        _info, loaded = self._read(dataset_id)
        table = _query(loaded.table, options.get("select"), options.get("where"), options.get("order"))
        yield from table.to_batches(max_chunksize=self.page_size)


def _query(table: pa.Table, select: str | None, where: str | None, order: str | None) -> pa.Table:
    """``select``/``where``/``order`` over the table, by DuckDB with no access to files or the network."""
    if not (select or where or order):
        return table
    sql = f"SELECT {select or '*'} FROM rows"
    if where:
        sql += f" WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        con.register("rows", table)
        result: pa.Table = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise SoqlError(
            f"Cannot run this query on the file: {str(exc).splitlines()[0].rstrip('.')}. For files, select, "
            "where and order are SQL over the file's field names (SoQL's comparisons, and/or, in, like, "
            "is null)."
        ) from exc
    finally:
        con.close()
    return result
