"""The demo site in its other languages: catalog text in French or Spanish, and a text without a
translation shown in English, marked ``lang="en"`` (the demo leaves the water KPI untranslated in French)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import lxml.html
import pytest
import requests
from demo_store import demo_store
from servers import mounted

from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

HTTP = requests.Session()
WATER = "Average monthly water use per ZIP code"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = demo_store(tmp_path_factory.mktemp("localized-site") / "store")
    with mounted(create_app(store, load_catalog(DEMO_DIR, store)), HTTP) as url:
        yield url
    store.close()


def get(base: str, path: str) -> requests.Response:
    response = HTTP.get(base + path, timeout=120)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response


def test_a_translated_kpi_page_is_in_the_language_asked(base: str) -> None:
    page = lxml.html.fromstring(get(base, "/fr/kpi/pothole-days-to-close").text)
    assert page.get("lang") == "fr"
    heading = page.find(".//h1")
    assert heading.text_content().strip() == "Délai médian de fermeture des demandes de nids-de-poule"
    assert heading.find(".//span[@lang]") is None  # translated: nothing to mark
    assert "Travaux publics" in page.text_content()
    english = lxml.html.fromstring(get(base, "/kpi/pothole-days-to-close").text)
    assert english.get("lang") == "en" and "Median days to close" in english.find(".//h1").text_content()


def test_an_untranslated_kpi_falls_back_marked_with_its_language(base: str) -> None:
    text = get(base, "/fr/kpi/water-use-monthly").text
    page = lxml.html.fromstring(text)
    assert page.get("lang") == "fr"
    [marked] = page.findall(".//h1//span[@lang]")
    assert (marked.get("lang"), marked.text) == ("en", WATER)
    assert page.find(".//title").text.startswith(WATER)  # the title element holds text, not markup
    # the department is translated even where the KPI is not; its address stays the same
    links = page.xpath('.//a[@href="/fr/departments/water-and-power"]')
    assert links and links[0].text_content() == "Eau et Électricité"
    # in Spanish the same KPI is translated
    es = lxml.html.fromstring(get(base, "/es/kpi/water-use-monthly").text)
    assert es.find(".//h1").text_content().strip() == "Consumo mensual promedio de agua por código postal"
    assert not es.findall(".//h1//span[@lang]")


def test_values_and_sentences_mark_the_fallback_text_in_them(base: str) -> None:
    """A unit, a title or a value in English inside a French sentence (cards, the latest value, the
    progress summary, the chart's description) is marked ``lang="en"``; the words are the same."""
    page = lxml.html.fromstring(get(base, "/fr/kpi/water-use-monthly").text)
    [unit] = page.xpath('.//p[@class="big-number"]/span[@lang]')
    assert (unit.get("lang"), unit.text) == ("en", "units as published")
    assert page.xpath('.//p[@class="big-number"]')[0].text_content().startswith("49,8 units as published")
    caption = page.xpath('.//figcaption[@class="visually-hidden"]')[0]
    assert [s.text for s in caption.xpath("./span[@lang='en']")][:2] == [WATER, "units as published"]
    assert page.xpath('.//p[@class="progress-summary"]//span[@lang="en"]')
    for caption_text in page.xpath(".//caption"):
        if WATER in caption_text.text_content():
            assert caption_text.xpath("./span[@lang='en']"), caption_text.text_content()
    dashboard = lxml.html.fromstring(get(base, "/fr/departments/water-and-power").text)
    for kind in ("card-value", "card-target", "card-change", "card-progress"):
        [card] = [
            c for c in dashboard.xpath(f'.//p[@class="{kind}"]') if "units as published" in c.text_content()
        ]
        assert card.xpath('.//span[@lang="en"]'), kind


def test_in_a_right_to_left_language_the_english_fallback_keeps_its_direction(base: str) -> None:
    """The demo's catalog has no Arabic text: the Arabic page shows it in English, left to right."""
    page = lxml.html.fromstring(get(base, "/ar/kpi/pothole-days-to-close").text)
    assert (page.get("lang"), page.get("dir")) == ("ar", "rtl")
    [marked] = page.findall(".//h1//span[@lang]")
    assert (marked.get("lang"), marked.get("dir"), marked.text) == (
        "en",
        "ltr",
        "Median days to close pothole requests",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/kpi/water-use-monthly",
        "/embed/water-use-monthly",
        "/departments",
        "/departments/water-and-power",
        "/goals/conserve-water-power",
        "/meetings",
        "/meetings/2020-03-04-public-works",
        "/stories",
        "/stories/2020-02-potholes",
    ],
)
@pytest.mark.parametrize("locale", ["fr", "ar"])  # the demo's Arabic falls back for every catalog text
def test_marks_never_land_inside_attributes_or_titles(base: str, path: str, locale: str) -> None:
    """A fallback writes markup only where markup belongs: never in an attribute or ``<title>``."""
    asked = (
        f"{path}?lang={locale}" if path.startswith("/embed/") else f"/{locale}{path}"
    )  # embeds take ?lang=
    page = lxml.html.fromstring(get(base, asked).text)
    assert page.get("lang") == locale
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert "<span" not in value and "&lt;span" not in value, (path, element.tag, name, value)
    title = page.find(".//title")
    assert title is None or "<span" not in (title.text or ""), (path, title.text)


def test_dashboard_and_documents_follow_the_language(base: str) -> None:
    dashboard = get(base, "/es/").text
    assert "Obras Públicas" in dashboard and "Calles en buen estado" in dashboard
    departments = lxml.html.fromstring(get(base, "/es/departments").text)
    assert (
        departments.xpath('.//a[@href="/es/departments/public-works"]')[0].text_content() == "Obras Públicas"
    )
    program = json.loads(get(base, "/program.json?lang=es").text)
    assert "Mediana de días para cerrar solicitudes de baches" in json.dumps(program, ensure_ascii=False)
    packet = get(base, "/es/meetings/2020-03-04-public-works").text
    assert '<html lang="es"' in packet and "Revisión de Obras Públicas" in packet
    story = lxml.html.fromstring(get(base, "/fr/stories/2020-02-potholes").text)
    assert story.find(".//h1").text_content().strip().startswith("La vague de nids-de-poule du gel")
    assert "La ola de baches" in get(base, "/es/stories").text
    feed = get(base, "/kpi/pothole-days-to-close.atom?lang=es").text
    assert "Mediana de días para cerrar solicitudes de baches" in feed
    # a past meeting's kept packet: kept in each language, the catalog's text in it too
    kept = get(base, "/es/meetings/2020-02-05-public-works").text
    assert "¿Cuándo empezará la segunda cuadrilla y dónde trabajará primero?" in kept
    assert "When will the second crew start" in get(base, "/meetings/2020-02-05-public-works").text
    # images and embeds take ?lang=; each language is its own cached answer
    assert "Mediana de días" in get(base, "/kpi/pothole-days-to-close.svg?lang=es").text
    embed = get(base, "/embed/water-use-monthly?lang=fr").text
    assert '<span lang="en" dir="ltr">Average monthly water use per ZIP code</span>' in embed
    assert "Public Works" in get(base, "/").text and "Obras Públicas" not in get(base, "/").text


def test_a_language_the_catalog_lacks_is_a_clear_400(base: str) -> None:
    response = HTTP.get(base + "/kpi/pothole-days-to-close?lang=de", timeout=60)
    assert response.status_code == 400
    assert "use one of en, es, fr" in response.text


def test_the_languages_share_each_series(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A series holds no text: the Spanish pages read the one the English ones computed."""
    from widgets.service import WidgetService

    with demo_store(tmp_path_factory.mktemp("shared-series") / "store") as store:
        service = WidgetService(store, load_catalog(DEMO_DIR, store))
        spanish = service.localized("es")
        assert spanish.catalog is not None and spanish.catalog.locale == "es"
        english_kpi, spanish_kpi = service.kpi("pothole-days-to-close"), spanish.kpi("pothole-days-to-close")
        assert spanish_kpi.title != english_kpi.title
        assert spanish.series(spanish_kpi) is service.series(english_kpi)
        assert spanish.breakdown(spanish_kpi) is service.breakdown(english_kpi)
        assert spanish.facts(spanish_kpi).kpi.title == spanish_kpi.title  # what shows text is its own
