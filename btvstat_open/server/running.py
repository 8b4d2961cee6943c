"""What ``serve`` does while it runs: reload the catalog when it changes, and sync on a schedule.

- :class:`SwappableApp` is the ASGI app uvicorn serves: it passes each request to the current
  app, and :meth:`~SwappableApp.swap` replaces that app in one step (requests under way finish on
  the old one).
- :class:`CatalogWatcher` looks at the catalog's files every few seconds (and at once on
  ``SIGHUP``); when they changed, it builds the app anew from them and swaps it in. A catalog
  with errors is logged and the last good one keeps serving.
- :class:`SyncSchedule` runs the catalog's syncs every ``sync_every`` (``catalog.yaml``), one
  run at a time, with the outcomes and failure isolation of ``btvstat-open sync``: a dataset that
  fails keeps its last good copy, and its line is logged.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "catalog.yaml").write_text("title: A")
    >>> before = catalog_signature(folder)
    >>> _ = (folder / "catalog.yaml").write_text("title: B, longer")
    >>> catalog_signature(folder) != before
    True
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from btvstat_open.errors import BtvstatError, CatalogError
from btvstat_open.store import Store
from catalog.models import Catalog
from catalog.models.catalog_yaml import every_seconds

__all__ = ["CatalogWatcher", "SwappableApp", "SyncSchedule", "catalog_signature"]

log = logging.getLogger("btvstat_open.serve")
# Catalog text, and the files a theme may name (template overrides, logo, fonts).
_CATALOG_FILES = (".yaml", ".yml", ".md", ".html", ".svg", ".png", ".woff2", ".woff", ".ttf")


class SwappableApp:
    """An ASGI app that forwards to the current app; lifespan events go to the first one."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._first = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        app = self._first if scope["type"] == "lifespan" else self.app
        await app(scope, receive, send)

    def swap(self, app: Any) -> None:
        """Serve ``app`` from the next request on."""
        self.app = app


def catalog_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Each catalog file (YAML, Markdown, theme files) with its modification time and size."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in _CATALOG_FILES and path.is_file():
            stat = path.stat()
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def problem_lines(exc: BtvstatError) -> list[str]:
    """An error as lines: a catalog's problems one a line (``file:line: message``)."""
    if isinstance(exc, CatalogError) and exc.problems:
        return [
            f"{file}:{line}: {message}" if line else f"{file}: {message}"
            for file, line, message in exc.problems
        ]
    return [str(exc)]


class CatalogWatcher:
    """Rebuilds the served app when the catalog's files change; keeps the last good one on errors.

    ``rebuild`` loads the catalog and swaps the app (raising :class:`BtvstatError` when the
    catalog has errors); ``report`` receives one line per thing to log.
    """

    def __init__(
        self,
        folder: Path,
        rebuild: Callable[[], Catalog],
        report: Callable[[str], None],
        *,
        interval: float = 2.0,
    ) -> None:
        self.folder = folder
        self._rebuild = rebuild
        self._report = report
        self._interval = interval
        self._seen = catalog_signature(folder)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catalog-watch", daemon=True)

    def start(self) -> None:
        """Watch in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._wake.set()

    def reload_now(self) -> None:
        """Reload at once, changed or not (``SIGHUP``)."""
        self._seen = ()
        self._wake.set()

    def check(self) -> bool:
        """Reload if the files changed since the last look; whether a new catalog is served."""
        signature = catalog_signature(self.folder)
        if signature == self._seen:
            return False
        self._seen = signature
        try:
            catalog = self._rebuild()
        except BtvstatError as exc:
            self._report(f"catalog reload failed; still serving the last good catalog. Fix {self.folder}:")
            for line in problem_lines(exc):
                self._report(f"  {line}")
            return False
        self._report(f"catalog reloaded from {self.folder}: {len(catalog.kpis)} KPIs")
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.check()
            except Exception:  # a bug must not stop the watching
                log.exception("catalog reload failed")


class SyncSchedule:
    """Runs the current catalog's syncs every ``sync_every``, one run at a time, in one thread."""

    def __init__(self, store: Store, catalog: Callable[[], Catalog], report: Callable[[str], None]) -> None:
        self._store = store
        self._catalog = catalog
        self._report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-schedule", daemon=True)
        self.runs = 0

    def start(self) -> None:
        """Run in a background thread (a catalog without ``sync_every`` waits for one that has it)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the run under way."""
        self._stop.set()

    def run_once(self) -> None:
        """One run: every remote dataset of the catalog, each line logged."""
        from catalog.dataset_meta import apply_dataset_metadata
        from catalog.sync_all import sync_catalog

        catalog = self._catalog()
        outcomes = sync_catalog(catalog, self._store, on_done=lambda o: self._report(f"sync: {o.line()}"))
        apply_dataset_metadata(catalog.settings, self._store)
        failed = sum(not o.ok for o in outcomes)
        if failed:
            self._report(f"sync: {failed} of {len(outcomes)} datasets failed; they keep their last good copy")
        self.runs += 1

    def _every(self) -> float | None:
        every = self._catalog().settings.sync_every
        return every_seconds(every) if every else None

    def _run(self) -> None:
        while not self._stop.is_set():
            every = self._every()
            if self._stop.wait(every if every is not None else 60.0):
                return
            if every is None or self._every() is None:
                continue
            try:
                self.run_once()
            except BtvstatError as exc:
                self._report(f"sync: {exc}")
            except Exception:  # a bug must not stop the schedule
                log.exception("scheduled sync failed")
