"""The KPIs' measured series kept beside a built site (``DIR/.build-series.zip``) for the next build.

A rebuild after one dataset changed renders again the pages about the whole program (the
dashboard, ``program.json``, ``data.json``): they show every KPI, so every KPI's series is needed,
and measuring hundreds of KPIs is most of a rebuild's work. Each series is kept under a digest of
what it depends on (the server's own cache key: the KPI, the catalog, its dataset's version, the
day, a data check's hold, its notes) and of the build's inputs (the code among them), so a series
is reused only when measuring again would give the same table. Each is an Arrow IPC stream in a
zip file written with fixed times: the same series give the same bytes.

Example:
    >>> save_series(service, scratch, {"code": "1"})                    # doctest: +SKIP
    >>> load_series(service, scratch, {"code": "1"})                    # doctest: +SKIP
    501
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from btvstat_open.atomic import write_atomically

__all__ = ["SERIES", "load_series", "save_series"]

SERIES = ".build-series.zip"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _name(key: tuple[Any, ...], inputs: Mapping[str, str]) -> str:
    text = "\n".join(f"{k}={v}" for k, v in sorted(inputs.items())) + "\n" + repr(key)
    return hashlib.sha256(text.encode()).hexdigest()[:32] + ".arrow"


def load_series(service: Any, out: Path, inputs: Mapping[str, str]) -> int:
    """Cache in ``service`` every public KPI's series kept by the last build whose key is the
    same today; how many. A missing or damaged file keeps nothing (they are measured again)."""
    try:
        archive = zipfile.ZipFile(out / SERIES)
    except (OSError, zipfile.BadZipFile):
        return 0
    found = 0
    with archive:
        names = set(archive.namelist())
        for kpi in service.public_kpis():
            key = service.series_key(kpi)
            name = _name(key, inputs)
            if name not in names:
                continue
            try:
                table = ipc.open_stream(archive.read(name)).read_all()
            except (OSError, zipfile.BadZipFile, pa.ArrowInvalid):
                continue
            service.keep_series(key, table)
            found += 1
    return found


def save_series(service: Any, out: Path, inputs: Mapping[str, str]) -> None:
    """Keep the cached series of every public KPI beside the site (the file whole or not at all;
    left as it is when it holds these series already: the same keys, the same tables)."""
    tables = {}
    for kpi in service.public_kpis():
        key = service.series_key(kpi)
        table = service.known_series(key)
        if table is not None:
            tables[_name(key, inputs)] = table
    try:
        with zipfile.ZipFile(out / SERIES) as archive:
            if set(archive.namelist()) == set(tables):
                return
    except (OSError, zipfile.BadZipFile):
        pass
    kept: dict[str, bytes] = {}
    for name, table in tables.items():
        sink = io.BytesIO()
        with ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        kept[name] = sink.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in sorted(kept.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), body, zipfile.ZIP_DEFLATED)
    write_atomically(out / SERIES, buffer.getvalue(), durable=False)
