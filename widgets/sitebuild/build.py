"""Write the public site as files: every public URL the app answers an anonymous visitor.

The app is driven in process (:mod:`btvstat_open.web.inprocess`) at the site's own address, so
every file holds exactly the bytes the server would send. The URLs come from the app's public
routes filled with the catalog's ids (:mod:`widgets.sitebuild.seeds`) and from the links of
every page written (and every stylesheet), so nothing is kept by hand. Only answers of the
``public`` routes a caller names, asked for without signing in, are written: a private KPI is a
404 for an anonymous visitor, as are its images and downloads, so it never reaches a file.

A rebuild renders again only the URLs whose datasets changed (:mod:`widgets.sitebuild.manifest`),
writes only files whose bytes changed (each atomically), and removes files no longer produced.

Example:
    >>> from btvstat_open.server import create_app  # store, catalog: the demo's
    >>> report = build_site(create_app(store, catalog), scratch / "site", base_url="https://city.example",
    ...                     public=PUBLIC_TEST_ROUTES)                        # doctest: +SKIP
    >>> report.line()                                                         # doctest: +SKIP
    'Wrote 350 files (350 written, 0 unchanged, 0 removed; 350 rendered, 0 kept)'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
import re
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import requests

from widgets.packets.layout import PdfProcesses
from widgets.route_context import WidgetContext
from widgets.sitebuild.extras import site_extras
from widgets.sitebuild.fetch import Fetched, Fetcher
from widgets.sitebuild.folder import (
    KEPT_PACKETS,
    BuildReport,
    SiteFolder,
    dataset_versions,
    prepare_folder,
)
from widgets.sitebuild.headers import security_of
from widgets.sitebuild.heap import collections_paused, long_lived
from widgets.sitebuild.manifest import ALL_DATASETS, Entry, Manifest, code_fingerprint
from widgets.sitebuild.paths import css_links, file_for, page_links, relative_links, site_path
from widgets.sitebuild.seeds import locale_prefixes, route_ids, route_of, seed_paths
from widgets.sitebuild.series_store import load_series, save_series

__all__ = ["BuildReport", "build_site", "prepare_folder"]

#: a page's links, each with why it cannot be on the static site ("" when it can)
Links = list[tuple[str, str]]

# The addresses about one KPI (its page, embed, images, downloads, feed), and which KPI.
_KPI_ADDRESS = re.compile(r"^/(?:kpi|embed)/([^/.]+)")


class _Unanswered(Exception):
    """The server does not answer a URL with a page (its status says why)."""


class _Build:
    """One build's state: the app, the folder, the last build's manifest and this one's."""

    def __init__(self, app: Any, out: Path, base: str, public: Collection[str], old: Manifest | None) -> None:
        self.app, self.out, self.base, self.public = app, out, base.rstrip("/"), set(public)
        self.ctx: WidgetContext = app.state.widget_routes
        service = self.ctx.service
        self.store = service.store
        inputs = {
            "code": code_fingerprint(),
            "catalog": service.catalog_version,
            "as_of": service.today().isoformat(),
            "base_url": self.base,
        }
        self.old = old if old is not None and old.inputs == inputs else None
        self.new = Manifest(inputs)
        self.prefixes = locale_prefixes(service.settings)
        self.locales = [str(code) for code in getattr(service.settings, "locales", None) or []]
        self.choosers = {f"/locale/{code}" for code in self.locales}
        self.versions = dataset_versions(self.store)
        self.report = BuildReport()
        self.folder = SiteFolder(out)
        self.routes: dict[str, str | None] = {}
        self.checks: dict[str, tuple[str, str] | None] = {}  # link -> _check(link)
        self.skip_pdf = False
        #: images asked on another thread, in the order asked: written as their answers come in
        self.pending: deque[tuple[str, Future[Fetched]]] = deque()

    def seeds(self) -> list[str]:
        """The seed paths: the program's pages first, then each KPI's addresses together (in
        every locale), so what they share (its series, facts and chart specs) is still cached."""
        paths = seed_paths(sorted(self.public), route_ids(self.ctx))
        return sorted({prefix + path for prefix in self.prefixes for path in paths}, key=self._order)

    def _order(self, path: str) -> tuple[str, str, bool, str]:
        """A KPI's addresses together, in each locale; its PNG images after the SVGs they rasterise."""
        first = path.split("/", 2)[1] if path.count("/") > 1 else ""
        prefix = "/" + first if "/" + first in self.prefixes else ""
        bare = path[len(prefix) :]
        about = _KPI_ADDRESS.match(bare)
        return (about.group(1) if about else "", prefix, bare.endswith(".png"), bare)

    def route(self, path: str) -> str | None:
        """The template of the route that answers ``path`` (locale prefix set aside), remembered."""
        if path not in self.routes:
            self.routes[path] = self._route(path)
        return self.routes[path]

    def _route(self, path: str) -> str | None:
        for prefix in self.prefixes:
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                return route_of(self.app, path[len(prefix) :] or "/")
        return route_of(self.app, path)

    def walk(self, fetch: Fetcher) -> None:
        seeds = self.seeds()
        seeded = set(seeds)
        queue, source = deque(seeds), dict.fromkeys(seeds, "")
        while queue or self.pending:
            path, step = self._next(queue, fetch)
            try:
                links = step()
            except _Unanswered as exc:
                if path not in seeded:
                    self.report.broken.append(f"{source[path]} -> {path}: {exc}")
                continue
            for link, why in links:
                if why:
                    self.report.broken.append(f"{path} -> {link}: {why}")
                elif link not in source:
                    source[link] = path
                    queue.append(link)

    def _next(self, queue: deque[str], fetch: Fetcher) -> tuple[str, Callable[[], Links]]:
        """The next address and what writes it: an image asked on another thread once its answer
        is in (or nothing else is left), else the next address of the walk."""
        if self.pending and (not queue or self.pending[0][1].done()):
            path, later = self.pending.popleft()
            return path, lambda: self.answered(path, *later.result())
        path = queue.popleft()
        return path, lambda: self.visit(fetch, path)

    def visit(self, fetch: Fetcher, path: str, *, now: bool = False) -> Links:
        """Write one URL; its links, each with why it cannot be on the site ("" when it can). An
        image (no links) may be asked on another thread: :meth:`walk` writes it when it is in."""
        if self.skip_pdf and path.endswith(".pdf"):
            return []
        old = self.old.urls.get(path) if self.old else None
        if old is not None and old.fresh(self.versions) and self.folder.intact(old) and self._carry(old):
            self.new.urls[path] = old
            self.report.kept += 1
            self.folder.outcome[old.file] = False
            return self._checked(old.links)
        absent = self.old.absent.get(path) if self.old else None
        if absent is not None and Entry("", "", 0, absent, []).fresh(self.versions):
            self.new.absent[path] = absent  # still no such page (a KPI without a breakdown)
            raise _Unanswered("the server has no such page")
        later = None if now or not path.endswith(".png") else fetch.later(path)
        if later is not None:
            self.pending.append((path, later))
            return []
        return self.answered(path, *fetch.get(path))

    def answered(self, path: str, answer: requests.Response, reads: set[str]) -> Links:
        """Write the app's answer to ``path`` (built from the datasets ``reads``); its links."""
        if answer.status_code != 200:
            if answer.status_code == 404:  # whether it exists is the catalog's word, or its data's
                self.new.absent[path] = {d: self.versions.get(d, "-1") for d in sorted(reads)}
            raise _Unanswered(f"the server answers {answer.status_code}")
        media = answer.headers.get("content-type", "")
        html = media.startswith("text/html")
        body = answer.content
        raw, links = self._links(path, media, body)
        entry = Entry(file_for(path, html=html), "", len(body), self._deps(path, reads), links)
        entry.sha256 = hashlib.sha256(body).hexdigest()
        entry.security = self._security(security_of(path, answer.headers))
        self.folder.write(entry.file, body)
        self.new.urls[path] = entry
        self.report.rendered += 1
        moved = relative_links(raw, path) if html else []
        problems = [(link, "a relative link: a static server resolves it differently") for link in moved]
        return problems + self._checked(links)

    def _carry(self, entry: Entry) -> bool:
        """Keep a kept entry's header set in the new manifest (False when the old one lacks it)."""
        assert self.old is not None
        found = self.old.security.get(entry.security)
        if found is not None:
            self.new.security[entry.security] = found
        return found is not None

    def _security(self, headers: dict[str, str]) -> str:
        digest = hashlib.sha256(json.dumps(headers, sort_keys=True).encode()).hexdigest()[:16]
        self.new.security[digest] = headers
        return digest

    def _checked(self, links: list[str]) -> Links:
        checks = self.checks
        for link in links:
            if link not in checks:
                checks[link] = self._check(link)
        return [checked for link in links if (checked := checks[link]) is not None]

    def _check(self, link: str) -> tuple[str, str] | None:
        """The link with why it cannot be on the site ("" when it can); None for the language
        selector (a page of its own)."""
        if link.rstrip("/") in self.choosers:
            return None
        public = self.route(link) in self.public  # None (no route answers it) is not among them
        return (link, "" if public else "not a public address of the server")

    def _links(self, path: str, media: str, body: bytes) -> tuple[list[str], list[str]]:
        """The links as written, and the site paths they lead to (sorted, once each)."""
        if media.startswith("text/html"):
            raw = page_links(body.decode("utf-8", "replace"))
        elif media.startswith("text/css"):
            raw = css_links(body.decode("utf-8", "replace"))
        else:
            return [], []
        found = {site_path(link, path, self.base, self.locales) for link in raw}
        return raw, sorted(link for link in found if link is not None)

    def _deps(self, path: str, reads: set[str]) -> dict[str, str]:
        """What a URL shows: the datasets read to answer it; for an answer that reads none through
        the widgets (the local portal's documents, a dataset's download), the dataset its address
        names, none for the product's own files, else every dataset."""
        if not reads:
            names = {posixpath.splitext(part)[0] for part in path.split("/")}
            reads = {dataset for dataset in self.versions if dataset in names}
        route = self.route(path) or ""
        if not reads and route not in ("/static/{name}", "/embed.js"):
            reads = {ALL_DATASETS}
        if route.startswith("/meetings"):  # a packet --refresh keeps a revision the list links to
            reads = {*reads, KEPT_PACKETS}
        return {dataset: self.versions.get(dataset, "-1") for dataset in sorted(reads)}

    def settle(self, fetch: Fetcher) -> None:
        """Render again what a dataset written during the build changed (answering a page may
        record what it published): the manifest then holds the versions the files show."""
        for _ in range(3):
            now = dataset_versions(self.store)
            if now == self.versions:
                return
            self.versions = now
            # A cached answer still fresh on the server records no reads: each is built again.
            self.ctx.responses.clear()
            for path, entry in sorted(self.new.urls.items()):
                if not entry.fresh(now):
                    del self.new.urls[path]
                    with contextlib.suppress(_Unanswered):
                        self.visit(fetch, path, now=True)

    def finish(self) -> None:
        """Write the static site's own files (:func:`widgets.sitebuild.extras.site_extras`); count."""
        for name, body in site_extras(self.ctx, self.base, self.new, self.locales, self.prefixes).items():
            self.folder.write(name, body)
            self.new.extras[name] = hashlib.sha256(body).hexdigest()
        outcome = self.folder.outcome
        self.report.written = sum(outcome.values())
        self.report.changed = sorted(name for name, wrote in outcome.items() if wrote)
        self.report.unchanged = len(outcome) - self.report.written

    def remove_stale(self, previous: Manifest | None) -> None:
        if previous is not None:
            self.report.removed = self.folder.remove(previous.files() - self.new.files())


def build_site(
    app: Any,
    out: str | Path,
    *,
    base_url: str,
    public: Collection[str],
    pdfs: bool = True,
    parallel: bool = True,
) -> BuildReport:
    """Build the public site of ``app`` (:func:`btvstat_open.server.create_app`) into ``out``.

    ``base_url`` is the address the site will be served at (links that name the site, such as a
    KPI page's embed code, start with it); ``public`` are the route templates whose answers may
    be written. ``pdfs=False`` leaves the packets' PDFs out (their links then lead nowhere).
    ``parallel`` draws the PNG images on other threads and a worker process meanwhile
    (:mod:`widgets.sitebuild.fetch`); the files are the same bytes without it.
    """
    out = Path(out)
    with collections_paused():  # the last manifest: a million objects at once, none of them garbage
        previous = prepare_folder(out)
    with long_lived():
        return _build(app, out, base_url, public, previous, pdfs=pdfs, parallel=parallel)


def _build(
    app: Any,
    out: Path,
    base_url: str,
    public: Collection[str],
    previous: Manifest | None,
    *,
    pdfs: bool,
    parallel: bool,
) -> BuildReport:
    build = _Build(app, out, base_url, public, previous)
    build.skip_pdf = not pdfs
    service = build.ctx.service
    if build.old is not None:  # the series the last build measured that are still the same
        load_series(service, out, build.new.inputs)
    build.ctx.responses.clear()  # every URL built here, so each one records what it reads
    # No lifespan: its warm-ups serve a server's first visitors; a rebuild may render nothing.
    # Every version looked up once (a write during the build ends the pin): thousands of pages ask
    # whether the same few datasets exist.
    with Fetcher(app, build.base, parallel=parallel) as fetch, build.store.pinned_versions():
        try:
            build.walk(fetch)
            build.settle(fetch)
        finally:
            layout = build.ctx.packets.layout
            if isinstance(layout, PdfProcesses):
                layout.close()
    build.finish()
    build.remove_stale(previous)
    save_series(service, out, build.new.inputs)
    build.new.save(out)
    build.report.broken.sort()
    return build.report
