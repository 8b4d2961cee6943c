"""What a stored dataset is: its id, its metadata and the counts a write reports.

These value types live apart from :class:`btvstat_open.store.Store` so that the store's
write internals (:mod:`btvstat_open.store.writes`) can use them without importing the
store; :mod:`btvstat_open.store` re-exports every name here.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from btvstat_open.errors import InvalidDatasetId, UsageError
from btvstat_open.types import Column, DatasetColumns

__all__ = [
    "LICENSES",
    "DataVersion",
    "DatasetInfo",
    "MetadataChange",
    "WriteResult",
    "as_utc",
    "check_dataset_id",
    "license_url",
    "new_row_ids",
    "quote_ident",
    "table_name",
]

# Each random byte to one of 32 characters (256 is a multiple of 32, so every character is as likely).
_BASE32 = bytes(b"abcdefghijklmnopqrstuvwxyz234567"[b % 32] for b in range(256))
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def quote_ident(name: str) -> str:
    """A DuckDB identifier, double-quoted with inner quotes doubled.

    Example:
        >>> quote_ident(':id')
        '":id"'
    """
    return '"' + name.replace('"', '""') + '"'


def table_name(dataset_id: str) -> str:
    """The quoted DuckDB name of a dataset's table.

    Example:
        >>> table_name("kc-311")
        '"ds_kc-311"'
    """
    return quote_ident("ds_" + dataset_id)


def new_row_ids(count: int) -> list[str]:
    """``count`` fresh row ids, drawn at once (inserts make one per new row).

    Twelve base-32 characters carry 60 random bits, so ids stay unique (``:id`` is the primary
    key) with many millions of rows: the chance that 100,000 new rows meet one of 10 million
    is about one in a million.

    Example:
        >>> len(set(new_row_ids(1000)))
        1000
    """
    chars = secrets.token_bytes(12 * count).translate(_BASE32).decode("ascii")
    return [
        f"row-{chars[i : i + 4]}-{chars[i + 4 : i + 8]}-{chars[i + 8 : i + 12]}"
        for i in range(0, 12 * count, 12)
    ]


def check_dataset_id(dataset_id: str) -> str:
    """Return the id if it is valid, else raise :class:`InvalidDatasetId`: the one dataset-id rule.

    The store, the local portal, the loader, the sync and the Socrata connector all use it:
    1-64 lowercase letters, digits, ``-`` or ``_``, starting with a letter or digit. Real
    Socrata ids (``abcd-1234``) and ours (``kc-311-potholes``) pass; an id is part of URL
    paths and table names, so nothing else may.

    Example:
        >>> check_dataset_id("kc-311-potholes")
        'kc-311-potholes'
    """
    if not _ID.match(dataset_id):
        raise InvalidDatasetId(
            f"Invalid dataset id {dataset_id!r}: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit (e.g. 'kc-311-potholes', or a Socrata id like 'abcd-1234')."
        )
    return dataset_id


class DataVersion(NamedTuple):
    """What a cache keys a dataset's contents by: its version number, and when the dataset was made.

    Every write moves ``number``; a dataset dropped and made again starts again at 1, but with a new
    ``created_at``, so the pair never names two different contents.
    """

    created_at: datetime
    number: int


@dataclass(frozen=True)
class DatasetInfo(DatasetColumns):
    """What the store knows about one dataset: its record, with the column lookups every
    description shares (``column(name)`` or None, ``require_column(name)``, ``all_columns``,
    ``arrow_schema``; see :class:`~btvstat_open.types.DatasetColumns`)."""

    id: str
    name: str
    description: str
    columns: tuple[Column, ...]
    row_identifier: str | None
    created_at: datetime
    rows_updated_at: datetime
    view_last_modified: datetime
    version: int
    row_count: int
    #: free-text keywords (Socrata's ``tags``)
    tags: tuple[str, ...] = ()
    #: the portal category (Socrata's ``category``), if any
    category: str | None = None
    #: who publishes the data (Socrata's ``attribution``), if any
    attribution: str | None = None
    #: whether anonymous readers may see the dataset (``setPermission`` ``public.read``/``private``)
    public: bool = True
    #: Socrata's ``publicationStage``: False for a dataset created over the API until it is published
    published: bool = True
    #: the Socrata-style id (``xxxx-xxxx``) every route accepts beside ``id``
    four_by_four: str = ""
    #: the data's license: an SPDX id (``ODC-By-1.0``) or a URL; see :func:`license_url`
    license: str | None = None
    #: where the data comes from (the source's own page)
    source_url: str | None = None
    #: the day (``YYYY-MM-DD``) the source itself last updated the data, when it says so
    source_updated: str | None = None

    @property
    def data_version(self) -> DataVersion:
        """This record's :class:`DataVersion` (compare with :meth:`Store.versions`)."""
        return DataVersion(self.created_at, self.version)

    @property
    def attributes(self) -> dict[str, object]:
        """The descriptive attributes the store keeps as one JSON object (see :class:`MetadataChange`)."""
        return {
            "tags": list(self.tags),
            "category": self.category,
            "attribution": self.attribution,
            "public": self.public,
            "published": self.published,
            "license": self.license,
            "source_url": self.source_url,
            "source_updated": self.source_updated,
        }

    @property
    def table(self) -> str:
        """The quoted DuckDB name of the dataset's table."""
        return table_name(self.id)

    @property
    def etag(self) -> str:
        """A strong ETag for the dataset's current content."""
        return f'"{self.id}-v{self.version}"'


@dataclass(frozen=True)
class MetadataChange:
    """What a metadata update changes; ``None`` leaves a field as it is.

    ``column_descriptions`` maps field names to new descriptions.

    Example:
        >>> change = MetadataChange(description="Potholes", column_descriptions={"status": "OPEN or RESOL"})
        >>> [c.description for c in change.columns(info) if c.field_name == "status"]
        ['OPEN or RESOL']
    """

    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    category: str | None = None
    attribution: str | None = None
    public: bool | None = None
    published: bool | None = None
    column_descriptions: dict[str, str] = field(default_factory=dict)
    license: str | None = None
    source_url: str | None = None
    source_updated: str | None = None

    def columns(self, info: DatasetInfo) -> tuple[Column, ...]:
        """The dataset's columns with the new descriptions; an unknown field name is a :class:`UsageError`."""
        known = {c.field_name for c in info.columns}
        unknown = sorted(set(self.column_descriptions) - known)
        if unknown:
            raise UsageError(
                f"Dataset {info.id!r} has no column {unknown[0]!r}; columns are: {', '.join(sorted(known))}.",
                code="column.missing",
            )
        return tuple(
            Column(
                c.field_name, c.name, c.data_type, self.column_descriptions.get(c.field_name, c.description)
            )
            for c in info.columns
        )

    def attributes(self, current: dict[str, object]) -> dict[str, object]:
        """Attributes (as :attr:`DatasetInfo.attributes` gives them) with this change applied.

        Example:
            >>> MetadataChange(public=False).attributes({"public": True, "tags": ["a"]})
            {'public': False, 'tags': ['a']}
        """
        current = dict(current)
        updates = {
            "tags": list(self.tags) if self.tags is not None else None,
            "category": self.category,
            "attribution": self.attribution,
            "public": self.public,
            "published": self.published,
            "license": self.license,
            "source_url": self.source_url,
            "source_updated": self.source_updated,
        }
        current.update({k: v for k, v in updates.items() if v is not None})
        return current


@dataclass
class WriteResult:
    """Counts from one write, as Socrata reports them.

    Example:
        >>> WriteResult(created=2).to_socrata()["Rows Created"]
        2
    """

    created: int = 0
    updated: int = 0
    deleted: int = 0
    errors: int = 0
    by_row_identifier: int = 0
    by_sid: int = 0
    messages: list[str] = field(default_factory=list)

    def to_socrata(self) -> dict[str, int]:
        """Socrata's upsert result body."""
        return {
            "Errors": self.errors,
            "Rows Deleted": self.deleted,
            "Rows Updated": self.updated,
            "By SID": self.by_sid,
            "Rows Created": self.created,
            "By RowIdentifier": self.by_row_identifier,
        }


# Licenses cities use, by SPDX id, and where each is written down (DCAT-US wants a URL).
LICENSES = {
    "odc-by-1.0": "https://opendatacommons.org/licenses/by/1-0/",
    "odbl-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
    "pddl-1.0": "https://opendatacommons.org/licenses/pddl/1-0/",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "us-pd": "https://www.usa.gov/government-works",
}


def license_url(license: str) -> str | None:
    """The URL of a license given as a URL or a known SPDX id (case does not matter), else None.

    Example:
        >>> license_url("ODC-By-1.0"), license_url("https://example.gov/terms"), license_url("ours")
        ('https://opendatacommons.org/licenses/by/1-0/', 'https://example.gov/terms', None)
    """
    if license.startswith(("https://", "http://")):
        return license
    return LICENSES.get(license.strip().lower())


def as_utc(moment: datetime) -> datetime:
    """A store datetime made zone-aware: the store keeps naive UTC datetimes.

    Example:
        >>> as_utc(datetime(2020, 1, 7)).isoformat()
        '2020-01-07T00:00:00+00:00'
    """
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
