"""Rendering Vega-Lite specs on the server with vl-convert (no browser): SVG, PNG, HTML.

vl-convert runs Vega in an embedded JavaScript engine. Renders here never load anything from the
network (``allowed_base_urls=[]``): every spec carries its data inline. The JavaScript bundle the
pages use (Vega, Vega-Lite and Vega-Embed) also comes from vl-convert, so the server and the
browsers draw with the same code, offline.

Example:
    >>> svg = render_svg({"mark": "point", "data": {"values": [{"a": 1}]},
    ...                   "encoding": {"x": {"field": "a", "type": "quantitative"}}})
    >>> svg.startswith("<svg")
    True
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor
from pathlib import Path
from typing import Any

import vl_convert as vlc

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import RenderError
from btvstat_open.i18n import current_locale, use_locale
from btvstat_open.i18n.formats import in_digits, numbering_system, percent_sign

__all__ = [
    "EMBED_OPTIONS",
    "embed_options",
    "label_svg",
    "rasterising_on",
    "render_html",
    "render_png",
    "render_svg",
    "svg_to_pdf",
    "svg_to_png",
    "vega_bundle",
    "vega_svg",
]

STATIC = Path(__file__).parent / "static"
_BUNDLE_LOCK = threading.Lock()
_bundle: tuple[str, str] | None = None
_png_pool: Executor | None = None  # where svg_to_png runs (rasterising_on); None: here

# Options for vegaEmbed in pages: SVG renderer, no action menu (no editor, no source view),
# the expression interpreter instead of eval (so the CSP needs no 'unsafe-eval'), and no injected
# <style> elements (the stylesheet is served from this server, so the CSP needs no 'unsafe-inline').
EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg",
    "actions": False,
    "ast": True,
    "defaultStyle": False,
    "tooltip": {"disableDefaultStyle": True, "theme": "custom"},
}


def vega_svg(spec: dict[str, Any], what: str = "the chart") -> str:
    """A Vega-Lite spec drawn as SVG by vl-convert, offline: every chart image passes through here.

    A failure is a :class:`RenderError` naming ``what`` could not be drawn.

    Example:
        >>> vega_svg({"mark": "point", "data": {"values": [{"a": 1}]}})[:4]
        '<svg'
    """
    try:
        svg: str = vlc.vegalite_to_svg(spec, allowed_base_urls=[], **_locale_options())
    except Exception as exc:  # vl-convert raises plain ValueError/RuntimeError
        raise RenderError(f"Could not render {what} as SVG: {exc}. Check the KPI's catalog entry.") from exc
    return stable_ids(_text_in_digits(svg))


_SVG_TEXT = re.compile(r"(<text\b[^>]*>)([^<]*)(?=</text>)")


def _text_in_digits(svg: str) -> str:
    """The SVG's text (axis labels, month names with years) in the locale's digits: Vega's
    number format writes them, its time format does not."""
    if numbering_system() == "latn":
        return svg
    return _SVG_TEXT.sub(lambda m: m.group(1) + in_digits(m.group(2)), svg)


_COUNTED_ID = re.compile(r'(?<=id=")(clip|gradient_)(\d+)(?=")|(?<=url\(#)(clip|gradient_)(\d+)(?=\))')


def stable_ids(svg: str) -> str:
    """Number the SVG's clip and gradient ids from 1 in order of appearance.

    The renderer counts them over the whole process, so the same chart drawn later would
    otherwise differ in bytes (and ETag, and a site build's files) by what was drawn before it.

    Example:
        >>> stable_ids('<clipPath id="clip7"/><g clip-path="url(#clip7)"/>')
        '<clipPath id="clip1"/><g clip-path="url(#clip1)"/>'
    """
    numbers: dict[tuple[str, str], int] = {}

    def renumber(match: re.Match[str]) -> str:
        prefix = match.group(1) or match.group(3)
        key = (prefix, match.group(2) or match.group(4))
        counted = sum(1 for p, _ in numbers if p == prefix)
        return f"{prefix}{numbers.setdefault(key, counted + 1)}"

    return _COUNTED_ID.sub(renumber, svg)


# vl-convert's number and time formats per language (month names on time axes); "" is its default.
_VEGA_LOCALES = {"es": "es-ES", "fr": "fr-FR", "ar": "ar-EG", "de": "de-DE", "pt": "pt-BR", "it": "it-IT"}


def _locale_options() -> dict[str, Any]:
    """Vega's format and time-format locale for the current locale (none for English)."""
    language = current_locale().split("-")[0]
    name = _VEGA_LOCALES.get(language)
    if not name:
        return {}
    if language == "ar" and numbering_system() == "latn":  # Arabic with Latin digits (ar-MA)
        return {"time_format_locale": name}
    return {"format_locale": _format_locale(name, percent_sign()), "time_format_locale": name}


@functools.lru_cache(maxsize=16)
def _format_locale(name: str, percent: str) -> dict[str, Any]:
    """d3-format's locale ``name`` with the percent sign the page's text writes (CLDR's, as
    :func:`btvstat_open.i18n.formats.format_percent` writes it)."""
    found: dict[str, Any] = vlc.get_format_locale(name)  # type: ignore[arg-type]  # one of _VEGA_LOCALES
    return found | {"percent": percent}


@functools.lru_cache(maxsize=16)
def embed_options(locale: str) -> dict[str, Any]:
    """:data:`EMBED_OPTIONS` with Vega's number and month-name formats for ``locale`` (pages draw
    their charts in the page's language, Arabic with the digits its text has).

    Example:
        >>> embed_options("fr")["timeFormatLocale"]["months"][2], "timeFormatLocale" in embed_options("en")
        ('mars', False)
    """
    options = dict(EMBED_OPTIONS)
    with use_locale(locale):
        names = _locale_options()
    if "time_format_locale" in names:
        options["timeFormatLocale"] = vlc.get_time_format_locale(names["time_format_locale"])
    if "format_locale" in names:
        options["formatLocale"] = names["format_locale"]
    return options


def svg_to_png(svg: str, *, scale: float = 2.0) -> bytes:
    """An SVG document as PNG (``scale`` 2 is crisp on high-density screens); every PNG passes here.

    Example:
        >>> svg_to_png('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>')[:4]
        b'\x89PNG'
    """
    pool = _png_pool
    try:
        if pool is not None:
            with contextlib.suppress(BrokenExecutor):  # the worker process is gone: draw it here
                done: bytes = pool.submit(_rasterise, svg, scale).result()
                return done
        png: bytes = _rasterise(svg, scale)
    except Exception as exc:
        raise RenderError(f"Could not render the chart as PNG: {exc}.") from exc
    return png


def svg_to_pdf(svg: str) -> bytes:
    """An SVG document as a one-page PDF, its text kept as text and its fonts embedded (the
    packet's charts pass here: :mod:`widgets.packets.charts`). vl-convert's errors pass through:
    the caller says what could not be drawn.

    Example:
        >>> svg_to_pdf('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>')[:5]
        b'%PDF-'
    """
    pdf: bytes = vlc.svg_to_pdf(svg)
    return pdf


def _rasterise(svg: str, scale: float) -> bytes:
    png: bytes = vlc.svg_to_png(svg, scale=scale)
    return png


@contextlib.contextmanager
def rasterising_on(pool: Executor) -> Iterator[None]:
    """Within it, :func:`svg_to_png` rasterises on ``pool`` (worker processes: vl-convert holds
    Python's lock while it rasterises, so a thread waiting for another process leaves it free).

    Example:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> with ThreadPoolExecutor(1) as pool, rasterising_on(pool):
        ...     svg_to_png('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>')[:4]
        b'\x89PNG'
        >>> class Stopped(ThreadPoolExecutor):  # a worker process that died: drawn here instead
        ...     def submit(self, *args, **kwargs): raise BrokenExecutor("the worker stopped")
        >>> with Stopped(1) as pool, rasterising_on(pool):
        ...     svg_to_png('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>')[:4]
        b'\x89PNG'
    """
    global _png_pool
    previous, _png_pool = _png_pool, pool
    try:
        yield
    finally:
        _png_pool = previous


def render_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec as a labelled SVG document (text marks as text, with ARIA roles and labels).

    The KPI images the server answers (``/kpi/{id}.svg``) are :func:`widgets.images.image_svg`'s.

    Example:
        >>> from widgets.charts import chart_spec
        >>> render_svg(chart_spec(kpi, series, width=640))[:4]
        '<svg'
    """
    return label_svg(vega_svg(spec), spec)


def label_svg(svg: str, spec: dict[str, Any]) -> str:
    """Give a rendered SVG document an accessible name: ``role="img"``, ``<title>`` and ``<desc>``.

    Vega's headless renderer labels axes and legends but not the document itself.

    Example:
        >>> label_svg('<svg width="1"></svg>', {"description": "A & B"})
        '<svg role="img" aria-label="A &amp; B" width="1"><desc>A &amp; B</desc></svg>'
    """
    description = str(spec.get("description", ""))
    title = spec.get("title")
    title_text = str(title.get("text", "") if isinstance(title, dict) else title or "")
    if not svg.startswith("<svg") or not description:
        return svg
    end = svg.index(">") + 1
    label = html.escape(description, quote=True)
    head = f'<svg role="img" aria-label="{label}"' + svg[4:end]
    inner = (f"<title>{html.escape(title_text)}</title>" if title_text else "") + f"<desc>{label}</desc>"
    return head + inner + svg[end:]


def render_png(spec: dict[str, Any], *, scale: float = 2.0) -> bytes:
    """A Vega-Lite spec as a PNG image: :func:`render_svg`, then :func:`svg_to_png`.

    Example:
        >>> from widgets.charts import chart_spec
        >>> render_png(chart_spec(kpi, series, width=640))[:4]
        b'\\x89PNG'
    """
    return svg_to_png(render_svg(spec), scale=scale)


def script_json(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (``<``, ``>``, ``&`` escaped).

    Example:
        >>> "<" in script_json({"t": "</script>"})
        False
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def vega_bundle() -> tuple[str, str]:
    """The Vega + Vega-Lite + Vega-Embed JavaScript bundle and a short hash of it.

    Building the bundle takes seconds, so it is written once to ``widgets/static/vendor`` (keyed by
    the vl-convert version) and read from there afterwards; if that folder is read-only the bundle
    stays in memory only.

    Example:
        >>> code, digest = vega_bundle()
        >>> "vegaEmbed" in code, len(digest)
        (True, 12)
    """
    global _bundle
    with _BUNDLE_LOCK:
        if _bundle is None:
            version = getattr(vlc, "__version__", "unknown")
            path = STATIC / "vendor" / f"vega-bundle-{version}.js"
            try:
                code = path.read_text(encoding="utf-8")
            except OSError:
                # The stub asks for a str, but None (vl-convert's default snippet: globals) is accepted.
                code = vlc.javascript_bundle(None)  # type: ignore[arg-type]
                with contextlib.suppress(OSError):  # a read-only install keeps it in memory
                    write_atomically(path, code, durable=False)
            _bundle = (code, hashlib.sha256(code.encode()).hexdigest()[:12])
        return _bundle


def render_html(spec: dict[str, Any], *, title: str, description: str = "") -> str:
    """A self-contained HTML page showing the chart: the Vega bundle is inlined, nothing is fetched.

    Example:
        >>> from widgets.charts import chart_spec
        >>> page = render_html(chart_spec(kpi, series), title=kpi.title)
        >>> 'src="http' in page  # nothing loaded from elsewhere
        False
    """
    code, _ = vega_bundle()
    # A closing tag inside the inlined code would end the script element early.
    code = code.replace("</script", "<\\/script")
    options = EMBED_OPTIONS | {"tooltip": True}
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem}"
        "#chart{width:100%}</style>\n"
        f"<script>{code}</script>\n</head>\n<body>\n<main>\n<h1>{html.escape(title)}</h1>\n"
        f'<p>{html.escape(description)}</p>\n<div id="chart"></div>\n</main>\n'
        f'<script type="application/json" id="spec">{script_json(spec)}</script>\n'
        f'<script type="application/json" id="options">{script_json(options)}</script>\n'
        "<script>vegaEmbed('#chart', JSON.parse(document.getElementById('spec').textContent),"
        " JSON.parse(document.getElementById('options').textContent));</script>\n"
        "</body>\n</html>\n"
    )
