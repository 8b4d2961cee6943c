"""The theme as the site serves it: its files under /theme/, its stylesheet, template overrides, packets."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
import requests
from demo_store import demo_store

from btvstat_open.cli import build_parser
from btvstat_open.server import create_app
from btvstat_open.web.inprocess import inprocess_session
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from catalog.models.theme import Theme as CatalogTheme
from widgets.overview import slugify
from widgets.packets.commands import run_packet
from widgets.packets.render import style_hash
from widgets.pages import TEMPLATES
from widgets.theme_templates import template_env
from widgets.themes import THEMES, branded, contrast_ratio

KPI = "pothole-days-to-close"
PACKET_OVERRIDE = """{% extends "default/packet.html" %}
{% block packet_logo %}{{ super() }}<p class="city-packet">Prepared by the program office</p>{% endblock %}
"""
HOSTILE_LABEL = "<script>alert(1)</script>"
HOSTILE_URL = '/search?q="><script>alert(2)</script>'
BASE_OVERRIDE = """{% extends "default/base.html" %}
{% block footer_links %}<p class="city-footer">Footer of {{ site.publisher }}: {{ "<b>bold</b>" }}</p>
{{ super() }}{% endblock %}
"""
KPI_OVERRIDE = """{% extends "default/kpi.html" %}
{% block kpi_summary %}<p class="city-summary">In short: {{ kpi.title }}</p>{% endblock %}
"""


@dataclass
class Themed:
    http: requests.Session
    root: Path
    meeting: str
    pages: list[str]  # every page of the catalog: each template renders in the sandbox

    def get(self, path: str, **headers: str) -> requests.Response:
        return self.http.get("http://testserver" + path, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Themed]:
    """The demo catalog (with its theme) plus two template overrides, served in process."""
    root = tmp_path_factory.mktemp("themed")
    folder = root / "catalog"
    shutil.copytree(DEMO_DIR, folder)
    (folder / "theme" / "templates").mkdir()
    (folder / "theme" / "templates" / "base.html").write_text(BASE_OVERRIDE)
    (folder / "theme" / "templates" / "kpi.html").write_text(KPI_OVERRIDE)
    (folder / "theme" / "templates" / "packet.html").write_text(PACKET_OVERRIDE)
    settings = folder / "catalog.yaml"
    text = settings.read_text().replace("  heading_font:", "  templates: theme/templates\n  heading_font:")
    hostile = f"    - {{label: '{HOSTILE_LABEL}', url: '{HOSTILE_URL}'}}\n"
    settings.write_text(text.replace("  footer_links:\n", "  footer_links:\n" + hostile))
    store = demo_store(root / "store")
    catalog = load_catalog(folder, store)
    try:
        with inprocess_session(create_app(store, catalog)) as http:
            pages = ["/", "/departments", "/checks", "/meetings", "/stories", "/no-such-page"]
            pages += [f"/kpi/{k}" for k in catalog.kpis] + [f"/embed/{k}" for k in catalog.kpis]
            pages += [f"/goals/{g.id}" for g in catalog.settings.goals] + [
                f"/stories/{s}" for s in catalog.stories
            ]
            pages += [f"/meetings/{m}" for m in catalog.meetings]
            pages += sorted({f"/departments/{slugify(k.department)}" for k in catalog.kpis.values()})
            yield Themed(http, folder, sorted(catalog.meetings)[0], pages)
    finally:
        store.close()


def test_every_page_renders_with_overrides(themed: Themed) -> None:
    """Overrides render in the immutable sandbox: every shipped template must render there too."""
    for path in themed.pages:
        answer = themed.get(path)
        assert answer.status_code == (404 if path == "/no-such-page" else 200), path


def _theme_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/theme/[^"]+)"', page)


def test_pages_link_the_theme_and_serve_its_files(themed: Themed) -> None:
    page = themed.get(f"/kpi/{KPI}").text
    urls = _theme_urls(page)
    css_url = next(u for u in urls if u.endswith(".css"))
    logo_url = next(u for u in urls if u.endswith(".svg"))
    logo = (themed.root / "theme" / "logo.svg").read_bytes()
    assert logo_url == f"/theme/logo-{hashlib.sha256(logo).hexdigest()[:12]}.svg"  # content hash in the URL
    assert 'alt="Demo city home"' in page
    answer = themed.get(logo_url)
    assert answer.content == logo
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")  # an SVG runs nothing
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert themed.get(logo_url, **{"If-None-Match": answer.headers["etag"]}).status_code == 304
    css = themed.get(css_url)
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert "--primary: #16466f;" in css.text and "--header-bg: #16466f;" in css.text
    font_url = re.search(r'url\("(/theme/[^"]+\.woff2)"\)', css.text)
    assert font_url is not None and "@font-face" in css.text
    font = themed.get(font_url[1])
    assert font.headers["content-type"] == "font/woff2"
    assert font.content == (themed.root / "theme" / "fonts" / "headings-bold.woff2").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/theme/catalog.yaml",
        "/theme/..%2Fcatalog.yaml",
        "/theme/%2e%2e%2fcatalog.yaml",
        "/theme/..%2F..%2F..%2Fetc%2Fpasswd",
        "/theme/theme%2Flogo.svg",
        "/theme/logo.svg",  # the file's own name: only the hashed name is served
        "/theme/logo-000000000000.svg",
    ],
)
def test_only_the_named_files_are_served(themed: Themed, path: str) -> None:
    answer = themed.get(path)
    assert answer.status_code == 404
    assert b"potholes" not in answer.content and b"root:" not in answer.content


def test_every_page_kind_carries_the_theme(themed: Themed) -> None:
    css_url = next(u for u in _theme_urls(themed.get("/").text) if u.endswith(".css"))
    for path in ("/", f"/embed/{KPI}", "/goals/fix-potholes-fast", "/departments", "/d/kc-311-potholes"):
        assert f'href="{css_url}"' in themed.get(path).text, path
    dataset_page = themed.get("/d/kc-311-potholes")
    assert "font-src 'self'" in dataset_page.headers["content-security-policy"]
    assert '<a class="site-logo" href="/"><img src="/theme/logo-' in dataset_page.text


def test_theme_links_are_text(themed: Themed) -> None:
    page = themed.get("/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in page
    assert 'href="/search?q=&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in page
    assert "<script>alert" not in page


def test_an_override_replaces_its_block_and_keeps_the_rest(themed: Themed) -> None:
    page = themed.get(f"/kpi/{KPI}").text
    assert '<p class="city-summary">In short: Median days to close pothole requests</p>' in page
    assert 'class="number-card"' not in page  # the replaced block is gone
    assert 'id="method-heading"' in page and 'id="downloads-heading"' in page  # the other blocks stay
    assert 'class="site-title"' in page and 'class="site-logo"' in page  # base's header stays
    # The base override reaches every page, also those whose own template is the original.
    for path in (f"/kpi/{KPI}", "/", "/departments"):
        text = themed.get(path).text
        assert '<p class="city-footer">Footer of ' in text and "&lt;b&gt;bold&lt;/b&gt;" in text, path
        assert 'aria-label="Open data"' in text  # super(): the original footer links follow


def test_packets_carry_the_logo_and_colours(themed: Themed) -> None:
    answer = themed.get(f"/meetings/{themed.meeting}")
    page = answer.text
    assert 'class="brand-logo" src="data:image/svg+xml;base64,' in page
    assert '<p class="city-packet">Prepared by the program office</p>' in page  # overrides reach packets
    assert 'stroke="#16466f"' in page and 'stroke="#0b5cad"' not in page  # charts in the brand's colour
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None and "border-bottom-color: #16466f" in style[1]
    assert style_hash(style[1]) in answer.headers["content-security-policy"]  # the browser applies it


def test_charts_take_the_brand_colour(themed: Themed) -> None:
    """The series line, the newest period's bars and this city's peer line are the theme's primary
    (shaded to 3:1 on the dark background); status colours stay semantic."""
    svg = themed.get(f"/kpi/{KPI}.svg").text
    assert 'stroke="#16466f"' in svg and "#0b5cad" not in svg  # the brand's, not the built-in blue
    assert 'fill="#1a7f37"' in svg  # on track stays green
    dark = themed.get(f"/kpi/{KPI}.svg?theme=dark").text
    assert 'stroke="#1f639d"' in dark and contrast_ratio("#1f639d", THEMES["dark"].background) >= 3
    spec = themed.get(f"/kpi/{KPI}.vl.json").text
    assert "#16466f" in spec  # pages draw the same colours in the browser
    assert 'fill="#16466f"' in themed.get(f"/kpi/{KPI}/breakdown.svg").text
    assert 'stroke="#16466f"' in themed.get("/kpi/trees-planted-yearly/peers.svg").text


def test_an_unthemed_catalog_keeps_the_built_in_colours() -> None:
    assert branded(None) == THEMES
    bright = branded(CatalogTheme.model_validate({"colors": {"primary": "#ffcc00"}}))
    assert (
        contrast_ratio(bright["light"].line, "#ffffff") >= 3
        and bright["light"].status == THEMES["light"].status
    )


def _env_with(tmp_path: Path, name: str, text: str) -> jinja2.Environment:
    (tmp_path / name).write_text(text)
    return template_env(TEMPLATES, tmp_path)


def test_overrides_are_strict_and_sandboxed(tmp_path: Path) -> None:
    env = _env_with(tmp_path, "error.html", "{{ heading.__class__.__mro__ }}")
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.get_template("error.html").render(heading="x", message="y").encode()
    env = _env_with(tmp_path, "error.html", "{{ no_such_value }}")
    with pytest.raises(jinja2.exceptions.UndefinedError):
        env.get_template("error.html").render()
    env = _env_with(tmp_path, "error.html", "{{ heading }}")
    assert env.get_template("error.html").render(heading="<i>") == "&lt;i&gt;"


def test_the_block_list_in_the_docs_matches_the_templates() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "theme.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| `([a-z_]+\.html)` \|", docs, re.M)
    documented = {name: template for name, template in rows}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES))
    found: dict[str, set[str]] = {}
    for name in env.list_templates(extensions=["html"]):
        tree = env.parse(env.loader.get_source(env, name)[0])  # type: ignore[union-attr]
        for block in tree.find_all(jinja2.nodes.Block):
            found.setdefault(block.name, set()).add(name)
    assert set(documented) == set(found), "docs/theme.md's block list and the templates disagree"
    for block, template in documented.items():
        assert template in found[block], f"{block} is not a block of {template}"


def test_the_packet_command_draws_the_brand_colour(tmp_path: Path) -> None:
    """``btvstat-open packet`` draws the charts in the catalog's colours, as the served packet does."""
    demo_store(tmp_path / "store").close()
    out = tmp_path / "packet.html"
    meeting = "2020-03-04-public-works"
    argv = ["packet", meeting, "--catalog", str(DEMO_DIR), "--store", str(tmp_path / "store")]
    assert run_packet(build_parser().parse_args([*argv, "--as-of", "2020-03-04", "-o", str(out)])) == 0
    page = out.read_text(encoding="utf-8")
    assert 'stroke="#16466f"' in page and 'stroke="#0b5cad"' not in page  # the brand's, not the built-in blue
