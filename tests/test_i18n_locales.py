"""Locale selection and formats (issue 26): URL prefix > chosen locale > Accept-Language hint >
default; what each answer says to caches; numbers, percentages, currency and dates per locale.

The middleware runs in front of a small Starlette app that reports the locale and path it saw,
so each rule is seen from the route's side, as the widget and people routes see it.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from btvstat_open.i18n import (
    PSEUDO_LOCALE,
    current_locale,
    direction,
    format_currency,
    format_date,
    format_decimal,
    format_integer,
    format_month,
    format_percent,
    negotiate,
    split_locale,
    use_locale,
)
from btvstat_open.i18n.selection import choose
from btvstat_open.web.locales import LocaleMiddleware, bare_path, is_page, localize_links

LOCALES = ["en", "es", "fr", "ar"]


def _seen(request: Request) -> JSONResponse:
    return JSONResponse(
        {"locale": current_locale(), "path": request.url.path, "bare": bare_path(), "route": "kpi"},
        headers={"cache-control": "public, max-age=60", "vary": "Accept-Encoding"},
    )


@pytest.fixture(scope="module")
def client() -> TestClient:
    routes = [Route("/kpi/{kpi_id}", _seen), Route("/kpi/{kpi_id}.svg", _seen), Route("/", _seen)]
    app = Starlette(routes=routes)
    app.add_middleware(LocaleMiddleware, locales=LOCALES)
    return TestClient(app)


@pytest.mark.parametrize(
    ("url_locale", "chosen", "hint", "expected"),
    [
        ("fr", "es", "ar", ("fr", False)),  # the URL wins over everything
        (None, "es", "fr", ("es", False)),  # then the chosen locale
        (None, "xx", "fr;q=0.5, de", ("fr", True)),  # an unknown choice is no choice; the hint
        (None, None, "de, ar-EG;q=0.4", ("ar", True)),
        (None, None, "de", ("en", False)),  # nothing fits: the default
        (None, None, "", ("en", False)),
    ],
)
def test_selection_order(
    url_locale: str | None, chosen: str | None, hint: str, expected: tuple[str, bool]
) -> None:
    assert choose(url_locale, chosen, hint, LOCALES) == expected


def test_negotiation_reads_qualities_and_regions() -> None:
    assert negotiate("es-MX,es;q=0.9,en;q=0.8", LOCALES) == "es"
    assert negotiate("en;q=0.2, fr;q=0.9", LOCALES) == "fr"
    assert negotiate("fr;q=0", LOCALES) is None
    assert negotiate("*", LOCALES) is None
    assert negotiate("es;q=bad, fr", LOCALES) == "fr"


@given(st.text(max_size=200))
def test_negotiation_never_fails_on_any_header(header: str) -> None:
    assert negotiate(header, LOCALES) in (None, *LOCALES)


def test_prefixes() -> None:
    assert split_locale("/es/kpi/x", LOCALES) == ("es", "/kpi/x")
    assert split_locale("/en/kpi/x", LOCALES) == (None, "/en/kpi/x")  # the default has no prefix
    assert split_locale("/de/kpi/x", LOCALES) == (None, "/de/kpi/x")
    assert split_locale(f"/{PSEUDO_LOCALE}/", [*LOCALES, PSEUDO_LOCALE]) == (PSEUDO_LOCALE, "/")
    assert split_locale(f"/{PSEUDO_LOCALE}/", LOCALES) == (None, f"/{PSEUDO_LOCALE}/")  # off: no prefix
    assert is_page("/goals/a.b") is False and is_page("/goals/streets") and not is_page("/embed/x")


def test_the_pseudo_locale_answers_only_where_turned_on(client: TestClient) -> None:
    """``en-XA`` is for tests: off (the default), ``/en-XA/`` is no locale and ``?lang=en-XA`` is ignored."""
    assert client.get(f"/{PSEUDO_LOCALE}/kpi/x").status_code == 404
    ignored = client.get(f"/kpi/x.svg?lang={PSEUDO_LOCALE}&theme=dark")
    assert ignored.status_code == 200 and ignored.json()["locale"] == "en"
    routes = [Route("/kpi/{kpi_id}", _seen), Route("/kpi/{kpi_id}.svg", _seen)]
    app = Starlette(routes=routes)
    app.add_middleware(LocaleMiddleware, locales=LOCALES, pseudo=True)
    with TestClient(app) as on:
        assert on.get(f"/{PSEUDO_LOCALE}/kpi/x").json()["locale"] == PSEUDO_LOCALE
        assert on.get(f"/kpi/x.svg?lang={PSEUDO_LOCALE}").json()["locale"] == PSEUDO_LOCALE


def test_the_prefix_sets_the_locale_and_one_route_table_answers(client: TestClient) -> None:
    body = client.get("/es/kpi/x", headers={"accept-language": "fr"}).json()
    assert body == {"locale": "es", "path": "/es/kpi/x", "bare": "/kpi/x", "route": "kpi"}
    assert client.get("/ar/").json()["locale"] == "ar"
    slash = client.get("/fr", follow_redirects=False)
    assert slash.status_code == 302 and slash.headers["location"] == "/fr/"
    # A locale is only set for the request: the next one starts from the default.
    assert current_locale() == "en"


def test_images_take_lang_and_never_the_hint(client: TestClient) -> None:
    image = client.get("/kpi/x.svg?lang=fr", headers={"accept-language": "es"})
    assert image.json()["locale"] == "fr" and "Accept-Language" not in image.headers["vary"]
    plain = client.get("/kpi/x.svg", headers={"accept-language": "es"})
    assert plain.json()["locale"] == "en" and plain.headers["vary"] == "Accept-Encoding"
    bad = client.get("/kpi/x.svg?lang=de")
    assert bad.status_code == 400 and "en, es, fr, ar" in bad.json()["message"]


def test_first_visit_hint_and_chosen_locale(client: TestClient) -> None:
    hinted = client.get("/kpi/x", headers={"accept-language": "ar"}, follow_redirects=False)
    assert hinted.status_code == 302 and hinted.headers["location"] == "/ar/kpi/x"
    assert hinted.headers["cache-control"] == "no-store"
    assert hinted.headers["vary"] == "Accept-Language, Cookie"
    page = client.get("/kpi/x", headers={"accept-language": "de"})
    assert page.json()["locale"] == "en"
    # The default page depends on the hint and the cookie: both named, with what it already varied on.
    assert page.headers["vary"] == "Accept-Encoding, Accept-Language, Cookie"
    assert page.headers["cache-control"] == "public, max-age=60"
    chosen = client.get("/kpi/x", headers={"accept-language": "ar", "cookie": "locale=en"})
    assert chosen.json()["locale"] == "en"
    to_chosen = client.get("/kpi/x", headers={"cookie": "locale=fr"}, follow_redirects=False)
    assert to_chosen.headers["location"] == "/fr/kpi/x"
    broken = client.get("/kpi/x", headers={"cookie": 'locale="unterminated'})
    assert broken.json()["locale"] == "en"


def test_the_selector_endpoint(client: TestClient) -> None:
    chose = client.get("/locale/ar?next=/es/kpi/x", follow_redirects=False)
    assert chose.status_code == 303 and chose.headers["location"] == "/ar/kpi/x"
    assert (
        chose.headers["set-cookie"].startswith("locale=ar;") and "SameSite=Lax" in chose.headers["set-cookie"]
    )
    default = client.get("/locale/en?next=/fr/kpi/x", follow_redirects=False)
    assert default.headers["location"] == "/kpi/x"
    unknown = client.get("/locale/zz?next=/kpi/x", follow_redirects=False)
    assert unknown.headers["location"] == "/kpi/x"


def test_links_follow_the_page_locale() -> None:
    page = (
        '<a href="/kpi/x">a</a><a href="/kpi/x.csv">b</a><form action="/">'
        '<a href="/locale/es?next=/" hreflang="es">c</a><a href="//other.example/">d</a>'
        '<link rel="alternate" hreflang="en" href="/kpi/x"><a href="/api/kpis">e</a>'
    )
    assert localize_links(page, "fr", LOCALES) == page.replace(
        'href="/kpi/x">a', 'href="/fr/kpi/x">a'
    ).replace('action="/"', 'action="/fr/"')
    assert localize_links(page, "en", LOCALES) == page
    # Images, feeds, calendars, PDFs and embeds are in a language at its prefixed address (a
    # static host ignores ?lang=); a link naming its own lang= stays.
    media = (
        '<img src="/kpi/x.svg?theme=dark" alt=""><a href="/program.atom">f</a>'
        '<a href="/meetings/m.pdf#p2">p</a><a href="/embed/x">e</a><a href="/kpi/x.svg?lang=fr">s</a>'
        '<img src="/theme/logo-1.svg" alt="">'
    )
    assert localize_links(media, "ar", LOCALES) == (
        '<img src="/ar/kpi/x.svg?theme=dark" alt=""><a href="/ar/program.atom">f</a>'
        '<a href="/ar/meetings/m.pdf#p2">p</a><a href="/ar/embed/x">e</a>'
        '<a href="/kpi/x.svg?lang=fr">s</a><img src="/theme/logo-1.svg" alt="">'
    )


def test_formats_per_locale() -> None:
    day = date(2020, 3, 4)
    expected = {
        "en": ("1,234.5", "25%", "$1,500.00", "Mar 4, 2020", "ltr"),
        "es": ("1.234,5", "25\xa0%", "1.500,00\xa0US$", "4 mar 2020", "ltr"),
        "fr": ("1\u202f234,5", "25\xa0%", "1\u202f500,00\xa0$US", "4 mars 2020", "ltr"),
        # Arabic in its own digits (Arabic-Indic); with a region that writes Latin digits, Latin ones.
        # The percent sign is CLDR's for those digits: Arabic ٪ (and a letter mark), or % between LRMs.
        "ar": ("١٬٢٣٤٫٥", "٢٥٪\u061c", "\u200f١٬٥٠٠٫٠٠\xa0US$", "٠٤\u200f/٠٣\u200f/٢٠٢٠", "rtl"),
        "ar-MA": ("1.234,5", "25\u200e%\u200e", "\u200f1.500,00\xa0US$", "04\u200f/03\u200f/2020", "rtl"),
    }
    for locale, (number, percent, money, when, side) in expected.items():
        with use_locale(locale):
            got = (format_decimal(1234.5, 1), format_percent(0.25), format_currency(1500), format_date(day))
            assert got[:3] == (number, percent, money), locale
            assert got[3] == when, (locale, got[3])
            assert direction() == side
    with use_locale("ar"):
        assert format_month(day) == "مارس ٢٠٢٠" and format_integer(2020) == "٢٬٠٢٠"
    with use_locale("fr"):
        assert format_percent(0.1234, 1) == "12,3\xa0%"
