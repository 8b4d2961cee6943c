"""A city's look (``theme:`` in ``catalog.yaml``): logo, colours, fonts, links, template overrides.

Paths are relative to the catalog folder and must stay inside it; the loader checks that the
files exist and are what their names say (:mod:`catalog.theme_checks`), and ``catalog validate``
checks every colour pair the site draws for WCAG AA contrast.

Example:
    >>> theme = Theme.model_validate({
    ...     "logo": {"file": "theme/logo.svg", "alt": "City of Example"},
    ...     "colors": {"primary": "#0B5394"},
    ...     "header_links": [{"label": "City home", "url": "https://www.example.gov"}],
    ... })
    >>> theme.colors.primary, theme.header_links[0].label
    ('#0b5394', 'City home')
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from catalog.colors import normalize_hex
from catalog.models.base import Strict

__all__ = [
    "COLOR_KEYS",
    "FONT_TYPES",
    "LOGO_TYPES",
    "Color",
    "Logo",
    "Theme",
    "ThemeColors",
    "ThemeFont",
    "ThemeLink",
]

Color = Annotated[str, AfterValidator(normalize_hex)]

#: the file types a logo and a font may be (by suffix)
LOGO_TYPES = (".svg", ".png")
FONT_TYPES = (".woff2", ".woff", ".ttf")

# A relative path inside the catalog: no drive, no leading slash, no `..`, no backslash.
_RELATIVE = re.compile(r"^(?![/\\])(?!.*(?:^|/)\.\.(?:/|$))[^\\:*?\"<>|\0]+$")
# A web address or a relative link; never javascript:, data: or a protocol-relative //host.
_LINK = re.compile(r"^https?://[^\s/]+\S*$|^(?![A-Za-z][A-Za-z0-9+.-]*:)(?!//)\S+$")
# A font family name as CSS takes it quoted: letters, digits, spaces and dashes.
_FAMILY = r"^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$"


def _relative(value: str) -> str:
    if not _RELATIVE.match(value):
        raise ValueError(
            f"{value!r} is not a path inside the catalog folder: write it relative to the folder "
            "holding catalog.yaml, e.g. theme/logo.svg"
        )
    return value


CatalogPath = Annotated[str, AfterValidator(_relative)]


def _of_type(value: str, suffixes: tuple[str, ...], what: str) -> str:
    if not value.lower().endswith(suffixes):
        raise ValueError(f"{what} file ({', '.join(suffixes)}), not {value!r}")
    return value


def _link(value: str) -> str:
    if not _LINK.match(value.strip()):
        raise ValueError(
            f"{value!r} is not a link a page may carry: use https://..., http://... or a path on "
            "this site such as /departments"
        )
    return value.strip()


class ThemeColors(Strict):
    """The colours the site's stylesheet uses (each ``#rrggbb`` or ``#rgb``; any left out keeps
    the built-in one). ``primary`` fills the header band and buttons, ``on_primary`` is the text
    on it; ``accent`` draws focus rings and the current view's underline."""

    primary: Color | None = None
    on_primary: Color | None = None
    accent: Color | None = None
    text: Color | None = None
    muted: Color | None = None
    background: Color | None = None
    surface: Color | None = None
    border: Color | None = None
    link: Color | None = None
    on_track: Color | None = None
    near_target: Color | None = None
    off_track: Color | None = None


#: every colour a theme may set, in the order the stylesheet lists them
COLOR_KEYS: tuple[str, ...] = tuple(ThemeColors.model_fields)


class Logo(Strict):
    """The city's logo: an SVG or PNG file in the catalog folder, and its text alternative."""

    file: Annotated[CatalogPath, AfterValidator(lambda v: _of_type(v, LOGO_TYPES, "a logo is an SVG or PNG"))]
    alt: str = Field(min_length=1, max_length=200)


class ThemeFont(Strict):
    """One font file (``.woff2``, ``.woff`` or ``.ttf``) of a family, with its weight and style."""

    family: str = Field(pattern=_FAMILY)
    file: Annotated[
        CatalogPath, AfterValidator(lambda v: _of_type(v, FONT_TYPES, "a font is a WOFF2, WOFF or TTF"))
    ]
    weight: int = Field(default=400, ge=100, le=900)
    style: Literal["normal", "italic"] = "normal"


class ThemeLink(Strict):
    """A link in the header or the footer: its words and where it goes."""

    label: str = Field(min_length=1, max_length=80)
    url: Annotated[str, AfterValidator(_link)]


class Theme(Strict):
    """``theme:`` in ``catalog.yaml``. ``colors`` is the light scheme, ``dark_colors`` the dark one;
    ``body_font`` and ``heading_font`` name families of ``fonts``; ``templates`` is a folder whose
    files replace the site's templates of the same name (see docs/theme.md)."""

    logo: Logo | None = None
    colors: ThemeColors = Field(default_factory=ThemeColors)
    dark_colors: ThemeColors = Field(default_factory=ThemeColors)
    fonts: list[ThemeFont] = Field(default_factory=list, max_length=12)
    body_font: str | None = None
    heading_font: str | None = None
    header_links: list[ThemeLink] = Field(default_factory=list, max_length=12)
    footer_links: list[ThemeLink] = Field(default_factory=list, max_length=24)
    templates: CatalogPath | None = None

    @field_validator("body_font", "heading_font")
    @classmethod
    def _known_family(cls, value: str | None, info: ValidationInfo) -> str | None:
        families = sorted({font.family for font in info.data.get("fonts") or ()})
        if value is not None and value not in families:
            named = ", ".join(families) or "none: add them under fonts:"
            raise ValueError(f"{value!r} is not a family of fonts: (families: {named})")
        return value
