"""The story routes: ``/stories`` (published stories, newest first) and ``/stories/{id}`` (a story).

A story is public once it is ``status: published`` and its date has come (the pages' day, see
:meth:`~widgets.service.WidgetService.today`); a draft, or a story dated later, is a 404 like an
unknown one, so nothing unpublished reaches an anonymous reader. Signed-in staff may preview it: the
server that installs sign-in sets ``app.state.story_preview`` (a test of a request), and a preview
says so, is never cached (``private, no-store``) and never kept in the response cache. A story's
numbers are computed as of its own date (:mod:`catalog.story_values`); its page is cached like the
others, keyed by the versions of the datasets of the KPIs it shows.

Example:
    >>> [r.path for r in router.routes]
    ['/stories', '/stories/{story_id}']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from btvstat_open.i18n import _
from catalog.models import Story
from catalog.stories import public_stories, story_kpis
from catalog.story_values import story_values
from widgets.feed_routes import loaded_catalog
from widgets.route_context import WidgetContext, Widgets
from widgets.story_view import story_context, story_summary

__all__ = ["PREVIEW_CACHE", "find_story", "router"]

router = APIRouter()


PREVIEW_CACHE = "private, no-store"


def _may_preview(request: Request) -> bool:
    test: Callable[[Request], bool] | None = getattr(request.app.state, "story_preview", None)
    return test is not None and test(request)


def find_story(ctx: WidgetContext, story_id: str, request: Request) -> tuple[Story, bool]:
    """The story and whether it is a preview (not public, asked for by signed-in staff).

    A story the request may not read is :class:`NotFound` (a 404 page), as an unknown one is.
    """
    story = loaded_catalog(ctx).stories.get(story_id)
    if story is not None and story.public_on(ctx.service.today()):
        return story, False
    if story is None or not _may_preview(request):
        raise NotFound(
            _("No published story %(id)r. The stories are listed at /stories.") % {"id": story_id[:80]},
            code="story.missing",
            data={"id": story_id[:80]},
        )
    return story, True


@router.get("/stories", response_class=Response, summary="Published stories, newest first")
async def stories_page(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    catalog, pages = loaded_catalog(ctx), ctx.pages

    def build() -> bytes:
        listed = [story_summary(s) for s in public_stories(catalog, ctx.service.today())]
        return pages.render("stories.html", stories=listed, data_note=None).encode()

    return await ctx.respond_on(ctx.pools.pages, request, "page", "text/html; charset=utf-8", build, kpis=[])


@router.get("/stories/{story_id}", response_class=Response, summary="A story, as of its date")
async def story_page(story_id: str, request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    story, preview = find_story(ctx, story_id, request)
    catalog, pages, store = loaded_catalog(ctx), ctx.pages, ctx.service.store

    def build() -> bytes:
        context = story_context(story_values(catalog, store, story), catalog.settings.fiscal_year_start)
        return pages.render("story.html", preview=preview, **context).encode()

    kpis = story_kpis(catalog, story)
    # A preview is for the signed-in person only: never kept in the response cache, never cached.
    private: dict[str, Any] = {"cache_control": PREVIEW_CACHE, "keep": False} if preview else {}
    return await ctx.respond_on(
        ctx.pools.pages, request, "page", "text/html; charset=utf-8", build, kpis=kpis, **private
    )
