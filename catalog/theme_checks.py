"""Checks of ``theme:`` that need the catalog folder: its files, its templates, its colours' contrast.

Files: the logo and every font exist inside the catalog folder (a link out of it is refused), are
what their suffix says (PNG, SVG, WOFF2, WOFF, TrueType) and are small enough to serve. Templates:
the folder exists and each override parses. Colours: every pair the site draws (text on the
background, links, text on the primary band, focus rings, status badges) meets WCAG 2.x AA,
4.5:1 for text and 3:1 for UI components; a failing colour is a problem at its line naming the
ratio and the nearest passing shade (:func:`catalog.colors.nearest_passing_all`).

Example:
    >>> from catalog.models.theme import Theme
    >>> problems = []
    >>> check_contrast(Theme.model_validate({"colors": {"link": "#77aaff"}}), "catalog.yaml", {}, problems)
    >>> print(problems[0][2])  # doctest: +NORMALIZE_WHITESPACE
    theme colors.link #77aaff: link on background (#77aaff on #ffffff) has contrast 2.33:1; links
    need 4.5:1 (WCAG AA): use #0b66ff, the nearest passing shade of link (same hue, HLS lightness
    moved the least)
"""

from __future__ import annotations

from pathlib import Path

from catalog.checks import Lines, Problems
from catalog.colors import contrast_ratio, nearest_passing_all
from catalog.models.theme import Theme, ThemeColors
from catalog.yamllines import line_for

__all__ = ["BUILT_IN_COLORS", "COLOR_PAIRS", "check_contrast", "check_theme_files", "theme_files"]

#: The site's own colours per scheme (widgets/static/site.css; a test keeps the two the same).
BUILT_IN_COLORS: dict[str, dict[str, str]] = {
    "light": {
        "primary": "#0b5cad", "on_primary": "#ffffff", "accent": "#0b5cad", "text": "#1f2328",
        "muted": "#59636e", "background": "#ffffff", "surface": "#f6f8fa", "border": "#d1d9e0",
        "link": "#0b5cad", "on_track": "#1a7f37", "near_target": "#9a6700", "off_track": "#cf222e",
    },
    "dark": {
        "primary": "#4493f8", "on_primary": "#0d1117", "accent": "#4493f8", "text": "#e6edf3",
        "muted": "#9198a1", "background": "#0d1117", "surface": "#161b22", "border": "#3d444d",
        "link": "#4493f8", "on_track": "#3fb950", "near_target": "#d29922", "off_track": "#f85149",
    },
}  # fmt: skip

#: (foreground, background, ratio, what the pair draws): every pair the stylesheet puts together
COLOR_PAIRS: tuple[tuple[str, str, float, str], ...] = (
    ("text", "background", 4.5, "body text needs"),
    ("text", "surface", 4.5, "text on cards and panels needs"),
    ("muted", "background", 4.5, "secondary text needs"),
    ("muted", "surface", 4.5, "secondary text on cards needs"),
    ("link", "background", 4.5, "links need"),
    ("link", "surface", 4.5, "links in the footer and on cards need"),
    ("on_primary", "primary", 4.5, "text on buttons and the header band needs"),
    ("primary", "background", 3.0, "buttons against the page (a UI component) need"),
    ("accent", "background", 3.0, "focus rings (a UI component) need"),
    ("on_track", "background", 4.5, "the On track badge needs"),
    ("near_target", "background", 4.5, "the Near target badge needs"),
    ("off_track", "background", 4.5, "the Off track badge needs"),
)

_MAX_BYTES = {"logo": 1_000_000, "font": 2_000_000}
_MAGIC = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".woff2": (b"wOF2",),
    ".woff": (b"wOFF",),
    ".ttf": (b"\x00\x01\x00\x00", b"true"),
}


def theme_files(theme: Theme) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Every file the theme names: ``(its place in catalog.yaml, its path, "logo" or "font")``.

    Example:
        >>> theme_files(Theme.model_validate({"logo": {"file": "t/logo.png", "alt": "City"}}))
        [(('theme', 'logo', 'file'), 't/logo.png', 'logo')]
    """
    named: list[tuple[tuple[str | int, ...], str, str]] = []
    if theme.logo is not None:
        named.append((("theme", "logo", "file"), theme.logo.file, "logo"))
    for i, font in enumerate(theme.fonts):
        named.append((("theme", "fonts", i, "file"), font.file, "font"))
    return named


def check_theme_files(theme: Theme, root: Path, file: str, lines: Lines, problems: Problems) -> None:
    """Append a problem for each theme file that is missing, outside the folder, too big or not of
    its type, for a missing templates folder and for each override that does not parse."""
    for at, relative, kind in theme_files(theme):
        message = _file_problem(root, relative, kind)
        if message:
            problems.append((file, line_for(lines, at), message))
    if theme.templates is not None:
        folder = root / theme.templates
        if not folder.is_dir() or not _inside(root, folder):
            problems.append(
                (file, line_for(lines, ("theme", "templates")),
                 f"theme templates: there is no folder {theme.templates} in the catalog folder; create "
                 "it and put template overrides in it (see docs/theme.md)")
            )  # fmt: skip
        else:
            _check_templates(folder, problems)


def _inside(root: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _file_problem(root: Path, relative: str, kind: str) -> str | None:
    path = root / relative
    if not path.is_file():
        return f"theme {kind} {relative} is not a file in the catalog folder: add it or fix the path"
    if not _inside(root, path):
        return f"theme {kind} {relative} leads out of the catalog folder: copy the file into it"
    size = path.stat().st_size
    if size > _MAX_BYTES[kind]:
        return f"theme {kind} {relative} is {size:,} bytes; keep it under {_MAX_BYTES[kind]:,} (compress it)"
    head = path.read_bytes()[:2048]
    suffix = path.suffix.lower()
    if suffix == ".svg":
        ok = b"<svg" in head or b"<svg" in path.read_bytes()[:65536]
    else:
        ok = head.startswith(_MAGIC[suffix])
    if not ok:
        return f"theme {kind} {relative} is not a {suffix[1:].upper()} file: export it again as {suffix}"
    return None


def _check_templates(folder: Path, problems: Problems) -> None:
    import jinja2

    env = jinja2.Environment(autoescape=True)
    for path in sorted(folder.rglob("*.html")):
        try:
            env.parse(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append((str(path), None, "cannot read the template: save it as UTF-8 text"))
        except jinja2.TemplateSyntaxError as exc:
            problems.append((str(path), exc.lineno, f"template syntax: {exc.message}"))


def check_contrast(theme: Theme, file: str, lines: Lines, problems: Problems) -> None:
    """Append a problem for each colour pair with a theme colour in it that misses its ratio."""
    for scheme, key in (("light", "colors"), ("dark", "dark_colors")):
        given: ThemeColors = getattr(theme, key)
        chosen = {name: value for name, value in given.model_dump().items() if value is not None}
        if not chosen:
            continue
        colors = {**BUILT_IN_COLORS[scheme], **chosen}
        for fg, bg, ratio, use in COLOR_PAIRS:
            if fg not in chosen and bg not in chosen:
                continue
            found = contrast_ratio(colors[fg], colors[bg])
            if found >= ratio:
                continue
            fix = fg if fg in chosen else bg
            needs = [(colors[b if a == fix else a], r) for a, b, r, _ in COLOR_PAIRS if fix in (a, b)]
            shade = nearest_passing_all(colors[fix], needs)
            problems.append(
                (file, line_for(lines, ("theme", key, fix)),
                 f"theme {key}.{fix} {colors[fix]}: {fg} on {bg} ({colors[fg]} on {colors[bg]}) has "
                 f"contrast {_floor(found)}:1; {use} {ratio:g}:1 (WCAG AA): use {shade}, the nearest "
                 f"passing shade of {fix} (same hue, HLS lightness moved the least)")
            )  # fmt: skip


def _floor(ratio: float) -> str:
    """A ratio shown with two decimals, rounded down (4.499 is not shown as a passing 4.50)."""
    return f"{int(ratio * 100) / 100:.2f}"
