"""What ``--partition-by FIELD[:year|:month]`` means: the folder key, the SoQL group and each window.

A partition is one value of the key: a year (``2020``), a month (``2020-03``) or, without a grain, a
value of the field itself. Folders are named the hive way, ``KEY=VALUE``, so DuckDB, pyarrow and
Spark read the key back as a column:

* ``created_date:year``  -> ``created_date_year=2020/``
* ``created_date:month`` -> ``created_date_month=2020-03/``
* ``status``             -> ``status=Open/`` (values percent-encoded, as hive does)

A year or month key gets its own name (``FIELD_year``) so that it never clashes with the field's own
column, which every file keeps whole. Rows whose field is null go to ``KEY=__HIVE_DEFAULT_PARTITION__``,
the folder hive, Spark and pyarrow read as null.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from btvstat_open.errors import UsageError
from btvstat_open.soql.lexer import soql_literal

__all__ = ["NULL_PARTITION", "PartitionSpec"]

Grain = Literal["year", "month"]
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Types whose empty value ``''`` is filed with null under the default partition.
_TEXT_TYPES = ("text", "url")
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
_TRUNC = {"year": "date_trunc_y", "month": "date_trunc_ym"}


def _stamp(moment: datetime) -> str:
    return soql_literal(moment.strftime("%Y-%m-%dT%H:%M:%S"))


@dataclass(frozen=True)
class PartitionSpec:
    """A parsed ``FIELD[:year|:month]``.

    Example:
        >>> spec = PartitionSpec.parse("created_date:month")
        >>> spec.key, spec.group_expr
        ('created_date_month', 'date_trunc_ym(created_date)')
        >>> spec.value_of("2020-03-01T00:00:00.000")
        '2020-03'
        >>> spec.folder("2020-03")
        'created_date_month=2020-03'
    """

    field: str
    grain: Grain | None = None

    @classmethod
    def parse(cls, text: str) -> PartitionSpec:
        """Read ``FIELD``, ``FIELD:year`` or ``FIELD:month`` (a usage error otherwise)."""
        field, _, grain = (text or "").strip().partition(":")
        if not _FIELD.match(field):
            raise UsageError(
                f"Cannot partition by {text!r}: give a field name, optionally with :year or :month "
                "(e.g. created_date:year)."
            )
        if grain not in ("", "year", "month"):
            raise UsageError(f"Unknown partition grain {grain!r} in {text!r}; use :year or :month.")
        return cls(field, grain or None)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.field}:{self.grain}" if self.grain else self.field

    @property
    def key(self) -> str:
        """The folder key (``created_date_year``, or the field itself without a grain)."""
        return f"{self.field}_{self.grain}" if self.grain else self.field

    @property
    def group_expr(self) -> str:
        """The SoQL expression one partition has one value of."""
        return f"{_TRUNC[self.grain]}({self.field})" if self.grain else self.field

    def value_of(self, grouped: object) -> str:
        """A partition's value from the grouped query's answer (``None`` -> the null partition)."""
        if grouped is None or grouped == "":
            return NULL_PARTITION
        if self.grain is None:
            return _plain_text(grouped)
        moment = grouped if isinstance(grouped, datetime) else datetime.fromisoformat(str(grouped)[:19])
        return f"{moment.year:04d}" if self.grain == "year" else f"{moment.year:04d}-{moment.month:02d}"

    def folder(self, value: str) -> str:
        """The hive folder name of a partition value (percent-encoded like hive)."""
        return f"{self.key}={quote(value, safe=' -_.:')}"

    def windows(self, value: str, parts: int = 1, field_type: str = "text") -> list[str]:
        """SoQL ``$where`` texts, together selecting exactly the partition's rows, in ``parts`` ranges.

        A year or month is cut into ``parts`` equal spans of time (half open, so no row is in two);
        a plain value is one range whatever ``parts`` says.

        Example:
            >>> PartitionSpec.parse("d:year").windows("2020", 2)  # doctest: +NORMALIZE_WHITESPACE
            ["d >= '2020-01-01T00:00:00' AND d < '2020-07-02T00:00:00'",
             "d >= '2020-07-02T00:00:00' AND d < '2021-01-01T00:00:00'"]
            >>> PartitionSpec.parse("status").windows("O'Neil")
            ["status = 'O''Neil'"]
            >>> PartitionSpec.parse("status").windows(NULL_PARTITION)  # '' is filed with null
            ["(status IS NULL OR status = '')"]
        """
        if value == NULL_PARTITION:
            # Empty text is filed with null (``value_of``), so the range fetches both.
            if self.grain is None and field_type in _TEXT_TYPES:
                return [f"({self.field} IS NULL OR {self.field} = '')"]
            return [f"{self.field} IS NULL"]
        if self.grain is None:
            return [f"{self.field} = {_plain_literal(value, field_type)}"]
        start, end = self._span(value)
        step = (end - start) / max(1, parts)
        cuts = [start + step * i for i in range(max(1, parts))] + [end]
        # Whole seconds keep the literals plain; a span of a second or less is never split.
        cuts = sorted({c.replace(microsecond=0) for c in cuts})
        return [
            f"{self.field} >= {_stamp(lo)} AND {self.field} < {_stamp(hi)}"
            for lo, hi in itertools.pairwise(cuts)
        ]

    def _span(self, value: str) -> tuple[datetime, datetime]:
        try:
            if self.grain == "year":
                year = int(value)
                return datetime(year, 1, 1), datetime(year + 1, 1, 1)
            year, month = (int(p) for p in value.split("-"))
            start = datetime(year, month, 1)
        except ValueError:
            raise UsageError(f"{value!r} is not a {self.grain} partition of {self.field}.") from None
        return start, (start + timedelta(days=32)).replace(day=1)


def _plain_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plain_literal(value: str, field_type: str) -> str:
    """A partition value as a SoQL literal of the field's type (numbers and checkboxes unquoted)."""
    if field_type in ("number", "double", "money") and re.match(r"^-?\d+(\.\d+)?$", value):
        return value
    if field_type == "checkbox" and value in ("true", "false"):
        return value
    return soql_literal(value)
