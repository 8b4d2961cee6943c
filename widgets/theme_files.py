"""The catalog's theme as the site serves it: its files under ``/theme/``, and a stylesheet of its own.

Only the files ``theme:`` names are served (the logo and the fonts), each under a name that
carries a hash of its content (``/theme/logo-1a2b3c4d5e6f.svg``), like the Vega bundle, so
browsers keep them for a year and a new file gets a new URL. Names are looked up in a table
built at start: no path from a request ever reaches the file system.

``theme-<hash>.css`` holds the theme's colours as CSS custom properties (for the light scheme, and
the dark one when ``dark_colors`` says) and an ``@font-face`` per font; pages link it after
``site.css``. Every value in it was validated by the catalog (hex colours, family names of
letters, digits, spaces and dashes, file names made here), so nothing from the catalog reaches
the CSS as free text.

Example:
    >>> from pathlib import Path
    >>> from catalog.models import Catalog, CatalogSettings
    >>> Brand.of(Catalog(Path("."), CatalogSettings(), {})).stylesheet is None
    True
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import Catalog
from catalog.models.theme import Theme, ThemeColors, ThemeFont, ThemeLink
from catalog.theme_checks import BUILT_IN_COLORS

__all__ = ["Brand", "ThemeFile", "brand_of", "theme_css"]

_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".css": "text/css; charset=utf-8",
}
_FORMATS = {".woff2": "woff2", ".woff": "woff", ".ttf": "truetype"}
# theme key -> the site.css custom properties it sets
_PROPERTIES = {
    "primary": ("--primary",),
    "on_primary": ("--on-primary",),
    "accent": ("--focus",),
    "text": ("--text",),
    "muted": ("--muted", "--neutral"),
    "background": ("--bg", "--badge-bg"),
    "surface": ("--surface",),
    "border": ("--border",),
    "link": ("--link",),
    "on_track": ("--on-track",),
    "near_target": ("--near-target",),
    "off_track": ("--off-track",),
}
_FALLBACK_FONTS = '"Liberation Sans", Arial, Helvetica, system-ui, sans-serif'


@dataclass(frozen=True)
class ThemeFile:
    """One served theme file: its URL name, bytes, content type and hash."""

    name: str
    body: bytes
    media_type: str
    digest: str


def _served(name_hint: str, body: bytes) -> ThemeFile:
    path = Path(name_hint)
    digest = hashlib.sha256(body).hexdigest()[:12]
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "file"
    suffix = path.suffix.lower()
    return ThemeFile(f"{stem}-{digest}{suffix}", body, _TYPES[suffix], digest)


@dataclass(frozen=True)
class Brand:
    """What pages take from the theme: the stylesheet and logo URLs, the links, the overrides
    folder, and the served files by name. Without a theme every part is empty."""

    stylesheet: str | None = None
    logo_url: str | None = None
    logo_alt: str = ""
    logo_data_uri: str | None = None
    header_links: tuple[ThemeLink, ...] = ()
    footer_links: tuple[ThemeLink, ...] = ()
    templates: Path | None = None
    light_colors: dict[str, str] = field(default_factory=dict)
    files: dict[str, ThemeFile] = field(default_factory=dict)

    @classmethod
    def of(cls, catalog: Catalog | None) -> Brand:
        """The brand of a loaded catalog (its files read once, here)."""
        theme = catalog.settings.theme if catalog else None
        if catalog is None or theme is None:
            return cls()
        files: dict[str, ThemeFile] = {}
        logo = None
        if theme.logo is not None:
            logo = _served(theme.logo.file, (catalog.root / theme.logo.file).read_bytes())
            files[logo.name] = logo
        fonts = []
        for font in theme.fonts:
            served = _served(font.file, (catalog.root / font.file).read_bytes())
            files[served.name] = served
            fonts.append((font, served.name))
        css = _served("theme.css", theme_css(theme, fonts).encode())
        files[css.name] = css
        return cls(
            stylesheet=f"/theme/{css.name}",
            logo_url=f"/theme/{logo.name}" if logo else None,
            logo_alt=theme.logo.alt if theme.logo else "",
            logo_data_uri=_data_uri(logo) if logo else None,
            header_links=tuple(theme.header_links),
            footer_links=tuple(theme.footer_links),
            templates=catalog.root / theme.templates if theme.templates else None,
            light_colors={**BUILT_IN_COLORS["light"], **_chosen(theme.colors)},
            files=files,
        )


_BRANDS: dict[tuple[Path, str], Brand] = {}


def brand_of(catalog: Catalog | None) -> Brand:
    """:meth:`Brand.of`, kept per catalog folder and version (packets ask for it each time).

    Example:
        >>> brand_of(None) is brand_of(None)
        True
    """
    if catalog is None or catalog.settings.theme is None:
        return _NO_BRAND
    key = (catalog.root, catalog.version)
    if key not in _BRANDS:
        if len(_BRANDS) >= 8:
            _BRANDS.clear()
        _BRANDS[key] = Brand.of(catalog)
    return _BRANDS[key]


def _data_uri(served: ThemeFile) -> str:
    """The file as a ``data:`` URI (packets carry their logo inside, to be self-contained)."""
    return f"data:{served.media_type};base64,{base64.b64encode(served.body).decode()}"


def _chosen(colors: ThemeColors) -> dict[str, str]:
    return {key: value for key, value in colors.model_dump().items() if value is not None}


def _declarations(colors: ThemeColors, scheme: str) -> str:
    chosen = _chosen(colors)
    lines = [f"{prop}: {value};" for key, value in chosen.items() for prop in _PROPERTIES[key]]
    if "primary" in chosen:  # the header becomes a band of the primary colour
        on_primary = chosen.get("on_primary", BUILT_IN_COLORS[scheme]["on_primary"])
        lines.append(f"--header-bg: {chosen['primary']};")
        lines += [f"--header-{part}: {on_primary};" for part in ("text", "muted")]
    return " ".join(lines)


def theme_css(theme: Theme, fonts: list[tuple[ThemeFont, str]]) -> str:
    """The theme's stylesheet: ``@font-face`` rules, font families, and the colours per scheme.

    Example:
        >>> print(theme_css(Theme.model_validate({"colors": {"link": "#0b5394"}}), []))
        /* The catalog's theme (catalog.yaml theme:), after site.css. */
        :root:not(.theme-dark):not(.theme-auto), .theme-light { --link: #0b5394; }
        @media not all and (prefers-color-scheme: dark) { .theme-auto { --link: #0b5394; } }
        <BLANKLINE>
    """
    out = ["/* The catalog's theme (catalog.yaml theme:), after site.css. */"]
    for font, name in fonts:
        suffix = Path(name).suffix
        out.append(
            f'@font-face {{ font-family: "{font.family}"; src: url("/theme/{name}") '
            f'format("{_FORMATS[suffix]}"); font-weight: {font.weight}; font-style: {font.style}; '
            "font-display: swap; }"
        )
    families = []
    if theme.body_font:
        families.append(f'--font-body: "{theme.body_font}", {_FALLBACK_FONTS};')
    if theme.heading_font:
        families.append(f'--font-heading: "{theme.heading_font}", {_FALLBACK_FONTS};')
    if families:
        out.append(f":root {{ {' '.join(families)} }}")
    light = _declarations(theme.colors, "light")
    if light:
        out.append(f":root:not(.theme-dark):not(.theme-auto), .theme-light {{ {light} }}")
        out.append(f"@media not all and (prefers-color-scheme: dark) {{ .theme-auto {{ {light} }} }}")
    dark = _declarations(theme.dark_colors, "dark")
    if dark:
        out.append(f".theme-dark {{ {dark} }}")
        out.append(f"@media (prefers-color-scheme: dark) {{ .theme-auto {{ {dark} }} }}")
    return "\n".join(out) + "\n"


_NO_BRAND = Brand()
