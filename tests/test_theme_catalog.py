"""``theme:`` in catalog.yaml: the model, its files, and the WCAG contrast check of ``catalog validate``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from catalog_files import problems, write

from btvstat_open.cli import main
from btvstat_open.server.running import catalog_signature
from catalog import load_catalog
from catalog.colors import contrast_ratio, nearest_passing, normalize_hex
from catalog.demo import DEMO_DIR
from catalog.theme_checks import BUILT_IN_COLORS, COLOR_PAIRS
from widgets.render import STATIC

KPI = """\
    id: potholes
    title: Pothole requests
    department: Public Works
    source: {dataset: kc-311-potholes, date_column: creation_date}
    measure: {calculation: count}
    """
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'


def catalog(root: Path, theme_yaml: str, files: dict[str, str | bytes] | None = None) -> Path:
    """A one-KPI catalog whose catalog.yaml is ``title`` then ``theme_yaml``, plus theme files."""
    write(root, {"catalog.yaml": "title: Themed\n" + theme_yaml, "potholes.yaml": KPI})
    for name, body in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)
    return root


def test_a_full_theme_loads(tmp_path: Path) -> None:
    root = catalog(
        tmp_path,
        "theme:\n"
        "  logo: {file: theme/logo.svg, alt: City of Example}\n"
        "  colors: {primary: '#0B5394', link: '#0b5394', on_track: '#1a7f37'}\n"
        "  dark_colors: {link: '#8ab4f8'}\n"
        "  fonts:\n"
        "    - {family: Public Sans, file: theme/fonts/ps.woff2, weight: 400}\n"
        "    - {family: Public Sans, file: theme/fonts/ps-bold.ttf, weight: 700}\n"
        "  body_font: Public Sans\n"
        "  header_links:\n"
        "    - {label: City home, url: 'https://www.example.gov'}\n"
        "    - {label: Data, url: /api/kpis}\n"
        "  footer_links: [{label: Privacy, url: 'privacy.html'}]\n"
        "  templates: theme/templates\n",
        {
            "theme/logo.svg": SVG,
            "theme/fonts/ps.woff2": b"wOF2" + b"\0" * 40,
            "theme/fonts/ps-bold.ttf": b"\x00\x01\x00\x00" + b"\0" * 40,
            "theme/templates/base.html": '{% extends "default/base.html" %}',
        },
    )
    theme = load_catalog(root).settings.theme
    assert theme is not None and theme.colors.primary == "#0b5394"  # normalised to lowercase
    assert [link.url for link in theme.header_links] == ["https://www.example.gov", "/api/kpis"]


@pytest.mark.parametrize(
    ("theme_yaml", "line", "words"),
    [
        (
            "theme:\n  colours: {primary: '#000000'}\n",
            3,
            "unknown key 'theme.colours': did you mean 'colors'?",
        ),
        ("theme:\n  colors:\n    primary: blue\n", 4, "not a colour: write it as a hex code"),
        ("theme:\n  colors:\n    primray: '#123456'\n", 4, "did you mean 'primary'?"),
        ("theme:\n  header_links:\n    - {label: Bad, url: 'javascript:alert(1)'}\n", 4, "not a link"),
        ("theme:\n  footer_links:\n    - {label: Bad, url: '//evil.example'}\n", 4, "not a link"),
        ("theme:\n  logo: {file: ../outside.svg, alt: Logo}\n", 3, "not a path inside the catalog folder"),
        ("theme:\n  logo: {file: /etc/logo.svg, alt: Logo}\n", 3, "not a path inside the catalog folder"),
        ("theme:\n  logo: {file: theme/logo.gif, alt: Logo}\n", 3, "SVG or PNG"),
        ("theme:\n  logo: {file: theme/logo.svg}\n", 3, "alt"),
        ("theme:\n  fonts:\n    - {family: 'Bad\"; }', file: f.woff2}\n", 4, "family"),
        ("theme:\n  fonts: []\n  body_font: Nope\n", 4, "not a family of fonts"),
    ],
)
def test_bad_theme_keys_are_errors_at_their_line(
    tmp_path: Path, theme_yaml: str, line: int, words: str
) -> None:
    found = problems(catalog(tmp_path, theme_yaml))
    assert [(f, n) for f, n, _ in found] == [("catalog.yaml", line)], found
    assert words in found[0][2]


def test_theme_files_are_checked(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG)
    root = catalog(
        tmp_path / "cat",
        "theme:\n"
        "  logo: {file: theme/logo.png, alt: Logo}\n"
        "  fonts:\n"
        "    - {family: A, file: theme/missing.woff2}\n"
        "    - {family: B, file: theme/linked.ttf}\n"
        "  templates: theme/templates\n",
        {
            "theme/logo.png": b"GIF89a not a png",
            "theme/templates/kpi.html": "{% block kpi_summary %}\n{% if %}\n",
        },
    )
    (root / "theme" / "linked.ttf").symlink_to(outside)
    found = problems(root)
    messages = {(f, n): m for f, n, m in found}
    assert "is not a PNG file" in messages[("catalog.yaml", 3)]
    assert "is not a file in the catalog folder" in messages[("catalog.yaml", 5)]
    assert "leads out of the catalog folder" in messages[("catalog.yaml", 6)]
    assert messages[("kpi.html", 2)].startswith("template syntax:")


def test_missing_templates_folder(tmp_path: Path) -> None:
    found = problems(catalog(tmp_path, "theme:\n  templates: theme/templates\n"))
    assert found == [("catalog.yaml", 3, found[0][2])] and "there is no folder theme/templates" in found[0][2]


def test_a_failing_colour_names_its_ratio_and_a_nearest_shade_that_passes(tmp_path: Path) -> None:
    root = catalog(tmp_path, "theme:\n  colors:\n    background: '#ffffff'\n    link: '#6fa8dc'\n")
    found = problems(root)
    assert [(f, n) for f, n, _ in found] == [("catalog.yaml", 5)] * 2  # on background, on surface
    message = found[0][2]
    ratio = contrast_ratio("#6fa8dc", "#ffffff")
    assert f"has contrast {int(ratio * 100) / 100:.2f}:1" in message and "links need 4.5:1" in message
    shade = re.search(r"use (#[0-9a-f]{6}), the nearest passing shade of link", message)
    assert shade is not None, message
    # The suggestion passes every pair the colour is in, and pasted back, validates.
    assert contrast_ratio(shade[1], "#ffffff") >= 4.5
    assert contrast_ratio(shade[1], BUILT_IN_COLORS["light"]["surface"]) >= 4.5
    text = (root / "catalog.yaml").read_text().replace("#6fa8dc", shade[1])
    (root / "catalog.yaml").write_text(text)
    assert load_catalog(root).settings.theme is not None


def test_a_background_that_breaks_built_in_text_is_the_error(tmp_path: Path) -> None:
    found = problems(catalog(tmp_path, "theme:\n  dark_colors:\n    background: '#9198a1'\n"))
    assert found and all(n == 4 for _, n, _ in found)
    assert all(m.startswith("theme dark_colors.background #9198a1:") for _, _, m in found)


def test_ui_pairs_need_three_to_one(tmp_path: Path) -> None:
    # #949494 on white is 3.03:1: a focus ring passes, text would not.
    assert load_catalog(catalog(tmp_path / "a", "theme:\n  colors: {accent: '#949494'}\n"))
    found = problems(catalog(tmp_path / "b", "theme:\n  colors: {muted: '#949494'}\n"))
    assert found and all("4.5:1" in m for _, _, m in found)


def test_nearest_passing_moves_lightness_the_least() -> None:
    for colour in ("#ffcc00", "#6fa8dc", "#ff0000", "#00ff00", "#777777"):
        for other in ("#ffffff", "#0d1117", "#16466f"):
            shade = nearest_passing(colour, other, 4.5)
            assert contrast_ratio(shade, other) >= 4.5
    assert nearest_passing("#1a5b92", "#ffffff", 4.5) == "#1a5b92"  # passing already: unchanged
    assert normalize_hex("#AbC") == "#aabbcc"


def test_built_in_colours_match_site_css() -> None:
    """The contrast check's built-in palette is the one site.css draws with."""
    css = (STATIC / "site.css").read_text()
    names = {"--bg": "background", "--surface": "surface", "--text": "text", "--muted": "muted",
             "--border": "border", "--link": "link", "--focus": "accent", "--on-track": "on_track",
             "--near-target": "near_target", "--off-track": "off_track", "--primary": "primary",
             "--on-primary": "on_primary"}  # fmt: skip
    light = css[css.index(":root {") : css.index("}", css.index(":root {"))]
    dark = css[css.index(".theme-dark {") : css.index("}", css.index(".theme-dark {"))]
    for block, scheme in ((light, "light"), (dark, "dark")):
        found = dict(re.findall(r"(--[a-z-]+): (#[0-9a-f]{6})", block))
        assert {names[k]: v for k, v in found.items() if k in names} == BUILT_IN_COLORS[scheme]
    # and the built-in palettes pass every pair they are checked on
    for colors in BUILT_IN_COLORS.values():
        for fg, bg, ratio, _ in COLOR_PAIRS:
            assert contrast_ratio(colors[fg], colors[bg]) >= ratio, (fg, bg)


def test_the_demo_theme_passes() -> None:
    theme = load_catalog(DEMO_DIR).settings.theme
    assert theme is not None and theme.logo is not None and theme.colors.primary is not None


def test_catalog_validate_prints_the_shade_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = catalog(tmp_path, "theme:\n  colors:\n    primary: '#ffcc00'\n")
    assert main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")]) == 2
    lines = capsys.readouterr().out.splitlines()
    found = [
        line for line in lines if line.startswith(f"{root / 'catalog.yaml'}:4: theme colors.primary #ffcc00:")
    ]
    assert found and any("on_primary on primary (#ffffff on #ffcc00)" in line for line in found)
    shade = re.search(r"use (#[0-9a-f]{6}), the nearest passing shade of primary", found[0])
    assert shade is not None and contrast_ratio("#ffffff", shade[1]) >= 4.5


def test_a_changed_theme_file_changes_the_catalog_version(tmp_path: Path) -> None:
    root = catalog(
        tmp_path,
        "theme:\n  logo: {file: theme/logo.svg, alt: Home}\n  templates: theme/templates\n",
        {"theme/logo.svg": SVG, "theme/templates/kpi.html": '{% extends "default/kpi.html" %}'},
    )
    first = load_catalog(root).version
    (root / "theme" / "logo.svg").write_text(SVG.replace("10", "12"))
    second = load_catalog(root).version
    (root / "theme" / "templates" / "kpi.html").write_text('{% extends "default/kpi.html" %}\n')
    assert len({first, second, load_catalog(root).version}) == 3  # caches keyed on it start afresh
    assert any(p.endswith("logo.svg") for p, _, _ in catalog_signature(root))  # serve reloads on it
