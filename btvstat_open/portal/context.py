"""What every portal route shares: the store, the settings, the heavy-work pools, a metadata cache.

The routes are module-level FastAPI routers; each path function takes the app's
:class:`PortalContext` as a dependency (``ctx: Portal``), which :func:`get_portal` reads from
``request.app.state.portal`` (set by :func:`btvstat_open.portal.app.install_portal`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any, cast

import duckdb
from fastapi import Depends
from starlette.requests import Request

from btvstat_open.errors import DatasetNotFound, InvalidDatasetId
from btvstat_open.portal.auth import has_write_token
from btvstat_open.store import DatasetInfo, Store, as_utc, check_dataset_id
from btvstat_open.store.engine_errors import engine_error
from btvstat_open.web.budget import Pools
from btvstat_open.web.files import DownloadFiles
from btvstat_open.web.settings import Settings

__all__ = ["Portal", "PortalContext", "as_utc", "epoch_seconds", "get_portal", "http_date"]


def epoch_seconds(moment: datetime) -> int:
    """Seconds since 1970 (Socrata's ``rowsUpdatedAt``/``viewLastModified``).

    Example:
        >>> epoch_seconds(datetime(1970, 1, 2))
        86400
    """
    return int(as_utc(moment).timestamp())


def http_date(moment: datetime) -> str:
    """An HTTP date for ``Last-Modified``.

    Example:
        >>> http_date(datetime(2020, 1, 7))
        'Tue, 07 Jan 2020 00:00:00 GMT'
    """
    return format_datetime(as_utc(moment).replace(microsecond=0), usegmt=True)


class PortalContext:
    """The store, settings and pools behind the routes, with :class:`DatasetInfo` cached by version.

    A request costs one indexed lookup of the dataset's version instead of a metadata read and
    a row count; any write bumps the version, so the cache never serves stale metadata.

    Example:
        >>> ctx = PortalContext(store, Settings())  # store: one with the demo data
        >>> ctx.info("kc-311-potholes").row_count
        4493
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        pools: Pools | None = None,
        *,
        data_json: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.pools = pools or Pools.from_settings(settings)
        self.data_json = data_json  # replaces the store's own /data.json (see install_portal)
        #: full exports written once per dataset version, answered with ranges
        self.files = DownloadFiles(settings.downloads_dir)
        self._infos: dict[str, DatasetInfo] = {}
        self._lock = threading.Lock()

    def info(self, dataset_id: str) -> DatasetInfo:
        """The metadata of the dataset ``dataset_id`` names (its id or its 4x4); raises
        :class:`DatasetNotFound`. Routes use the answer's ``id`` for anything they do next."""
        try:
            check_dataset_id(dataset_id)
        except InvalidDatasetId:
            # Socrata answers a malformed id as an unknown one: a 404, not a 400.
            raise DatasetNotFound(dataset_id) from None
        key = dataset_id
        try:
            version = self.store.versions([dataset_id]).get(dataset_id)
            if version is None:  # perhaps the dataset's 4x4
                dataset_id = self.store.resolve(dataset_id) or dataset_id
                version = self.store.versions([dataset_id]).get(dataset_id)
        except duckdb.Error as exc:
            raise engine_error(exc, "the dataset lookup") from exc
        if version is None:
            raise DatasetNotFound(key)
        cached = self._infos.get(dataset_id)
        if cached is not None and cached.data_version == version:
            return cached
        info = self.store.info(dataset_id)
        with self._lock:
            self._infos[dataset_id] = info
        return info

    def readable(self, dataset_id: str, request: Request) -> DatasetInfo:
        """The dataset's metadata for a read: a private dataset is a 404 without the write token.

        Socrata answers a private dataset's anonymous reader as if it did not exist, so its
        existence does not leak either.
        """
        info = self.info(dataset_id)
        if not info.public and not has_write_token(request, self.settings):
            raise DatasetNotFound(dataset_id)
        return info

    def visible(self, request: Request) -> list[DatasetInfo]:
        """Every dataset this request may list: all with the write token, else the public ones."""
        infos = self.store.datasets()
        if has_write_token(request, self.settings):
            return infos
        return [info for info in infos if info.public]

    def forget(self, dataset_id: str) -> None:
        """Drop a cached entry (after the dataset is dropped)."""
        with self._lock:
            self._infos.pop(dataset_id, None)


async def get_portal(request: Request) -> PortalContext:
    """The app's portal context: the dependency of every portal route (async: no thread hop).

    Example:
        >>> import asyncio, tempfile
        >>> from types import SimpleNamespace
        >>> ctx = PortalContext(Store(tempfile.mkdtemp()), Settings())
        >>> request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(portal=ctx)))
        >>> asyncio.run(get_portal(request)) is ctx
        True
    """
    return cast(PortalContext, request.app.state.portal)


Portal = Annotated[PortalContext, Depends(get_portal)]
