"""Edit-date statistics for incremental sync: how many rows were edited in a window, and when last.

One ``outStatistics`` request answers both (a count of object ids and the greatest edit date).
Servers whose statistics fail although they advertise them get a count and a newest-first query
instead: the newest row alone, or (where ``resultRecordCount`` fails too) the first of a page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from btvstat_open.errors import PortalError, PortalRequestError, PortalUnavailable
from connectors.arcgis.decode import parse_date
from connectors.arcgis.metadata import LayerInfo
from connectors.arcgis.paging import Fetch, statistic, statistic_value

__all__ = ["edit_stats"]


def edit_stats(
    fetch: Fetch, count_of: Callable[[str], int], info: LayerInfo, where: str
) -> tuple[int, datetime | None]:
    """Rows matching ``where`` and their latest edit date (naive UTC), for a layer with edit dates.

    Example:
        >>> from connectors.arcgis.metadata import parse_layer
        >>> info = parse_layer({"objectIdField": "OBJECTID", "fields": [],
        ...     "editFieldsInfo": {"editDateField": "EditDate"}}, "0")
        >>> answer = {"features": [{"attributes": {"N": 2, "LATEST": 1443712219214}}]}
        >>> edit_stats(lambda params: answer, len, info, "1=1")
        (2, datetime.datetime(2015, 10, 1, 15, 10, 19, 214000))
    """
    edit, oid = str(info.edit_date_field), str(info.oid_field)
    stats = [
        {"statisticType": "count", "onStatisticField": oid, "outStatisticFieldName": "N"},
        {"statisticType": "max", "onStatisticField": edit, "outStatisticFieldName": "LATEST"},
    ]
    try:
        body = fetch({"where": where, "outStatistics": json.dumps(stats)})
    except PortalError as exc:
        if isinstance(exc, PortalUnavailable):
            raise
        return _without_statistics(fetch, count_of, edit, where)
    attrs = ((body.get("features") or [{}])[0]).get("attributes") or {}
    count = statistic(attrs, "N", "count")
    return int(count or 0), parse_date(statistic_value(attrs, "LATEST", "max"))


def _without_statistics(
    fetch: Fetch, count_of: Callable[[str], int], edit: str, where: str
) -> tuple[int, datetime | None]:
    params: dict[str, str | int] = {"where": where, "outFields": edit, "returnGeometry": "false"}
    params["orderByFields"] = f"{edit} DESC"
    try:
        features = fetch({**params, "resultRecordCount": 1}).get("features")
    except PortalRequestError:
        features = fetch(params).get("features")
    values = [parse_date((f.get("attributes") or {}).get(edit)) for f in features or []]
    return count_of(where), max((v for v in values if v is not None), default=None)
