"""Where a file connector's files are: a folder on disk or an fsspec URL prefix, and their validators.

A file's validators are what its filesystem reports without reading it: the ETag where the
store gives one (S3, GCS), else its size and modification time. A sync compares them to the
ones it saw last and pulls the file again only when they moved.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from btvstat_open.errors import DatasetNotFound, PortalError, PortalUnavailable, UsageError
from btvstat_open.instants import parse_instant
from btvstat_open.load import FORMATS

__all__ = ["FileInfo", "Folder"]


@dataclass(frozen=True)
class FileInfo:
    """One data file: its name in the folder, full path, size and validators.

    Example:
        >>> FileInfo("a.csv", "/x/a.csv", 4, None, "4-0.000000").http_date is None
        True
    """

    name: str
    path: str
    size: int
    modified: datetime | None
    etag: str

    @property
    def http_date(self) -> str | None:
        """The modification time as an HTTP date (what sync state records as last-modified)."""
        return format_datetime(self.modified, usegmt=True) if self.modified else None


def _modified(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                continue
        if isinstance(value, str) and (moment := parse_instant(value)) is not None:
            return moment
    return None


def _etag(info: dict[str, Any], modified: datetime | None) -> str:
    for key in ("ETag", "etag", "md5Hash"):
        if info.get(key):
            return str(info[key]).strip('"')
    stamp = modified.timestamp() if modified else 0.0
    return f"{int(info.get('size') or 0)}-{stamp:.6f}"


class Folder:
    """A folder or URL prefix holding data files, read through fsspec.

    Example:
        >>> folder = Folder("catalog/demo/data/burlington")
        >>> folder.file("child-care-locations").name
        'child-care-locations.csv'
    """

    def __init__(
        self, url: str, *, base_dir: Path | None = None, storage_options: dict[str, Any] | None = None
    ):
        import fsspec

        text = url.strip()
        if "://" not in text:
            local = Path(text).expanduser()
            text = str(local if local.is_absolute() else (base_dir or Path.cwd()) / local)
        try:
            self.fs, root = fsspec.core.url_to_fs(text, **(storage_options or {}))
        except ImportError as exc:
            raise UsageError(
                f"Reading {url} needs an fsspec filesystem package that is not installed ({exc}). "
                "Install it (for s3:// `pip install s3fs`, gs:// gcsfs, az:// adlfs) and try again."
            ) from exc
        except (OSError, ValueError) as exc:  # a network filesystem connects when it is made (ftp, sftp)
            raise PortalUnavailable(
                f"Cannot open {url}: {exc}. Check the address, the network and the credentials "
                "(storage_options)."
            ) from exc
        self.root = root.rstrip("/") or "/"
        self.url = text.rstrip("/") if "://" in url else self.root

    @property
    def is_local(self) -> bool:
        """Whether the files are on this machine's disk (read in place, not copied to memory)."""
        return "file" in self.fs.protocol or "local" in self.fs.protocol

    def _info(self, path: str) -> dict[str, Any]:
        try:
            info: dict[str, Any] = self.fs.info(path)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise PortalError(f"Cannot read {path} at {self.url}: {exc}. Check the path and access.") from exc
        return info

    def _file_info(self, name: str, info: dict[str, Any]) -> FileInfo:
        modified = _modified(info)
        if modified is None:
            try:
                modified = self.fs.modified(info["name"])
            except (NotImplementedError, OSError, KeyError):
                modified = None
        return FileInfo(name, str(info["name"]), int(info.get("size") or 0), modified, _etag(info, modified))

    def files(self) -> list[FileInfo]:
        """Every data file (``.csv``, ``.xlsx``, ``.parquet``) directly in the folder, by name."""
        try:
            entries = self.fs.ls(self.root, detail=True)
        except FileNotFoundError as exc:
            raise UsageError(f"No folder {self.url}: check the portal URL (a folder or URL prefix).") from exc
        except OSError as exc:
            raise PortalError(f"Cannot list {self.url}: {exc}. Check the path and access.") from exc
        found = []
        for entry in entries:
            name = posixpath.basename(str(entry["name"]).rstrip("/"))
            if entry.get("type") == "file" and posixpath.splitext(name)[1].lower() in FORMATS:
                found.append(self._file_info(name, entry))
        return sorted(found, key=lambda f: f.name)

    def file(self, dataset_id: str) -> FileInfo:
        """The file a dataset id names: its file name, or its stem when one file has that stem."""
        if posixpath.splitext(dataset_id)[1].lower() in FORMATS:
            path = posixpath.join(self.root, dataset_id)
            try:
                return self._file_info(posixpath.basename(dataset_id), self._info(path))
            except FileNotFoundError as exc:
                raise self._missing(dataset_id) from exc
        matches = [f for f in self.files() if posixpath.splitext(f.name)[0].lower() == dataset_id.lower()]
        if len(matches) > 1:
            raise UsageError(
                f"{dataset_id!r} names {len(matches)} files in {self.url}: "
                f"{', '.join(f.name for f in matches)}. Give the file name with its extension."
            )
        if not matches:
            raise self._missing(dataset_id)
        return matches[0]

    def read(self, info: FileInfo) -> bytes:
        """The file's bytes."""
        try:
            data: bytes = self.fs.cat_file(info.path)
        except FileNotFoundError as exc:
            raise self._missing(info.name) from exc
        except OSError as exc:
            raise PortalError(f"Cannot read {info.path}: {exc}. Check the path and access.") from exc
        return data

    def _missing(self, dataset_id: str) -> DatasetNotFound:
        return DatasetNotFound(
            dataset_id,
            f"No file {dataset_id!r} in {self.url}. Its data files: "
            f"{', '.join(f.name for f in self.files()) or 'none'} (.csv, .xlsx or .parquet).",
        )
