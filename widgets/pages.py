"""HTML pages: a KPI's page and its embed, rendered with Jinja2 (the program's pages, the dashboard
among them, are in :mod:`widgets.dashboard_pages`).

Templates autoescape everything; the only unescaped values are JSON made by
:func:`~widgets.render.script_json` (``<``, ``>`` and ``&`` escaped, so catalog text cannot close
the ``<script>`` element) and SVG made by vl-convert from our own specs (Vega escapes text).

Example:
    >>> from widgets.assets import Assets
    >>> service = WidgetService(store, catalog)
    >>> page = Pages(service, Assets(), allowed_origins=[]).kpi_page(kpi, "http://127.0.0.1")
    >>> page.startswith("<!doctype html>")
    True
"""

from __future__ import annotations

import copy
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from btvstat_open.errors import DatasetNotFound
from btvstat_open.i18n import current_locale, format_decimal, translations
from btvstat_open.web.locales import bare_path, language_links, localize_links
from catalog.data_checks import load_checks
from catalog.definitions import definition_changes
from catalog.ledger import published, revision_lines
from catalog.models import CatalogSettings, Kpi
from catalog.packet import department_updates
from widgets.assets import Assets
from widgets.breakdown_chart import breakdown_records, breakdown_spec
from widgets.kpi_details import action_rows, target_history
from widgets.overview import slugify, updated_label
from widgets.peer_chart import peer_spec
from widgets.peer_view import peer_rows
from widgets.progress_view import progress_view
from widgets.provenance import provenance
from widgets.render import embed_options, script_json
from widgets.service import ChartOptions, WidgetService
from widgets.summary import STATUS_LABELS, STATUS_SYMBOLS, format_value
from widgets.theme_files import Brand
from widgets.theme_templates import ORIGINALS, template_env
from widgets.vocabulary import period_name

__all__ = ["ChartView", "Pages", "embed_snippet"]

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ChartView:
    """What the chart template needs: element id, theme, both specs as script-safe JSON."""

    element_id: str
    theme: str
    spec_light: str
    spec_dark: str
    svg_url: str
    description: str


def embed_snippet(base_url: str, kpi: Kpi, *, height: int = 420) -> str:
    """The HTML a webmaster pastes to embed a KPI (an iframe plus embed.js, which resizes it).

    Example:
        >>> from catalog.models import Kpi
        >>> k = Kpi.model_validate({"id": "x", "title": "A & B", "department": "D",
        ...     "source": {"dataset": "d", "date_column": "c"}, "measure": {"calculation": "count"}})
        >>> print(embed_snippet("https://stat.example.gov", k))  # doctest: +NORMALIZE_WHITESPACE
        <iframe src="https://stat.example.gov/embed/x" title="A &amp; B" width="100%" height="420"
          style="border:0;width:100%" loading="lazy"></iframe>
        <script src="https://stat.example.gov/embed.js" async></script>
    """
    return (
        f'<iframe src="{html.escape(base_url)}/embed/{kpi.id}" title="{html.escape(kpi.title)}" '
        f'width="100%" height="{height}"\n  style="border:0;width:100%" loading="lazy"></iframe>\n'
        f'<script src="{html.escape(base_url)}/embed.js" async></script>'
    )


class Pages:
    """Renders every HTML page of the widget server."""

    def __init__(self, service: WidgetService, assets: Assets, *, allowed_origins: list[str]) -> None:
        self.service = service
        self.assets = assets
        self.allowed_origins = allowed_origins
        self.brand = Brand.of(service.catalog)  # the catalog's theme (widgets.theme_files)
        self.env = template_env(TEMPLATES, self.brand.templates)
        self.env.globals["brand"] = self.brand
        self.env.globals["asset"] = assets.url
        self.env.globals["status_label"] = lambda status: STATUS_LABELS.get(status, status)
        self.env.globals["status_symbol"] = lambda status: STATUS_SYMBOLS.get(status, "")
        # Compile every template now, not on the first request of each page (a second or more on a
        # busy machine, which a cold dashboard would pay).
        for name in self.env.list_templates():
            if not name.startswith(ORIGINALS):
                self.env.get_template(name)
        for locale in self.site.locales:  # and read the site's message catalogs (their .po files)
            translations(locale)

    @property
    def site(self) -> CatalogSettings:
        """The catalog's site settings (defaults without a catalog)."""
        catalog = self.service.catalog
        return catalog.settings if catalog else CatalogSettings()

    def with_service(self, service: WidgetService) -> Pages:
        """These pages over another service (the catalog in another language), sharing the templates."""
        pages = copy.copy(self)
        pages.service = service
        return pages

    def render(self, template: str, **context: Any) -> str:
        """Render a template with the site settings (``theme`` defaults to ``auto``)."""
        context.setdefault("theme", "auto")
        context.setdefault("data_note", self.service.data_note())
        locale, locales = current_locale(), self.site.locales
        site_url = str(self.site.site_url) if self.site.site_url else None
        context.setdefault("languages", language_links(locales, locale, bare_path(), site_url))
        html = self.env.get_template(template).render(site=self.site, **context)
        return localize_links(html, locale, locales)

    def _chart(self, kpi: Kpi, options: ChartOptions, *, title: bool, element_id: str) -> ChartView:
        specs = {}
        for theme in ("light", "dark"):
            if options.theme in (theme, "auto"):
                spec = self.service.spec(
                    kpi, theme=theme, width="container", height=options.height, title=title
                )
                specs[theme] = script_json(spec)
        svg_theme = "dark" if options.theme == "dark" else "light"
        spec = self.service.spec(kpi, theme=svg_theme, width="container", height=options.height, title=title)
        description = spec["description"]  # a str (its fallback texts keep their lang in HTML)
        return ChartView(
            element_id=element_id,
            theme=options.theme,
            spec_light=specs.get("light", ""),
            spec_dark=specs.get("dark", ""),
            svg_url=f"/kpi/{kpi.id}.svg?theme={svg_theme}",
            description=description,
        )

    def kpi_page(self, kpi: Kpi, base_url: str, *, pending: Sequence[Any] = (), private: bool = False) -> str:
        """A KPI's page: big number, chart with notes, target history, actions, breakdown, methodology,
        data, downloads, embed code. A private KPI's page (``private``) says so and lists the
        ``pending`` values (:class:`widgets.insiders.PendingValue`) its reader may see."""
        facts = self.service.facts(kpi)
        summary = facts.summary
        target_label = facts.target_label or "No target set"
        try:
            dataset_name = self.service.store.info(kpi.source.dataset).name
        except DatasetNotFound:  # a catalog may name a dataset not synced yet
            dataset_name = kpi.source.dataset
        today = self.service.today()
        titles = {goal.id: goal.title for goal in self.site.goals}
        return self.render(
            "kpi.html",
            kpi=kpi,
            summary=summary,
            facts=facts,
            updated=updated_label(facts.freshness.data_updated_at, today),
            today=today,
            department_slug=slugify(kpi.department),
            goals=[(goal_id, titles.get(goal_id, goal_id)) for goal_id in kpi.goals],
            history=target_history(kpi, today),
            progress=progress_view(kpi, facts.progress),
            actions=action_rows(kpi, facts.overdue),
            department_updates=department_updates(self.service.store, kpi.id, today),
            breakdown=self._breakdown(kpi),
            peers=self._peers(kpi),
            target_label=target_label,
            rows=self.service.rows(kpi),
            revisions=revision_lines(kpi, published(self.service.store, kpi.id)),
            check=load_checks(self.service.store).get(kpi.source.dataset),
            definition_changes=definition_changes(self.service.store, kpi.id),
            chart=self._chart(kpi, ChartOptions(theme="auto"), title=False, element_id="chart"),
            period_name=period_name(kpi.period.size),
            dataset_name=dataset_name,
            source=provenance(kpi, self.site, dataset_name),
            embed_snippet=embed_snippet(base_url, kpi),
            embed_options=script_json(embed_options(current_locale())),
            pending=[(p, format_value(p.value, kpi)) for p in pending],
            private=private,
        )

    def _breakdown(self, kpi: Kpi) -> dict[str, Any] | None:
        """The breakdown's chart (both themes) and table rows, or None without a breakdown."""
        if kpi.breakdown is None:
            return None
        rows = self.service.breakdown_rows(kpi)
        specs = {theme: breakdown_spec(kpi, rows, theme=theme) for theme in ("light", "dark")}
        chart = _themed_chart("breakdown-chart", specs, f"/kpi/{kpi.id}/breakdown.svg")
        records = breakdown_records(kpi, rows)
        label = kpi.breakdown.label or kpi.breakdown.column
        return {"chart": chart, "records": records, "label": label, "min_count": kpi.breakdown.min_count,
                "disparity": _latest_disparity(rows)}  # fmt: skip

    def _peers(self, kpi: Kpi) -> dict[str, Any] | None:
        """The comparison with peer cities: chart (both themes), table rows, rule; None without peers."""
        found = self.service.comparison(kpi)
        if found is None:
            return None
        specs = {theme: peer_spec(kpi, found, theme=theme) for theme in ("light", "dark")}
        chart = _themed_chart("peers-chart", specs, f"/kpi/{kpi.id}/peers.svg")
        return {"chart": chart, "rows": peer_rows(kpi, found), "found": found}

    def embed(self, kpi: Kpi, options: ChartOptions) -> str:
        """The iframe page: the chart alone (title unless ``plain``) and a "data" link."""
        origins = self.allowed_origins
        frame_config = script_json(
            {"id": kpi.id, "any": "*" in origins, "origins": [o for o in origins if o != "*"]}
        )
        return self.render(
            "embed.html",
            theme=options.theme,
            kpi=kpi,
            plain=options.plain,
            rows=self.service.rows(kpi),
            chart=self._chart(kpi, options, title=False, element_id="chart"),
            empty_reason=self.service.facts(kpi).empty_reason,
            period_name=period_name(kpi.period.size),
            embed_options=script_json(embed_options(current_locale())),
            frame_config=frame_config,
        )

    def error(self, heading: str, message: str) -> str:
        """A plain error page (for HTML routes)."""
        return self.render("error.html", heading=heading, message=message)


def _themed_chart(element_id: str, specs: dict[str, dict[str, Any]], svg_url: str) -> ChartView:
    """A page's second chart (breakdown, peers): both themes' specs, described by the light one."""
    return ChartView(
        element_id=element_id,
        theme="auto",
        spec_light=script_json(specs["light"]),
        spec_dark=script_json(specs["dark"]),
        svg_url=svg_url,
        description=str(specs["light"]["description"]),
    )


def _latest_disparity(rows: list[dict[str, Any]]) -> str:
    """The latest period's disparity ratio in words ("" when it cannot be computed)."""
    latest = max((row["period_start"] for row in rows), default=None)
    ratios = [row["disparity"] for row in rows if row["period_start"] == latest and row["disparity"]]
    return format_decimal(ratios[0], 2) if ratios else ""
