"""Every public page in the request's language (issue 26), on the demo served in process.

- In the pseudo-locale ``en-XA`` (every message accented and bracketed), no page shows a visible
  text node of English words that is not catalog data (titles, descriptions, names, notes: the
  city's own text, translated by the catalog, not by gettext), a date or a number.
- ``<html lang dir>`` follow the locale; Arabic is right to left.
- Which locale answers: the URL's prefix, then a chosen one (the selector's cookie), then the
  ``Accept-Language`` hint (a redirect, never cached, ``Vary: Accept-Language, Cookie``), then the
  default; the response cache never hands one language's page to another.
- Charts drawn on the server (SVG) carry Spanish titles, legends and axes with ``?lang=es``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from demo_store import demo_store
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from pypdf import PdfReader

from btvstat_open.i18n import PSEUDO_LOCALE, use_locale
from btvstat_open.i18n.pseudo import OPEN, SHUT
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from catalog.packet import build_packet
from widgets.packets.render import packet_html

KPI = "pothole-days-to-close"
PUBLIC_PAGES = {
    "dashboard": "/",
    "dashboard filtered": "/?status=off_track",
    "kpi": f"/kpi/{KPI}",
    "kpi with breakdown and dated goal": "/kpi/water-use-monthly",
    "kpi with peers": "/kpi/trees-planted-yearly",
    "goal": "/goals/streets-in-repair",
    "departments": "/departments",
    "department": "/departments/public-works",
    "meetings": "/meetings",
    "stories": "/stories",
    "story": "/stories/2020-02-potholes",
    "checks": "/checks",
    "error": "/kpi/no-such-kpi",
    "login": "/login",
}
PSEUDO_SEGMENT = re.compile(f"{OPEN}[^{SHUT}]*{SHUT}")
MONTHS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")
WORD = re.compile(r"[A-Za-z]{3,}")
# Text that is neither a message nor catalog data, by design: the product's name and formats.
STRIP = " ·:,.;()-–—▲▼=●◆■○/'\"%+0123456789\u00a0"
ALLOWED = ("btvstat-open", "Vega-Lite", "Parquet", "GeoJSON", "DCAT-US", "iCalendar", "UTC")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    found = demo_store(tmp_path_factory.mktemp("i18n") / "store")
    yield found
    found.close()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    settings = Settings.from_env(pseudo_locale=True)  # the pseudo-locale is for tests only
    with TestClient(create_app(store, load_catalog(DEMO_DIR, store), settings)) as test_client:
        yield test_client


def test_a_live_server_does_not_speak_the_pseudo_locale(store: Store) -> None:
    """Without the ``pseudo_locale`` setting: ``/en-XA/`` is a 404, ``?lang=en-XA`` is ignored,
    and the selector never lists it."""
    app = create_app(store, load_catalog(DEMO_DIR, store), Settings.from_env(warm_up=False))
    with TestClient(app) as live:
        assert live.get(f"/en-XA/kpi/{KPI}").status_code == 404
        embed = live.get(f"/embed/{KPI}?lang=en-XA")
        assert embed.status_code == 200 and '<html lang="en" dir="ltr"' in embed.text
        assert OPEN not in embed.text
        page = live.get(f"/kpi/{KPI}").text
        assert 'class="language-selector"' in page and "en-XA" not in page


def _strings(value: Any) -> Iterator[str]:
    """Every string value (never a key) of a YAML document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture(scope="module")
def catalog_text() -> str:
    """The demo catalog's own text (values of its YAML files, its stories, its data's metadata),
    one string per line, whitespace folded: what the catalog translates, not gettext."""
    parts: list[str] = []
    for path in sorted(DEMO_DIR.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            parts += [str(s) for s in _strings(yaml.safe_load(path.read_text(encoding="utf-8")))]
        elif path.suffix == ".md":
            parts.append(re.sub(r"[*_`#>\[\]]", " ", path.read_text(encoding="utf-8")))
    return "\n".join(" ".join(part.split()) for part in parts)


def _visible_texts(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    for isolated in tree.xpath("//bdi"):  # only isolates its text's direction: one text with the sentence
        isolated.drop_tag()
    hidden = "ancestor::script or ancestor::style or ancestor::textarea or ancestor::code or ancestor::svg"
    # The language selector names each language in itself (marked with its own lang).
    other_language = "ancestor::*[@lang][1][@lang != 'en-XA']"
    return [
        " ".join(t.split()) for t in tree.xpath(f"//body//text()[not({hidden}) and not({other_language})]")
    ]


def _untranslated(text: str, catalog_text: str, store_names: str) -> str | None:
    """What of ``text`` is English words outside messages, catalog data, dates and numbers."""
    known = catalog_text + "\n" + store_names
    for chunk in re.split(r" · |\n", PSEUDO_SEGMENT.sub("\n", text)):
        words = chunk.strip(STRIP)
        if not WORD.search(words) or words in known:
            continue
        for allowed in ALLOWED:
            words = words.replace(allowed, " ")
        words = MONTHS.sub(" ", words).strip(STRIP)
        if not WORD.search(words) or words in known:
            continue
        # Catalog text joined with numbers and punctuation ("17.0 days", "(Street Maintenance), due").
        pieces = [p.strip(STRIP) for p in re.split(r"[,:;()]|\d[\d.,]*", words)]
        if all(not WORD.search(p) or p in known for p in pieces):
            continue
        return words
    return None


@pytest.fixture(scope="module")
def store_names(client: TestClient) -> str:
    """The names and descriptions the store holds for its datasets (the portal's metadata)."""
    views = client.get("/api/views.json").json() if client.get("/api/views.json").status_code == 200 else []
    found = client.get("/api/catalog/v1").json().get("results", [])
    names = [r["resource"].get("name", "") for r in found] + [v.get("name", "") for v in views]
    names += [r["resource"].get("description", "") for r in found]
    return "\n".join(" ".join(n.split()) for n in names)


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_no_visible_text_escapes_translation(
    client: TestClient, catalog_text: str, store_names: str, name: str
) -> None:
    response = client.get("/en-XA" + PUBLIC_PAGES[name])
    assert response.status_code == (404 if name == "error" else 200), response.text[:300]
    assert '<html lang="en-XA" dir="ltr"' in response.text
    left = {t for t in _visible_texts(response.text) if _untranslated(t, catalog_text, store_names)}
    assert left == set(), f"{name}: untranslated text {sorted(left)[:8]}"
    assert OPEN in response.text


def test_the_packet_page_escapes_nothing(tmp_path: Path, catalog_text: str, store_names: str) -> None:
    """A packet drawn in the pseudo-locale (served packets are kept in the site's own languages)."""
    store = demo_store(tmp_path / "store")
    catalog = load_catalog(DEMO_DIR, store)
    with use_locale(PSEUDO_LOCALE):
        page = packet_html(
            build_packet(catalog, store, "2020-03-04-public-works"), catalog.settings, links=True
        )
    store.close()
    assert '<html lang="en-XA" dir="ltr">' in page
    left = {t for t in _visible_texts(page) if _untranslated(t, catalog_text, store_names)}
    assert left == set(), left


def test_the_embed_and_its_iframe_text_follow_lang(
    client: TestClient, catalog_text: str, store_names: str
) -> None:
    response = client.get(f"/embed/{KPI}?lang=en-XA")
    assert response.status_code == 200 and '<html lang="en-XA"' in response.text
    left = {t for t in _visible_texts(response.text) if _untranslated(t, catalog_text, store_names)}
    assert left == set(), left
    spanish = client.get(f"/embed/{KPI}?lang=es").text
    assert '<html lang="es" dir="ltr"' in spanish and ">datos</a>" in spanish


@pytest.mark.parametrize(
    ("locale", "direction", "words"),
    [
        ("es", "ltr", ("Saltar al contenido principal", "Metodología", "Objetivo")),
        ("fr", "ltr", ("Aller au contenu principal", "Méthodologie", "Cible")),
        ("ar", "rtl", ("انتقل إلى المحتوى الرئيسي", "المنهجية", "الهدف")),
    ],
)
def test_pages_speak_their_locale(
    client: TestClient, locale: str, direction: str, words: tuple[str, ...]
) -> None:
    page = client.get(f"/{locale}/kpi/{KPI}").text
    assert f'<html lang="{locale}" dir="{direction}"' in page
    for word in words:
        assert word in page
    # Page, image and feed links stay in the locale (prefixed: a static copy has them as files);
    # data keeps its one address.
    assert f'href="/{locale}/departments"' in page
    assert f'href="/kpi/{KPI}.csv"' in page and f'href="/{locale}/kpi/{KPI}.csv"' not in page
    assert f'href="/{locale}/kpi/{KPI}.svg"' in page and f'href="/{locale}/program.atom"' in page
    assert (
        client.get(f"/{locale}/kpi/{KPI}.svg").content == client.get(f"/kpi/{KPI}.svg?lang={locale}").content
    )


def test_alternates_and_the_selector(client: TestClient) -> None:
    page = client.get("/fr/departments").text
    for code, href in (
        ("en", "/departments"),
        ("es", "/es/departments"),
        ("fr", "/fr/departments"),
        ("ar", "/ar/departments"),
    ):
        assert f'<link rel="alternate" hreflang="{code}" href="{href}">' in page
    assert '<link rel="alternate" hreflang="x-default" href="/departments">' in page
    tree = lxml_html.fromstring(page)
    links = tree.xpath("//nav[contains(@class, 'language-selector')]//a")
    assert [a.get("hreflang") for a in links] == ["en", "es", "fr", "ar"]
    assert [a.text for a in links] == ["English", "Español", "Français", "العربية"]
    assert links[2].get("aria-current") == "true" and links[3].get("dir") == "rtl"
    assert links[1].get("href") == "/locale/es?next=%2Fdepartments"


def test_the_selector_remembers_the_choice_without_javascript(client: TestClient) -> None:
    chosen = client.get("/locale/es?next=/kpi/" + KPI, follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/es/kpi/{KPI}"
    assert "locale=es" in chosen.headers["set-cookie"]
    # The choice wins over the browser's hint on an unprefixed page.
    back = client.get("/", headers={"accept-language": "fr", "cookie": "locale=es"}, follow_redirects=False)
    assert back.status_code == 302 and back.headers["location"] == "/es/"
    english = client.get(
        "/", headers={"accept-language": "fr", "cookie": "locale=en"}, follow_redirects=False
    )
    assert english.status_code == 200 and '<html lang="en"' in english.text
    # Never anywhere but this site.
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        away = client.get("/locale/fr", params={"next": target}, follow_redirects=False)
        assert away.headers["location"] == "/fr/", target
    client.cookies.clear()


def test_accept_language_is_only_a_first_visit_hint(client: TestClient) -> None:
    hinted = client.get(
        f"/kpi/{KPI}?x=1", headers={"accept-language": "fr-CA,fr;q=0.9"}, follow_redirects=False
    )
    assert hinted.status_code == 302 and hinted.headers["location"] == f"/fr/kpi/{KPI}?x=1"
    assert hinted.headers["cache-control"] == "no-store"
    assert "Accept-Language" in hinted.headers["vary"] and "Cookie" in hinted.headers["vary"]
    # A locale in the URL is never overridden.
    prefixed = client.get(f"/es/kpi/{KPI}", headers={"accept-language": "fr"})
    assert prefixed.status_code == 200 and '<html lang="es"' in prefixed.text
    assert "Accept-Language" not in prefixed.headers.get("vary", "")
    # The default page says it depends on the hint (a shared cache keeps one copy per hint).
    default = client.get(f"/kpi/{KPI}", headers={"accept-language": "de, en;q=0.5"})
    assert default.status_code == 200 and '<html lang="en"' in default.text
    assert "Accept-Language" in default.headers["vary"] and "Cookie" in default.headers["vary"]
    # Data, images and APIs never depend on it.
    data = client.get(f"/kpi/{KPI}.json", headers={"accept-language": "es"})
    assert data.status_code == 200 and "Accept-Language" not in data.headers.get("vary", "")


def test_the_response_cache_keeps_languages_apart(client: TestClient) -> None:
    first_english = client.get(f"/kpi/{KPI}").text
    spanish = client.get(f"/es/kpi/{KPI}").text
    again_english = client.get(f"/kpi/{KPI}").text
    assert "Metodología" in spanish and "Methodology" in again_english and "Metodología" not in again_english
    assert again_english == first_english
    svg_es = client.get(f"/kpi/{KPI}.svg?lang=es").text
    svg_en = client.get(f"/kpi/{KPI}.svg").text
    assert svg_es != svg_en and "Objetivo futuro" in svg_es and "Objetivo futuro" not in svg_en


def test_server_charts_carry_spanish_titles_legends_and_axes(client: TestClient) -> None:
    trend = client.get(f"/kpi/{KPI}.svg?lang=es")
    assert trend.status_code == 200
    for word in ("En camino", "Fuera de rumbo", "Objetivo y margen cerca del objetivo", "Nota 1", "feb 2020"):
        assert word in trend.text, word
    breakdown = client.get(f"/kpi/{KPI}/breakdown.svg?lang=es").text
    assert "Semana del" in breakdown and "se ocultan" in breakdown
    peers = client.get("/kpi/trees-planted-yearly/peers.svg?lang=es").text
    assert "comparado con ciudades similares" in peers
    spec = client.get("/kpi/trees-planted-yearly.vl.json?lang=fr").json()
    assert spec["description"].startswith("Graphique en")
    assert client.get(f"/kpi/{KPI}.png?lang=xx").status_code == 400


def test_packet_pdf_and_feeds_follow_lang(client: TestClient) -> None:
    feed = client.get("/program.atom?lang=es")
    assert feed.status_code == 200 and "qué cambió" in feed.text
    calendar = client.get("/actions.ics?lang=fr")
    unfolded = calendar.text.replace("\r\n ", "")  # iCalendar folds lines at 75 octets
    assert calendar.status_code == 200 and "échéances des actions" in unfolded
    # A kept packet is kept in each of the site's languages; its PDF in one is laid out from it.
    packet = client.get("/fr/meetings/2020-03-04-public-works").text
    assert '<html lang="fr" dir="ltr">' in packet and "Points permanents" in packet
    assert 'href="/fr/meetings"' in packet
    english = client.get("/meetings/2020-03-04-public-works").text
    assert '<html lang="en" dir="ltr">' in english and "Standing items" in english
    pdf = client.get("/meetings/2020-03-04-public-works.pdf?lang=es")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Puntos permanentes" in text and "Página 1 de" in text  # the pages' footer too


def test_arabic_pages_and_charts_write_arabic_digits(client: TestClient) -> None:
    """Numbers, percentages and dates in Arabic are in the locale's digits, in pages and charts."""
    svg = client.get(f"/kpi/{KPI}.svg?lang=ar").text
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert any(re.search("[٠-٩]", t) for t in texts), texts
    only_numbers = [t for t in texts if re.fullmatch(r"[\d.,%\s\u200f-]+", t) and re.search(r"\d", t)]
    assert not [t for t in only_numbers if re.search("[0-9]", t)], only_numbers
    page = lxml_html.fromstring(client.get(f"/ar/kpi/{KPI}").content)
    value = " ".join(page.xpath("//*[contains(@class, 'big-number')]//text()"))
    assert re.search("[٠-٩]", value) and not re.search("[0-9]", value), value
    dashboard = lxml_html.fromstring(client.get("/ar/").content)
    counts = [
        str(n.text_content())
        for n in dashboard.xpath("//*[@class='glance-number' or @class='rollup-counts']")
    ]
    assert counts and all(re.search("[٠-٩]", c) and not re.search("[0-9]", c) for c in counts), counts
