"""Arabic and right-to-left details of the public pages (issue 26), on the demo served in process.

- Days shown as ISO dates (notes, target history, actions, meetings, the data note) are written in
  the locale's digits; ``datetime=`` attributes and downloads keep ASCII.
- A left-to-right run inside an Arabic sentence (a dataset id, a dataset's name) is isolated in a
  ``<bdi>``, so it moves none of the words around it.
- Percentages take CLDR's percent sign for the numbering system (Arabic ``٪``) everywhere: text,
  KPI values and the charts' number format.
- Charts drawn in the browser label their axes in the page's digits (the spec asks Vega to).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from babel import Locale
from demo_store import demo_store
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from btvstat_open.i18n import format_percent, use_locale
from btvstat_open.server import create_app
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from widgets.render import embed_options
from widgets.summary import format_value

KPI = "pothole-days-to-close"
LATIN = re.compile("[0-9]")
ARABIC = re.compile("[٠-٩]")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = demo_store(tmp_path_factory.mktemp("rtl") / "store")
    app = create_app(store, load_catalog(DEMO_DIR, store), Settings.from_env(warm_up=False))
    with TestClient(app) as test_client:
        yield test_client
    store.close()


def _page(client: TestClient, path: str) -> lxml_html.HtmlElement:
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    return lxml_html.fromstring(response.content)


def _texts(page: lxml_html.HtmlElement, xpath: str) -> list[str]:
    return [str(node.text_content()).strip() for node in page.xpath(xpath)]


def _in_arabic_digits(texts: list[str]) -> bool:
    return bool(texts) and all(ARABIC.search(t) and not LATIN.search(t) for t in texts)


def test_iso_dates_on_arabic_pages_are_in_arabic_digits(client: TestClient) -> None:
    page = _page(client, f"/ar/kpi/{KPI}")
    notes = page.xpath("//ol[@class='notes']//time")
    assert notes and _in_arabic_digits([n.text_content() for n in notes])
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", n.get("datetime"), re.ASCII) for n in notes)
    history = _texts(page, "//table[contains(@class, 'history-table')]/tbody/tr/th")
    assert _in_arabic_digits(history), history
    note = "".join(page.xpath("//p[@class='data-note']//text()[not(ancestor::bdi)]"))  # ids aside
    assert ARABIC.search(note) and not LATIN.search(note), note
    department = _page(client, "/ar/departments/public-works")
    days = _texts(department, "//table[contains(@class, 'actions-table')]//td[@class='nowrap']")
    assert _in_arabic_digits([d for d in days if LATIN.search(d) or ARABIC.search(d)]), days
    meetings = department.xpath("//a[starts-with(@href, '/ar/meetings/')]/following-sibling::time")
    assert meetings and _in_arabic_digits([m.text_content() for m in meetings])
    # The same page in English, and the downloads in Arabic, keep ASCII digits.
    english = _page(client, f"/kpi/{KPI}")
    assert not ARABIC.search(" ".join(_texts(english, "//ol[@class='notes']//time")))
    csv = client.get(f"/kpi/{KPI}.csv?lang=ar").text
    assert not ARABIC.search(csv) and re.search(r"\d{4}-\d{2}-\d{2}", csv)


def test_left_to_right_runs_in_arabic_sentences_are_isolated(client: TestClient) -> None:
    page = _page(client, f"/ar/kpi/{KPI}")
    note = page.xpath("//p[@class='data-note']")[0]
    isolated = [str(b.text_content()) for b in note.xpath(".//bdi")]
    assert "kc-311-potholes" in isolated, lxml_html.tostring(note, encoding="unicode")[:400]
    # No dataset id stands bare in the note's own text (outside an isolating element).
    assert "kc-311-potholes" not in "".join(note.xpath("text()"))
    provenance = page.xpath("//p[@class='provenance']")[0]
    assert provenance.xpath(".//bdi[contains(., 'Kansas City 311')]")
    source = page.xpath("//a[starts-with(@href, '/api/views/')]")[0]
    assert source.xpath("./bdi")
    story = _page(client, "/ar/stories/2020-02-potholes")
    assert "kc-311-potholes" in [str(b.text_content()) for b in story.xpath("//p[@class='data-note']//bdi")]
    # Isolation is harmless in a left-to-right page: the same markup in English.
    english = client.get(f"/kpi/{KPI}").text
    assert "<bdi>kc-311-potholes</bdi>" in english


def test_percentages_take_cldrs_sign_for_the_digits_everywhere(client: TestClient) -> None:
    arab = Locale.parse("ar").number_symbols["arab"]["percentSign"]
    assert arab.startswith("\u066a")  # CLDR: the Arabic percent sign, not "%"
    with use_locale("ar"):
        assert format_percent(0.25) == "٢٥" + arab
        assert format_percent(0.125, 1) == "١٢٫٥" + arab
    with use_locale("ar-MA"):  # Latin digits: CLDR's "%" between left-to-right marks
        assert format_percent(0.25) == "25" + Locale.parse("ar").number_symbols["latn"]["percentSign"]
    with use_locale("fr"):
        assert format_percent(0.25) == "25\xa0%"
    kpi = load_catalog(DEMO_DIR).kpis["pothole-closed-within-7-days"]
    with use_locale("ar"):  # a KPI's value in percent
        assert format_value(97.0, kpi).endswith(arab), format_value(97.0, kpi)
    # the charts' number format (in the browser and on the server)
    assert embed_options("ar")["formatLocale"]["percent"] == arab
    assert embed_options("fr")["formatLocale"]["percent"] == "%"
    page = _page(client, "/ar/kpi/pothole-closed-within-7-days")
    latest = " ".join(_texts(page, "//*[contains(@class, 'big-number')]"))
    assert arab in latest and "%" not in latest, latest


def test_browser_charts_label_their_axes_in_the_pages_digits(client: TestClient) -> None:
    page = _page(client, f"/ar/kpi/{KPI}")
    spec = page.xpath("//script[@id='chart-light']")[0].text
    assert "labelExpr" in spec and "'٠'" in spec
    english = _page(client, f"/kpi/{KPI}").xpath("//script[@id='chart-light']")[0].text
    assert "labelExpr" not in english
    svg = client.get(f"/kpi/{KPI}.svg?lang=ar").text
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    dated = [t for t in labels if re.search("[0-9٠-٩]{4}", t) and not re.search("[A-Za-z]", t)]
    assert _in_arabic_digits(dated), labels


def test_counts_and_ratios_in_arabic_sentences_and_tables_are_in_arabic_digits(client: TestClient) -> None:
    page = _page(client, f"/ar/kpi/{KPI}")
    records = _texts(page, "//table[contains(@class, 'breakdown-table')]/tbody/tr/td[3]")
    assert _in_arabic_digits(records), records
    description = str(page.xpath("//figure[contains(@class, 'chart')]//figcaption")[0].text_content())
    counted = re.search(r"([0-9٠-٩]+) فترات", description)
    assert counted and ARABIC.fullmatch(counted.group(1)[0]), description
    # the least count shown and the disparity ratio ("...: ١٫٠٠.")
    sentence = _texts(page, "//section[contains(@class, 'breakdown')]/p[1]")[0]
    assert _in_arabic_digits([sentence]) and re.search("[٠-٩]٫[٠-٩]{2}", sentence), sentence


def test_time_axes_write_days_in_each_locales_order(client: TestClient) -> None:
    """The day, month and year on the time axis of a page's chart come in the locale's order and
    punctuation (CLDR's ``yMMMd``): "Dec 30, 2019", "30 déc. 2019", "٣٠ ديسمبر ٢٠١٩"."""
    wanted = {"": "%b %-d, %Y", "/fr": "%-d %b %Y", "/ar": "%-d %b %Y", "/es": "%-d %b %Y"}
    for prefix, pattern in wanted.items():
        page = _page(client, f"{prefix}/kpi/{KPI}")
        spec = json.loads(page.xpath("//script[@id='chart-light']")[0].text)
        formats = {
            layer["encoding"]["x"]["axis"].get("format")
            for layer in spec["layer"]
            if "x" in layer.get("encoding", {})
        }
        assert formats == {pattern}, (prefix, formats)


def test_a_datasets_page_is_kept_per_language(client: TestClient) -> None:
    """The portal's dataset page (``/d/{id}``) is rendered once per version and language: an Arabic
    visit never hands its page to an English or French reader, and the ETags differ."""
    arabic = client.get("/ar/d/kc-311-potholes")
    english = client.get("/d/kc-311-potholes")
    french = client.get("/fr/d/kc-311-potholes")
    langs = [lxml_html.fromstring(r.content).get("lang") for r in (arabic, english, french)]
    assert langs == ["ar", "en", "fr"]
    assert len({r.headers["etag"] for r in (arabic, english, french)}) == 3
    times = lxml_html.fromstring(arabic.content).xpath("//time")
    assert _in_arabic_digits([t.text_content() for t in times])
    assert all(re.fullmatch(r"[0-9T:-]+Z", t.get("datetime")) for t in times)
    again = client.get("/d/kc-311-potholes", headers={"If-None-Match": arabic.headers["etag"]})
    assert again.status_code == 200 and 'lang="en"' in again.text


def test_counts_in_arabic_meetings_departments_and_packets_are_in_arabic_digits(client: TestClient) -> None:
    meetings = _page(client, "/ar/meetings")
    assert _in_arabic_digits(_texts(meetings, "//span[contains(@class, 'badge')]"))
    departments = _page(client, "/ar/departments")
    cells = _texts(departments, "//table//td")
    assert cells and _in_arabic_digits([c for c in cells if c]), cells
    packet = _page(client, "/ar/meetings/2020-03-04-public-works")
    sections = [str(t) for t in packet.xpath("//nav[@class='contents']/ol/li/text()")]  # "(٤)"
    counts = _texts(packet, "//ul[@class='highlights']/li") + sections
    assert _in_arabic_digits([c for c in counts if re.search("[0-9٠-٩]", c)]), counts
