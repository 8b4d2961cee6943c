"""Which URLs a site build starts from: every public route of the app, filled with the catalog's ids.

The routes come from the app itself (its route table, kept to the ``public`` templates a caller
names), the ids from the catalog (public KPIs, goals, departments with public KPIs, meetings,
published stories, the datasets of public KPIs): no hand-kept list of pages. A route whose
placeholders the catalog cannot fill (``/static/{name}``) is reached through the pages' links
instead. Every locale of the catalog is a prefix of its own (``/es/kpi/x``), the default one none.

Example:
    >>> seed_paths(["/kpi/{kpi_id}", "/kpi/{kpi_id}.svg", "/static/{name}", "/"], {"kpi_id": ["a"]})
    ['/', '/kpi/a', '/kpi/a.svg']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from starlette.routing import Match

from catalog.models import CatalogSettings
from catalog.stories import public_stories
from widgets.route_context import WidgetContext

__all__ = ["locale_prefixes", "route_ids", "route_of", "seed_paths"]

_PLACEHOLDER = re.compile(r"{(\w+)}")


def route_ids(ctx: WidgetContext) -> dict[str, list[str]]:
    """What each route placeholder may be, from the catalog: only what the public may see."""
    service = ctx.service
    catalog = service.catalog
    if catalog is None:
        return {}
    kpis = service.public_kpis()
    return {
        "kpi_id": sorted(kpi.id for kpi in kpis),
        "goal_id": sorted(goal.id for goal in service.settings.goals),
        "slug": sorted(ctx.program.department_slugs()),
        "meeting_id": sorted(catalog.meetings),
        "story_id": sorted(story.id for story in public_stories(catalog, service.today())),
        "dataset_id": sorted({kpi.source.dataset for kpi in kpis}),
    }


def seed_paths(templates: Iterable[str], ids: Mapping[str, Sequence[str]]) -> list[str]:
    """Every path of these route templates whose placeholders ``ids`` can fill, sorted."""
    paths: set[str] = set()
    for template in templates:
        names = _PLACEHOLDER.findall(template)
        if not all(name in ids for name in names):
            continue
        for values in itertools.product(*(ids[name] for name in names)):
            path = template
            for name, value in zip(names, values, strict=True):
                path = path.replace("{" + name + "}", value, 1)
            paths.add(path)
    return sorted(paths)


def locale_prefixes(settings: CatalogSettings) -> list[str]:
    """The path prefix of each of the site's locales: none for the first (the default).

    Example:
        >>> locale_prefixes(CatalogSettings())
        ['']
    """
    locales = [str(locale) for locale in getattr(settings, "locales", None) or []]
    return ["", *(f"/{locale}" for locale in locales[1:])]


def route_of(app: Any, path: str) -> str | None:
    """The template of the app's GET route that answers ``path`` (None when none does)."""
    for prefix, route in _routes(app.router.routes, ""):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :] or "/"
        if not route.path_regex.match(rest):  # what matches() asks first, without its scope work
            continue
        scope = {"type": "http", "path": rest, "root_path": "", "method": "GET"}
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return prefix + str(route.path)
    return None


def _routes(routes: Iterable[Any], prefix: str) -> Iterator[tuple[str, Any]]:
    """Every route with a path, in the order the app tries them (included routers flattened)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes, prefix + str(route.include_context.prefix or ""))
        elif hasattr(route, "path_regex"):
            yield prefix, route
