"""What the widget routes share: the catalog, the store, and caches of series, specs and images.

Every cached value is keyed by the KPI id, the catalog version, the source dataset's version, the
as-of day (periods end and data grows stale as days pass) and the chart options, so a data change
or a new day gives a new key and a fresh value without a restart. The as-of day is
:func:`catalog.asof.today_for`: ``serve --as-of``, else the catalog's ``as_of``, else the local date.

Example:
    >>> service = WidgetService(store, catalog)
    >>> service.svg(service.kpi("pothole-days-to-close"), ChartOptions())[:4]
    '<svg'
"""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from btvstat_open.errors import KpiNotFound, UsageError
from btvstat_open.i18n import _, current_locale, in_current_locale
from btvstat_open.store import Store
from catalog import measure
from catalog.actions import is_unattended, overdue_actions
from catalog.asof import history_note, today_for
from catalog.breakdown import breakdown, publishable_rows
from catalog.data_checks import held_at
from catalog.dated_goals import GoalProgress, kpi_progress
from catalog.definitions import definition_changes, with_definition_notes
from catalog.explain import target_in_force, why_empty
from catalog.freshness import FreshnessReport, freshness
from catalog.ledger import published, record, with_published
from catalog.localized import default_text, localized
from catalog.models import Action, Catalog, CatalogSettings, Kpi
from catalog.peers import Comparison, comparison
from catalog.updates import UPDATES_DATASET
from widgets.cache import DataVersions, LruCache
from widgets.charts import Width, chart_spec, recoloured, titled
from widgets.empty_chart import empty_spec, empty_svg
from widgets.images import image_png, image_svg
from widgets.sparkline import sparkline_svg
from widgets.summary import Row, Summary, format_value, rows, summarize
from widgets.themes import THEME_NAMES

__all__ = ["HEIGHTS", "WIDTHS", "ChartOptions", "KpiFacts", "WidgetService", "parse_options", "snap_size"]

MIN_HEIGHT, MAX_HEIGHT = 120, 1200
FACT_THREADS = 4
MIN_WIDTH, MAX_WIDTH = 200, 2400
#: chart sizes are drawn from these steps (a requested size goes to the nearest), so a client
#: cannot make the server render anew by asking for a new size each time
WIDTHS = (240, 320, 400, 480, 560, 640, 720, 800, 960, 1120, 1280, 1600, 1920, 2400)
HEIGHTS = (120, 160, 200, 240, 280, 320, 400, 480, 560, 640, 800, 960, 1200)


@dataclass(frozen=True)
class ChartOptions:
    """Validated chart options from a query string."""

    theme: str = "light"
    height: int | None = None
    width: int = 720
    plain: bool = False


def _size(name: str, raw: str, low: int, high: int, steps: tuple[int, ...]) -> int:
    """A size option, snapped to the nearest of ``steps``.

    Example:
        >>> _size("width", "700", MIN_WIDTH, MAX_WIDTH, WIDTHS)
        720
    """
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # "¹" is a digit too
        raise UsageError(
            f"Query option {name}={raw[:40]!r} is not allowed: "
            f"use a whole number of pixels from {low} to {high}.",
            code="query.bad-option",
        )
    return min(steps, key=lambda step: (abs(step - int(raw)), step))


def snap_size(name: str, raw: str) -> str:
    """The size a ``width``/``height`` value is drawn at, as text (the value itself if invalid).

    Example:
        >>> snap_size("height", "333"), snap_size("width", "x")
        ('320', 'x')
    """
    low, high, steps = (
        (MIN_WIDTH, MAX_WIDTH, WIDTHS) if name == "width" else (MIN_HEIGHT, MAX_HEIGHT, HEIGHTS)
    )
    try:
        return str(_size(name, raw, low, high, steps))
    except UsageError:
        return raw


def parse_options(query: dict[str, str], *, allowed: tuple[str, ...], auto: bool = False) -> ChartOptions:
    """Validate chart query options; a bad value is a :class:`UsageError` (HTTP 400) saying why.

    ``width`` and ``height`` are snapped to the nearest of :data:`WIDTHS` and :data:`HEIGHTS`.

    Example:
        >>> parse_options({"theme": "dark", "height": "240"}, allowed=("theme", "height"))
        ChartOptions(theme='dark', height=240, width=720, plain=False)
    """
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise UsageError(
            f"Unknown query option {unknown[0][:40]!r}; this address accepts: {', '.join(allowed)}.",
            code="query.bad-option",
        )
    themes = (*THEME_NAMES, "auto") if auto else THEME_NAMES
    theme = query.get("theme", "auto" if auto else "light")
    if theme not in themes:
        raise UsageError(
            f"Query option theme={theme[:40]!r} is not allowed: use one of {', '.join(themes)}.",
            code="query.bad-option",
        )
    height = _size("height", query["height"], MIN_HEIGHT, MAX_HEIGHT, HEIGHTS) if "height" in query else None
    width = _size("width", query["width"], MIN_WIDTH, MAX_WIDTH, WIDTHS) if "width" in query else 720
    plain_raw = query.get("plain", "0")
    if plain_raw not in ("0", "1", "true", "false"):
        raise UsageError(
            f"Query option plain={plain_raw[:40]!r} is not allowed: use 1 or 0.", code="query.bad-option"
        )
    return ChartOptions(theme=theme, height=height, width=width, plain=plain_raw in ("1", "true"))


@dataclass(frozen=True)
class KpiFacts:
    """What every card, page and list says about a KPI as of the service's day."""

    kpi: Kpi
    summary: Summary
    freshness: FreshnessReport
    overdue: tuple[Action, ...]
    unattended: bool
    #: why the series has no value (None when it has one): see catalog.explain
    empty_reason: str | None = None
    #: the target to show: the latest period's, else the one in force today ("" for none)
    target_label: str = ""
    #: progress toward the KPI's dated goal (None without one): see catalog.dated_goals
    progress: GoalProgress | None = None
    #: the measured series (a goal's own dated goal reads the KPI that measures it)
    series: pa.Table | None = None

    @property
    def status(self) -> str:
        """The latest period's status."""
        return self.summary.status


def _in_force(kpi: Kpi, today: date) -> str:
    """The target in force today, as a label ("" when none is): never "no target" when one is."""
    target = target_in_force(kpi, today)
    return "" if target is None or target.value is None else format_value(target.value, kpi)


class WidgetService:
    """The catalog's public KPIs over a store, with cached series, specs and renders.

    ``as_of`` is ``serve --as-of``; without it the catalog's ``as_of`` (or the local date) decides
    what "today" is (see :meth:`today`).
    """

    def __init__(
        self,
        store: Store,
        catalog: Catalog | None,
        *,
        versions: DataVersions | None = None,
        as_of: date | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.versions = versions or DataVersions(store)
        self.as_of = as_of
        self.versions.day = self.today  # responses depend on the as-of day too
        #: the language of the catalog's text (catalog.localized); "" without a catalog
        self.locale = catalog.locale if catalog else ""
        #: the catalog's version in its default language (series depend on it, not on the language)
        self.data_version = catalog.version if catalog else ""
        self._series: LruCache[tuple[Any, ...], pa.Table] = LruCache(512)
        self._rendered: LruCache[tuple[Any, ...], Any] = LruCache(1024)
        self._notes: dict[tuple[Any, ...], str | None] = {}  # the last data note (data_note)
        #: why a KPI's series is empty (its own queries; the same in every language)
        self._explained: LruCache[tuple[Any, ...], tuple[str | None]] = LruCache(4096)

    def localized(self, locale: str) -> WidgetService:
        """The same service over the catalog in ``locale`` (:func:`catalog.localized.localized`):
        its own caches of what shows text; a locale the catalog lacks is a UsageError (HTTP 400)."""
        catalog = localized(self.catalog, locale) if self.catalog else None
        sibling = WidgetService(self.store, catalog, versions=self.versions, as_of=self.as_of)
        sibling.locale = locale
        sibling.data_version = self.data_version
        sibling._series = self._series  # series hold no text: computed once for every language
        sibling._explained = self._explained
        return sibling

    @property
    def cached_values(self) -> int:
        """How many series, specs and images are cached (none before the first request)."""
        return len(self._series) + len(self._rendered)

    @property
    def catalog_version(self) -> str:
        """The catalog's content hash ("" without a catalog)."""
        return self.catalog.version if self.catalog else ""

    @property
    def settings(self) -> CatalogSettings:
        """The catalog's settings (defaults without a catalog)."""
        return self.catalog.settings if self.catalog else CatalogSettings()

    def today(self) -> date:
        """The as-of day: ``--as-of``, else the catalog's ``as_of``, else the local date."""
        return today_for(self.settings, self.as_of)

    def data_note(self) -> str | None:
        """For a past day: the data is as known then, and from when history runs (else None).
        Every page shows it: worked out once per day, language and set of dataset versions."""
        versions = tuple(sorted((name, str(v)) for name, v in self.versions.current().items()))
        key = (self.today(), current_locale(), versions)
        if key not in self._notes:
            datasets = (k.source.dataset for k in self.public_kpis())
            self._notes = {key: history_note(self.store, datasets, self.today(), html=True)}
        return self._notes[key]

    def public_kpis(self) -> list[Kpi]:
        """Every public KPI in catalog order."""
        if self.catalog is None:
            return []
        return [kpi for kpi in self.catalog.kpis.values() if kpi.public]

    def kpi(self, kpi_id: str) -> Kpi:
        """A public KPI by id; a missing or private one is :class:`KpiNotFound` (HTTP 404)."""
        kpi = self.catalog.kpis.get(kpi_id) if self.catalog else None
        if kpi is None or not kpi.public:
            raise KpiNotFound(
                _("No public KPI %(id)r. The list of KPIs is at /api/kpis.") % {"id": kpi_id[:80]},
                data={"id": kpi_id[:80]},
            )
        return kpi

    def deps(self, kpis: list[Kpi]) -> tuple[tuple[str, Hashable], ...]:
        """The ``(dataset, version)`` pairs responses about these KPIs depend on."""
        # program-updates: the departments' approved commentary shown beside each KPI
        return self.versions.deps([*(k.source.dataset for k in kpis), UPDATES_DATASET, *_peer_datasets(kpis)])

    def _key(self, kpi: Kpi, *extra: Any) -> tuple[Any, ...]:
        return (*self._data_key(kpi), self.catalog_version, current_locale(), *extra)

    def _data_key(self, kpi: Kpi) -> tuple[Any, ...]:
        """What a KPI's series depends on, in any language: the siblings in other languages
        (:meth:`localized`) share the series computed under it."""
        # A data check's hold decides which version of the dataset is published: part of the key.
        held = held_at(self.store, kpi.source.dataset)
        return (
            kpi.id,
            self.data_version,
            self.versions.get(kpi.source.dataset),
            self.today(),
            held,
            tuple(
                (note.date, default_text(note.text)) for note in kpi.notes
            ),  # a private page's pending marks
        )

    def series_key(self, kpi: Kpi) -> tuple[Any, ...]:
        """What the KPI's series depends on (its cache key): the same key, the same series."""
        return self._data_key(kpi)

    def known_series(self, key: tuple[Any, ...]) -> pa.Table | None:
        """The KPI's series if it is cached under ``key`` (:meth:`series_key`), else None."""
        return self._series.get(key)

    def keep_series(self, key: tuple[Any, ...], table: pa.Table) -> None:
        """Cache a series computed earlier under its :meth:`series_key` (a site build keeps them
        between runs: :mod:`widgets.sitebuild.series_store`)."""
        self._series.put(key, table)

    def series(self, kpi: Kpi) -> pa.Table:
        """The KPI's measure series (cached per data version and day)."""
        key = self._data_key(kpi)
        table = self._series.get(key)
        if table is None:
            assert self.catalog is not None  # a KPI exists only with a catalog
            table = measure(kpi, self.store, self.catalog.settings, today=key[3])
            if key[3] >= datetime.now(UTC).date():  # published today: the ledger keeps it
                record(self.store, kpi, table)
            self._series.put(key, table)
        return table

    def drawn(self, kpi: Kpi) -> Kpi:
        """The KPI as charts draw it: with a "Definition changed" rule on each day its definition did."""
        return with_definition_notes(kpi, definition_changes(self.store, kpi.id))

    def published(self, kpi: Kpi) -> pa.Table:
        """The series with each period's first published value and its latest revision time."""
        return with_published(self.series(kpi), published(self.store, kpi.id))

    def breakdown(self, kpi: Kpi) -> pa.Table:
        """The KPI's breakdown table (:func:`catalog.breakdown.breakdown`), cached like the series."""
        key = (*self._data_key(kpi), "breakdown")
        table = self._series.get(key)
        if table is None:
            table = breakdown(kpi, self.store, self.settings, today=key[3])
            self._series.put(key, table)
        return table

    def all_facts(self, kpis: list[Kpi]) -> list[KpiFacts]:
        """:meth:`facts` of many KPIs, the missing ones computed on a few threads at once.

        Most of a KPI's first computation is DuckDB work, which runs outside Python's lock, so a
        dashboard of hundreds of KPIs is built several at a time.
        """
        missing = [kpi for kpi in kpis if self._rendered.get(self._key(kpi, "facts")) is None]
        if len(missing) > 1:
            # The same few datasets are read for every KPI: their versions looked up once.
            with (
                self.store.pinned_versions(),
                ThreadPoolExecutor(max_workers=FACT_THREADS, thread_name_prefix="facts") as pool,
            ):
                list(pool.map(in_current_locale(self.facts), missing))
        return [self.facts(kpi) for kpi in kpis]

    def comparison(self, kpi: Kpi) -> Comparison | None:
        """The KPI's comparison with its peers (:func:`catalog.peers.comparison`), None without peers."""
        if kpi.peers is None:
            return None
        return comparison(kpi, self.store, self.settings, self.series(kpi), today=self.today())

    def breakdown_rows(self, kpi: Kpi) -> list[dict[str, Any]]:
        """The breakdown as publishable rows (suppressed cells without value or exact count)."""
        return publishable_rows(self.breakdown(kpi))

    def facts(self, kpi: Kpi) -> KpiFacts:
        """Latest status, freshness, overdue actions and the unattended flag of a KPI."""

        def build() -> KpiFacts:
            series_rows = self.rows(kpi)
            statuses = [row.status for row in series_rows if row.value is not None]
            today = self.today()
            summary = summarize(kpi, series_rows)
            latest = summary.latest
            shown = latest.target_label if latest and latest.target is not None else _in_force(kpi, today)
            return KpiFacts(
                kpi=kpi,
                summary=summary,
                freshness=freshness(kpi, self.store, self.series(kpi), today=today),
                overdue=tuple(overdue_actions(kpi, today)),
                unattended=is_unattended(kpi, statuses, today),
                empty_reason=None if latest else self._why_empty(kpi),
                target_label=shown,
                progress=kpi_progress(kpi, self.series(kpi)),
                series=self.series(kpi),
            )

        facts: KpiFacts = self._cached(self._key(kpi, "facts"), build)
        return facts

    def _why_empty(self, kpi: Kpi) -> str | None:
        """:func:`catalog.explain.why_empty`, once for every language (its words are the catalog's
        settings and data, not the page's language)."""
        key = self._data_key(kpi)
        found = self._explained.get(key)
        if found is None:
            reason = why_empty(kpi, self.store, self.settings, today=key[3], series=self.series(kpi))
            found = (reason,)
            self._explained.put(key, found)
        return found[0]

    def rows(self, kpi: Kpi) -> list[Row]:
        """The series as formatted rows."""
        return rows(kpi, self.series(kpi), today=self.today())

    def summary(self, kpi: Kpi) -> Summary:
        """Latest value, change and status."""
        return summarize(kpi, self.rows(kpi))

    def _cached(self, key: tuple[Any, ...], build: Any) -> Any:
        value = self._rendered.get(key)
        if value is None:
            value = build()
            self._rendered.put(key, value)
        return value

    def spec(self, kpi: Kpi, *, theme: str, width: Width, height: int | None, title: bool) -> dict[str, Any]:
        """The chart's Vega-Lite spec for pages and ``.vl.json`` (``width="container"`` fits the page)."""
        height = height or (220 if kpi.chart == "number" else 320)
        key = self._key(kpi, "spec", theme, width, height, title)
        reason = self.facts(kpi).empty_reason
        if title and not reason:  # the untitled chart (a page's, an embed's) and the title: no new build
            untitled = self.spec(kpi, theme=theme, width=width, height=height, title=False)
            return self._cached(key, lambda: titled(untitled, kpi))  # type: ignore[no-any-return]
        if theme == "dark" and not reason and self._rendered.get(key) is None:  # the light one recoloured
            light = self.spec(kpi, theme="light", width=width, height=height, title=False)
            dark = recoloured(light, "light", "dark")
            if dark is not None:
                self._rendered.put(key, dark)
        spec: dict[str, Any] = self._cached(
            key,
            lambda: (
                empty_spec(kpi, reason, theme=theme, width=width, title=title)
                if reason
                else chart_spec(
                    self.drawn(kpi),
                    self.series(kpi),
                    theme=theme,
                    width=width,
                    height=height,
                    title=title,
                    today=key[3],
                    fiscal_year_start=self.settings.fiscal_year_start,
                    locale=current_locale(),
                )
            ),
        )
        return spec

    def svg(self, kpi: Kpi, options: ChartOptions) -> str:
        """The chart as a standalone SVG image, rendered on the server (see :mod:`widgets.images`)."""
        key = self._key(kpi, "svg", options.theme, options.width, options.height)
        reason = self.facts(kpi).empty_reason
        svg: str = self._cached(
            key,
            lambda: (
                empty_svg(kpi, reason, theme=options.theme, width=options.width)
                if reason
                else image_svg(
                    self.drawn(kpi),
                    self.series(kpi),
                    theme=options.theme,
                    width=options.width,
                    height=options.height,
                    today=key[3],
                    fiscal_year_start=self.settings.fiscal_year_start,
                    locale=current_locale(),
                )
            ),
        )
        return svg

    def png(self, kpi: Kpi, options: ChartOptions) -> bytes:
        """The same image as :meth:`svg`, as PNG."""
        key = self._key(kpi, "png", options.theme, options.width, options.height)
        png: bytes = self._cached(key, lambda: image_png(self.svg(kpi, options)))
        return png

    def sparkline(self, kpi: Kpi, theme: str) -> str:
        """A small SVG trend line for the dashboard ("" when the series is empty)."""

        def build() -> str:
            return sparkline_svg(
                self.series(kpi).column("value").to_pylist(), self.summary(kpi).status, theme=theme
            )

        svg: str = self._cached(self._key(kpi, "spark", theme), build)
        return svg


def _peer_datasets(kpis: list[Kpi]) -> list[str]:
    """The store ids of the KPIs' peer copies (a peer's sync changes the comparison)."""
    return [peer.dataset_id for kpi in kpis if kpi.peers for peer in kpi.peers.cities]
