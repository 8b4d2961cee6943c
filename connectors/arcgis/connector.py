"""The ArcGIS REST connector: FeatureServer and MapServer layers, and ArcGIS Hub sites.

``PORTAL_URL`` is a service URL (``…/FeatureServer`` or ``…/MapServer``) and ``DATASET_ID``
a layer number; a full layer URL works as either. A Hub site URL lists its datasets (see
:mod:`connectors.arcgis.hub`), whose ids are layer URLs. Layers are read-only here (no push or
create), and list changed rows (the ``changes`` capability) only where editor tracking gives
them an edit-date field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from email.utils import format_datetime
from typing import Any, ClassVar, Unpack

import pyarrow as pa
import pyarrow.compute as pc
import requests

from btvstat_open.errors import PortalError, PortalRequestError, PortalUnavailable, UsageError
from connectors.arcgis.changes import edit_stats
from connectors.arcgis.client import ArcgisHttp
from connectors.arcgis.decode import Wanted, decode_features, epoch_ms, oid_of, readers
from connectors.arcgis.hub import FEED_PATH, LAYER_URL, check_layer_host, hub_datasets, layer_allowed
from connectors.arcgis.metadata import GEOMETRY_COLUMN, LayerInfo, parse_layer
from connectors.arcgis.pages import layer_pages
from connectors.arcgis.paging import exceeded, probe_pagination
from connectors.arcgis.query import (
    iso_z,
    moment,
    order_fields,
    select_names,
    timestamp_literal,
    whole_seconds,
)
from connectors.base import Capability, Connector, DatasetDescription, DatasetSummary, PullOptions
from connectors.counts import checked
from connectors.options import HttpOptions

__all__ = ["ArcgisConnector"]

_SERVICE_URL = re.compile(r"^https?://.+/(?:FeatureServer|MapServer)$", re.I)
Params = dict[str, str | int]


class ArcgisConnector(Connector):
    """Read ArcGIS REST layers: describe, list, pull in stable pages, and sync by edit date.

    Options: ``session`` (a ``requests.Session`` to use, left open), ``timeout`` (seconds),
    ``retries``, ``backoff`` and ``max_wait`` (seconds, the jittered retry waits), ``page_size``
    (rows per page, at most the layer's ``maxRecordCount``), ``token`` (for a secured layer: sent
    only to this URL's own scheme, host and port), ``allow_hosts`` (host names whose layers a Hub
    site or a dataset id may name besides this URL's own host; other hosts are refused).

    Example:
        >>> conn = ArcgisConnector("https://gis.example.gov/arcgis/rest/services/Roads/FeatureServer")
        >>> conn.service, conn.kind, conn.supports("push")
        ('https://gis.example.gov/arcgis/rest/services/Roads/FeatureServer', 'arcgis', False)
    """

    kind: ClassVar[str] = "arcgis"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"changes"})
    unsupported_reasons: ClassVar[dict[str, str]] = {
        "push": "ArcGIS layers are read-only here: btvstat-open does not send applyEdits. Edit the layer "
        "in ArcGIS, or push the rows to a Socrata portal or the local portal instead.",
        "create": "btvstat-open cannot create ArcGIS layers. Publish a hosted layer in ArcGIS, or create "
        "the dataset on a Socrata portal or the local portal instead.",
        "changes": "This ArcGIS layer has no edit-date field (editFieldsInfo.editDateField), so changed rows "
        "cannot be listed: a sync pulls it whole when its last edit date moves. Turn on editor tracking "
        "for incremental syncs.",
    }

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_wait: float | None = None,
        page_size: int | None = None,
        token: str | None = None,
        allow_hosts: Sequence[str] = (),
    ) -> None:
        self.url = url.strip().rstrip("/")
        self.allow_hosts = frozenset(h.strip().lower() for h in allow_hosts if h.strip())
        layer = LAYER_URL.match(self.url)
        self.service: str | None = (
            layer["service"] if layer else (self.url if _SERVICE_URL.match(self.url) else None)
        )
        self.default_layer: str | None = layer["layer"] if layer else None
        self.page_size = page_size
        http = HttpOptions.of(
            session=session, timeout=timeout, retries=retries, backoff=backoff, max_wait=max_wait
        )
        self.http = ArcgisHttp(
            session=http.session, timeout=http.timeout, retry=http.retry, token=token, token_url=self.url
        )
        self._layers: dict[str, LayerInfo] = {}
        self._paginates: dict[str, bool] = {}
        self._whole_seconds: set[str] = set()  # layers whose server rejects millisecond literals

    def __repr__(self) -> str:
        return f"ArcgisConnector({self.url!r})"

    def close(self) -> None:
        """Close the HTTP session (unless the caller gave it)."""
        self.http.close()

    # -- metadata ---------------------------------------------------------------------------

    def layer_url(self, dataset_id: str) -> str:
        """The layer URL for a dataset id: a layer number of this service, or a layer URL.

        Example:
            >>> ArcgisConnector("https://x.gov/arcgis/rest/services/Roads/MapServer").layer_url("2")
            'https://x.gov/arcgis/rest/services/Roads/MapServer/2'
        """
        text = str(dataset_id).strip().rstrip("/")
        if LAYER_URL.match(text):
            return check_layer_host(text, self.url, self.allow_hosts)
        if text.isdigit() and self.service:
            return f"{self.service}/{text}"
        raise UsageError(
            f"{dataset_id!r} is not an ArcGIS layer here: give a layer number of {self.service or self.url} "
            "(see `datasets`) or a full …/FeatureServer/N or …/MapServer/N URL."
        )

    def layer(self, dataset_id: str, *, refresh: bool = False) -> LayerInfo:
        """The layer's parsed metadata (fetched once, again with ``refresh``).

        Example:
            >>> conn = ArcgisConnector(arcgis_url)  # a stand-in FeatureServer
            >>> conn.layer("0").oid_field
            'OBJECTID'
        """
        url = self.layer_url(dataset_id)
        if refresh or url not in self._layers:
            raw = self.http.get_json(url)
            if "fields" not in raw and "type" not in raw:
                raise PortalRequestError(
                    f"GET {url}: this is not a layer (no fields).", code="arcgis.not-layer"
                )
            self._layers[url] = parse_layer(raw, url.rsplit("/", 1)[1])
        return self._layers[url]

    def supports(self, capability: Capability) -> bool:
        """Whether the connector can do ``capability``; ``changes`` needs edit dates on the layer(s).

        Bound to a layer (a layer URL), that layer decides; bound to a service, every layer does.
        """
        if capability != "changes":
            return super().supports(capability)
        if self.default_layer is not None:
            ids = [self.default_layer]
        elif self.service:
            ids = [d.id for d in self.datasets()]
        else:
            return False
        return bool(ids) and all(self.layer(i).edit_date_field for i in ids)

    def _query(self, url: str, params: Params, *, post: bool = False) -> dict[str, Any]:
        """One ``/query`` request; where the server rejects millisecond timestamps, whole seconds."""
        where = str(params.get("where") or "")
        widened = whole_seconds(where) if url in self._whole_seconds else None
        try:
            return self.http.get_json(
                f"{url}/query", {**params, "where": widened} if widened else params, post=post
            )
        except PortalRequestError:
            widened = whole_seconds(where)
            if widened is None or url in self._whole_seconds:
                raise
            self._whole_seconds.add(url)
            return self.http.get_json(f"{url}/query", {**params, "where": widened}, post=post)

    def _count(self, url: str, where: str) -> int:
        body = self._query(url, {"where": where, "returnCountOnly": "true"})
        return int(float(body.get("count") or 0))

    def describe(self, dataset_id: str) -> DatasetDescription:
        """Columns, row count and last edit (``etag`` is the layer's last edit date in ms).

        Example:
            >>> conn = ArcgisConnector(arcgis_url)  # a stand-in FeatureServer
            >>> conn.describe("1").row_count
            120
        """
        return self._describe(dataset_id, self.layer(dataset_id, refresh=True))

    def _describe(self, dataset_id: str, info: LayerInfo) -> DatasetDescription:
        edited = epoch_ms(info.last_edit_ms).replace(tzinfo=UTC) if info.last_edit_ms is not None else None
        return DatasetDescription(
            id=dataset_id,
            name=info.name,
            columns=info.columns,
            description=info.description,
            row_count=self._count(self.layer_url(dataset_id), "1=1"),
            last_modified=edited,
            rows_updated_at=edited,
            etag=f'"{info.last_edit_ms}"' if info.last_edit_ms is not None else None,
            last_modified_header=format_datetime(edited, usegmt=True) if edited else None,
        )

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """None when the layer's last edit date is still ``etag``; else the description.

        Example:
            >>> conn = ArcgisConnector(arcgis_url)  # a stand-in FeatureServer
            >>> etag = conn.describe("1").etag
            >>> conn.describe_if_changed("1", etag=etag) is None
            True
        """
        info = self.layer(dataset_id, refresh=True)
        if etag and info.last_edit_ms is not None and etag == f'"{info.last_edit_ms}"':
            return None
        return self._describe(dataset_id, info)

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """A service's layers and tables, or a Hub site's datasets (ids are layer URLs).

        Example:
            >>> [(d.id, d.name) for d in ArcgisConnector(arcgis_url).datasets()]
            [('0', 'Cases (map)'), ('1', 'Cases')]
            >>> hub = ArcgisConnector(arcgis_site)  # a Hub site, e.g. https://data-usfs.hub.arcgis.com
            >>> [d.id.removeprefix(arcgis_site) for d in hub.datasets("map")]
            ['/arcgis/rest/services/Cases/FeatureServer/0']
        """
        if self.service is None:
            found = hub_datasets(self.http.get_json(self.url + FEED_PATH), q, limit=None)
            return [d for d in found if layer_allowed(d.id, self.url, self.allow_hosts)][:limit]
        body = self.http.get_json(self.service)
        out = []
        for entry in [*(body.get("layers") or []), *(body.get("tables") or [])]:
            name = str(entry.get("name") or "")
            if entry.get("subLayerIds") or (q and q.lower() not in name.lower()):
                continue  # group layers hold no rows
            out.append(DatasetSummary(id=str(entry["id"]), name=name, link=f"{self.service}/{entry['id']}"))
        return out[:limit]

    # -- rows -------------------------------------------------------------------------------

    def _where(self, info: LayerInfo, where: str | None, since: Any = None, before: Any = None) -> str:
        clauses = [f"({where})"] if where else []
        for value, op in ((since, ">="), (before, "<")):
            if value is None:
                continue
            if not info.edit_date_field:
                raise self.not_supported("changes")
            clauses.append(f"{info.edit_date_field} {op} {timestamp_literal(moment(value))}")
        return " AND ".join(clauses) or "1=1"

    def iter_batches(self, dataset_id: str, **options: Unpack[PullOptions]) -> Iterator[pa.RecordBatch]:
        """Matching rows as typed record batches, ordered by ``order`` or else by object id.

        Example:
            >>> conn = ArcgisConnector(arcgis_url)  # a stand-in FeatureServer
            >>> batch = next(conn.iter_batches("0", select="case_id, geometry"))
            >>> batch.column("geometry")[0]
            <pyarrow.StringScalar: 'POINT (-73.2 44.47)'>
        """
        info = self.layer(dataset_id)
        names = select_names(info, options.get("select"))
        where = self._where(info, options.get("where"), options.get("since"))
        return self._batches(dataset_id, info, names, where, options.get("order"), ranges=False)

    def iter_changes(
        self, dataset_id: str, *, columns: Sequence[str], since: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows edited at or after ``since`` with ``:id`` and ``:updated_at``, paged by object id.

        Example:
            >>> conn = ArcgisConnector(arcgis_url)  # a stand-in FeatureServer
            >>> changes = conn.iter_changes("1", columns=["amount"], since="2024-03-01T00:00:01")
            >>> next(changes).column_names
            [':id', ':updated_at', 'amount']
        """
        info = self.layer(dataset_id)
        if not info.edit_date_field:
            raise self.not_supported("changes")
        names = [":id", ":updated_at", *[c for c in columns if c not in (":id", ":updated_at")]]
        return self._batches(dataset_id, info, names, self._where(info, None, since), None, ranges=True)

    def row_stats(
        self, dataset_id: str, *, since: str | None = None, before: str | None = None
    ) -> tuple[int, str | None]:
        """Rows edited in ``[since, before)`` and the latest edit date (ISO with ``Z``), one request.

        Example:
            >>> conn = ArcgisConnector(arcgis_url)  # a stand-in FeatureServer
            >>> conn.row_stats("1")
            (120, '2024-03-01T00:00:01.000Z')
        """
        info = self.layer(dataset_id)
        if not info.edit_date_field or not info.oid_field:
            raise self.not_supported("changes")
        url, where = self.layer_url(dataset_id), self._where(info, None, since, before)
        count, latest = edit_stats(self._fetcher(url), lambda w: self._count(url, w), info, where)
        return count, (iso_z(latest) if latest is not None else None)

    def _batches(
        self,
        dataset_id: str,
        info: LayerInfo,
        names: list[str],
        where: str,
        order: str | None,
        *,
        ranges: bool,
    ) -> Iterator[pa.RecordBatch]:
        url = self.layer_url(dataset_id)
        wanted = readers(info, names)
        fields = {info.source_name(n) for n in names if n != GEOMETRY_COLUMN} | {info.oid_field}
        geometry = GEOMETRY_COLUMN in names
        params: Params = {"where": where, "outFields": ",".join(sorted(f for f in fields if f))}
        params |= {"returnGeometry": "true" if geometry else "false"}
        if geometry:
            params["outSR"] = 4326
        order_by, sort = order_fields(info, order)
        batch, count = (None, None) if ranges else self._one_answer(url, info, params, where, wanted)
        if batch is not None:
            answer = pa.Table.from_batches([batch]).sort_by(sort).to_batches() if sort else [batch]
            yield from checked(
                answer, expected=count, recount=lambda: self._count(url, where), what=f"ArcGIS layer {url}"
            )
            return
        offsets = not ranges and info.oid_field is not None and self._offsets_work(url, info)
        if sort and not offsets:
            # Ranges come in object-id order only: sort the whole result here (memory grows).
            table = pa.Table.from_batches(
                [decode_features(p, wanted) for p in self._pages(url, info, params, None, False, count)],
                schema=pa.schema([pa.field(n, t) for n, t, *_ in wanted]),
            )
            batches: Iterator[pa.RecordBatch] = iter(table.sort_by(sort).to_batches())
        else:
            pages = self._pages(url, info, params, order_by, offsets, count)
            batches = (decode_features(page, wanted) for page in pages)
        if ranges:  # changed rows: the sync engine compares its own counts
            yield from batches
            return
        yield from checked(
            batches, expected=count, recount=lambda: self._count(url, where), what=f"ArcGIS layer {url}"
        )

    def _one_answer(
        self,
        url: str,
        info: LayerInfo,
        params: Params,
        where: str,
        wanted: list[Wanted],
    ) -> tuple[pa.RecordBatch | None, int]:
        """Every row of a pull decoded from one plain query (no paging parameters), in object-id
        order, where the server gives them all (a layer within ``maxRecordCount``; Koop gives any
        layer whole), and the count of rows ``where`` matches. The batch is None when the answer is
        one page of several (it is then read by pages). Not with ``page_size`` set.

        The count is asked while the answer is decoded (on a second connection): a server that
        scans its data for every request (Koop) counts while this process decodes.
        """
        if self.page_size is not None or info.oid_field is None:
            return None, self._count(url, where)
        try:  # no orderByFields: the rows are sorted here, so the server need not sort them too
            body = self._query(url, params)
        except PortalError as exc:
            if isinstance(exc, PortalUnavailable) or self._count(url, where):
                raise
            return None, 0  # an empty layer whose server refuses a plain query: nothing to read
        features: list[dict[str, Any]] = body.get("features") or []
        if exceeded(body) is True:
            return None, self._count(url, where)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="btvstat-count") as pool:
            counting = pool.submit(self._count, url, where)
            batch = _by_oid(features, wanted, str(info.oid_field))
            count = counting.result()
        return (batch if len(features) == count else None), count

    def _offsets_work(self, url: str, info: LayerInfo) -> bool:
        if url not in self._paginates:
            works = info.supports_pagination and info.oid_field is not None
            self._paginates[url] = works and probe_pagination(self._fetcher(url), str(info.oid_field))
        return self._paginates[url]

    def _fetcher(self, url: str) -> Any:
        return lambda params: self._query(url, params)

    def _pages(
        self,
        url: str,
        info: LayerInfo,
        params: Params,
        order_by: str | None,
        offsets: bool,
        count: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        def stop_offsets() -> None:
            self._paginates[url] = False

        step = min(self.page_size or info.max_record_count, info.max_record_count)
        return layer_pages(
            self._fetcher(url),
            lambda where: self._count(url, where),
            info.oid_field,
            params,
            order_by=order_by,
            offsets=offsets,
            step=step,
            on_repeat=stop_offsets,
            count=count,
            fetch_ids=lambda params: self._query(url, params, post=True),
        )


def _by_oid(features: list[dict[str, Any]], wanted: list[Wanted], oid: str) -> pa.RecordBatch:
    """The features decoded, in object-id order (rows that share an id in the order they came)."""
    try:
        ids = pa.array([(f.get("attributes") or {}).get(oid) for f in features], type=pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        ids = None  # ids written as floats or text: sort them here
    if ids is None or ids.null_count:
        features = sorted(features, key=lambda f: oid_of((f.get("attributes") or {}).get(oid)) or 0)
        return decode_features(features, wanted)
    order = pc.sort_indices(ids, sort_keys=[("", "ascending")])
    return decode_features(features, wanted).take(order)
