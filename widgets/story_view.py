"""A story as its page shows it: the sanitised text between its blocks, and each block in words.

KPI blocks reuse a packet item's wording and chart (:func:`widgets.packets.view.item_view`), as of
the story's date; a goal summary lists the goal's rollup and each KPI's status then. The text parts
were sanitised when the catalog was loaded (:mod:`catalog.markdown`); they are the only markup
placed as is, beside the server's own chart SVG.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> from catalog.story_values import story_values
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     context = story_context(story_values(catalog, store, catalog.stories["2020-02-potholes"]))
    >>> context["date"], [p["kind"] for p in context["parts"]][:2]
    ('February 19, 2020', ['text', 'kpi-card'])
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from btvstat_open.i18n import _, direction
from catalog.models import Story, StoryBlock
from catalog.story_values import StoryValues
from widgets.packets.view import item_view, long_date
from widgets.summary import STATUS_LABELS, STATUS_SYMBOLS, format_value

__all__ = ["story_context", "story_summary"]

_NOT_LOADED = "Its data is not loaded yet, so there is nothing to show as of the story's date."


def story_summary(story: Story) -> dict[str, Any]:
    """A story in the list at ``/stories``: where, what, when and by whom."""
    meta = story.meta
    return {
        "id": story.id,
        "path": f"/stories/{story.id}",
        "title": meta.title,
        "date": long_date(meta.date),
        "date_iso": meta.date.isoformat(),
        "author": meta.author,
        "summary": meta.summary or "",
    }


def _goal(values: StoryValues, block: StoryBlock) -> dict[str, Any]:
    found = values.goals.get(block.ref)
    if found is None:
        return {"kind": block.kind, "missing": "This goal has no public KPI yet."}
    kpis = []
    for kpi_id in found.kpi_ids:
        item = values.items.get(kpi_id)
        latest = item.change if item else None
        status = item.status if item else "no_data"
        kpis.append(
            {
                "id": kpi_id,
                "title": item.kpi.title if item else kpi_id,
                "value": format_value(latest.value, item.kpi) if item and latest else _("No data"),
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "status_symbol": STATUS_SYMBOLS.get(status, ""),
            }
        )
    return {
        "kind": block.kind,
        "goal": found.node.goal,
        "level_name": found.node.level_name,
        "status": found.status,
        "status_label": STATUS_LABELS.get(found.status, found.status),
        "status_symbol": STATUS_SYMBOLS.get(found.status, ""),
        "kpis": kpis,
    }


def _part(values: StoryValues, part: str | StoryBlock, fiscal_year_start: int) -> dict[str, Any]:
    if isinstance(part, str):  # in the default language, marked so, where the reader's has no body
        lang = values.story.body_lang
        html = Markup(part)  # noqa: S704 (sanitised by catalog.markdown at load)
        return {"kind": "text", "html": html, "lang": lang, "dir": direction(lang) if lang else None}
    if part.kind == "goal-summary":
        return _goal(values, part)
    item = values.items.get(part.ref)
    if item is None:
        return {"kind": part.kind, "missing": _NOT_LOADED, "ref": part.ref}
    return {"kind": part.kind, "view": item_view(item, values.as_of, fiscal_year_start)}


def story_context(values: StoryValues, fiscal_year_start: int = 7) -> dict[str, Any]:
    """Everything the story template shows (``fiscal_year_start``: the catalog's, for the charts)."""
    story = values.story
    parts = [_part(values, part, fiscal_year_start) for part in story.parts]
    # Two blocks of one KPI's chart would repeat the SVG's element ids: number each block.
    for n, part in enumerate(parts):
        part["anchor"] = f"block-{n}"
    return {**story_summary(story), "parts": parts, "data_note": values.data_note}
