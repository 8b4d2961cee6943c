"""Catalog text written in Markdown, turned into HTML that is safe to publish.

One parser (markdown-it-py, CommonMark with tables and strikethrough) and one sanitiser (nh3, the
Rust ``ammonia`` sanitiser) for every piece of catalog text a page shows as Markdown: stories
today (:mod:`catalog.stories`), descriptions and analyses later. What comes out can never run or
fetch anything:

* no ``<script>``, ``<style>``, ``<iframe>``, ``<object>``, ``<img>`` or form element (their
  content is dropped with them), no ``on*`` event attribute, no ``style`` attribute;
* links only to ``http``, ``https`` and ``mailto`` addresses or to paths of the site (a
  ``javascript:`` or ``data:`` link loses its address), each with ``rel="noopener noreferrer"``;
* a ``#`` heading is an ``<h2>``, like ``##`` (the page's title is its one ``<h1>``).

So the page's strict Content Security Policy holds for any text an author writes.

Example:
    >>> safe_html("# Potholes\\n\\nClosed **fast**.<script>alert(1)</script>")
    '<h2>Potholes</h2>\\n<p>Closed <strong>fast</strong>.</p>\\n'
    >>> safe_html('[x](javascript:alert(1)) <a href="/kpi/a" onclick="steal()">a</a>')
    '<p>[x](javascript:alert(1)) <a href="/kpi/a" rel="noopener noreferrer">a</a></p>\\n'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["ALLOWED_TAGS", "markdown_parser", "render_tokens", "safe_html", "sanitise"]

#: The elements a rendered Markdown text may keep (everything else is removed, its text kept).
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
        "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
_SCHEMES = {"http", "https", "mailto"}
# Dropped with everything inside them (nh3 keeps the text of other removed elements).
_DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select"}


def markdown_parser() -> MarkdownIt:
    """The parser: CommonMark with tables and strikethrough; raw HTML passes to the sanitiser.

    Example:
        >>> [t.type for t in markdown_parser().parse("Hi")]
        ['paragraph_open', 'inline', 'paragraph_close']
    """
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


_PARSER = markdown_parser()


def sanitise(html: str) -> str:
    """HTML cut down to :data:`ALLOWED_TAGS` and safe attributes and links (see the module docstring).

    Example:
        >>> sanitise('<p onmouseover="x()">Hi<img src="https://example.com/a.png" onerror="x()"></p>')
        '<p>Hi</p>'
    """
    cleaned: str = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=_DROP_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return cleaned


def _shift_headings(tokens: Sequence[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "h2" if token.tag == "h1" else token.tag


def render_tokens(tokens: Sequence[Token], env: dict[str, Any]) -> str:
    """Part of a parsed text (``markdown_parser().parse(text, env)``) as safe HTML.

    ``env`` is the one the whole text was parsed with (it holds its link references), so a text cut
    into parts (a story around its blocks) renders each part as it reads in the whole.

    Example:
        >>> env = {}
        >>> tokens = _PARSER.parse("See [the map][m].\\n\\n[m]: https://example.gov/map", env)
        >>> render_tokens(tokens, env)
        '<p>See <a href="https://example.gov/map" rel="noopener noreferrer">the map</a>.</p>\\n'
    """
    _shift_headings(tokens)
    return sanitise(_PARSER.renderer.render(list(tokens), _PARSER.options, env))


def safe_html(text: str) -> str:
    """Markdown ``text`` as HTML safe to put in any page (see the module docstring)."""
    env: dict[str, Any] = {}
    return render_tokens(_PARSER.parse(text, env), env)
