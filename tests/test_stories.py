"""Stories (stories/*.md) served over HTTP: every block rendered, numbers as of the story's date (checked
against pandas on the dataset's own file), kept when the data changes later, hostile Markdown rendered
inert, drafts never public, and broken references reported at their file and line."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import lxml.html
import pandas as pd
import pyarrow as pa
import pytest
import requests
from demo_store import demo_store
from servers import serve

from btvstat_open.cli import main
from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog import load_catalog, measure
from catalog.demo import DEMO_DIR
from catalog.models import Catalog
from catalog.translation_report import completeness

STORY = "2020-02-potholes"
STORY_DAY = date(2020, 2, 19)
POTHOLES = DEMO_DIR / "data" / "kc-311-potholes.parquet"

HOSTILE = """---
title: Hostile <b>story</b>
date: 2020-02-20
author: Someone
status: published
---
Hello <script>alert("script")</script> there.

<img src="https://evil.example/pixel.png" onerror="alert('onerror')">

<p onmouseover="alert('hover')">Hover</p>

[a markdown link](javascript:alert('md')) and <a href="javascript:alert('raw')">a raw one</a>
and <a href="JaVaScRiPt:alert('case')">mixed case</a>.

<iframe src="https://evil.example/frame"></iframe>
<style>body { background: url(https://evil.example/bg.png) }</style>
<svg><script>alert('svg')</script></svg>

![remote](https://evil.example/image.png)

```kpi-card
id: pothole-days-to-close
```
"""

DRAFT = """---
title: Not yet
date: 2020-02-10
author: Someone
status: draft
---
A draft about potholes.

```kpi-card
id: pothole-days-to-close
```
"""

LATER = DRAFT.replace("status: draft", "status: published").replace("2020-02-10", "2020-06-01")

# The demo story's body in Spanish (stories/<id>.es.md): Markdown only, with its own blocks.
SPANISH_BODY = """La semana del 27 de enero, la línea 311 de Kansas City recibió **1168** solicitudes
de baches.

```kpi-card
id: pothole-requests-weekly
```

El departamento añadió una segunda cuadrilla para la temporada.
"""


@dataclass
class Site:
    base: str
    store: Store
    catalog: Catalog


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo catalog plus a hostile story, a draft and a story dated after the as-of day."""
    root = tmp_path_factory.mktemp("stories")
    folder = root / "catalog"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    (folder / "stories" / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    (folder / "stories" / "draft.md").write_text(DRAFT, encoding="utf-8")
    (folder / "stories" / "later.md").write_text(LATER, encoding="utf-8")
    (folder / "stories" / f"{STORY}.es.md").write_text(SPANISH_BODY, encoding="utf-8")
    store = demo_store(root / "store")
    catalog = load_catalog(folder, store)
    with serve(create_app(store, catalog)) as base:
        yield Site(base, store, catalog)
    store.close()


def get(site: Site, path: str) -> requests.Response:
    return requests.get(site.base + path, timeout=120)


def page(site: Site, path: str) -> lxml.html.HtmlElement:
    response = get(site, path)
    assert response.status_code == 200, response.text[:300]
    return lxml.html.fromstring(response.text)


def block_value(doc: lxml.html.HtmlElement, kind: str, kpi_id: str) -> str:
    [value] = doc.xpath(f'//*[@data-story-block="{kind}"][@data-kpi="{kpi_id}"]//*[@data-value]')
    return str(value.text_content()).strip()


def test_every_reference_of_the_demo_story_renders(site: Site) -> None:
    doc = page(site, f"/stories/{STORY}")
    story = site.catalog.stories[STORY]
    assert len(story.blocks) == 5
    for block in story.blocks:
        key = "data-goal" if block.kind == "goal-summary" else "data-kpi"
        found = doc.xpath(f'//*[@data-story-block="{block.kind}"][@{key}="{block.ref}"]')
        assert len(found) == 1, (block, len(found))
    assert doc.xpath("//h1")[0].text_content() == story.meta.title
    # the chart is the server's own SVG, labelled; the breakdown a table with a caption
    assert doc.xpath('//*[@data-story-block="kpi-chart"]//svg[@role="img"][@aria-label]')
    assert doc.xpath('//*[@data-story-block="kpi-breakdown"]//table/caption')
    # the goal summary lists every public KPI under the goal
    listed = doc.xpath('//*[@data-story-block="goal-summary"]//li/@data-kpi')
    assert sorted(listed) == [
        "pothole-closed-within-7-days",
        "pothole-days-to-close",
        "pothole-days-to-close-p90",
    ]


def weeks_as_of(day: date) -> pd.DataFrame:
    """Pothole requests by ISO week, from the dataset's own file: weeks that ended by ``day``."""
    rows = pd.read_parquet(POTHOLES, columns=["type", "creation_date", "days_to_close", "council_district"])
    rows = rows[
        (rows["type"] == "Pothole") & (rows["creation_date"] < pd.Timestamp(day) + pd.Timedelta(days=1))
    ]
    day_of_week = pd.to_timedelta(rows["creation_date"].dt.weekday, unit="D")
    rows = rows.assign(week=rows["creation_date"].dt.normalize() - day_of_week)
    return rows[rows["week"] + pd.Timedelta(days=6) <= pd.Timestamp(day)]


def test_a_story_body_in_each_language_falls_back_marked_with_its_lang(site: Site) -> None:
    """``/es/`` shows the Spanish body (the story's file for es) with its blocks; ``/fr/``, without a French
    body, the English one marked ``lang="en"``; ``catalog validate`` counts bodies per language."""
    spanish = page(site, f"/es/stories/{STORY}")
    texts = spanish.xpath('//div[@class="story-text"]')
    assert "cuadrilla" in " ".join(t.text_content() for t in texts) and not spanish.xpath("//div[@lang]")
    assert "freeze-thaw" not in spanish.text_content().split("Every")[0]
    assert spanish.xpath('//*[@data-story-block="kpi-card"][@data-kpi="pothole-requests-weekly"]')
    french = page(site, f"/fr/stories/{STORY}")
    marked = french.xpath('//div[contains(@class, "story-text")]')
    assert marked and all(d.get("lang") == "en" and d.get("dir") == "ltr" for d in marked)
    assert french.xpath("/html/@lang") == ["fr"]
    english = page(site, f"/stories/{STORY}")
    assert not english.xpath('//div[contains(@class, "story-text")][@lang]')
    reports = {r.locale: r for r in completeness(site.catalog.translations)}
    key = f"story:{STORY}:body"
    assert key not in {e.key for e in reports["es"].missing} and key in {e.key for e in reports["fr"].missing}


def test_validate_checks_each_body_in_another_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    german = write_story(folder, f"{STORY}.de.md", SPANISH_BODY)  # not a language of the demo
    orphan = write_story(folder, "no-such-story.es.md", SPANISH_BODY)
    headed = write_story(folder, f"{STORY}.fr.md", DRAFT)  # front matter belongs in the story's own file
    private = write_story(folder, f"{STORY}.ar.md", "Texte.\n\n```kpi-card\nid: pothole-days-to-clos\n```\n")
    assert main(["catalog", "validate", str(folder), "--store", str(tmp_path / "none")]) == 2
    out = capsys.readouterr().out
    assert f"{german}: 'de' is not one of the catalog's other languages (es, fr, ar)" in out
    assert f"{orphan}: no story 'no-such-story' for this es body" in out
    assert f"{headed}:1: a story's body in another language has no front matter" in out
    assert f"{private}:4: unknown KPI 'pothole-days-to-clos'" in out  # the line of its id


def test_numbers_are_the_series_on_the_story_day(site: Site) -> None:
    rows = weeks_as_of(STORY_DAY)
    latest = rows["week"].max()
    week = rows[rows["week"] == latest]
    assert latest == pd.Timestamp("2020-02-10")  # the last whole week before February 19
    median = week["days_to_close"].median()
    share = 100 * (week["days_to_close"] <= 7).sum() / len(week)
    doc = page(site, f"/stories/{STORY}")
    assert block_value(doc, "kpi-card", "pothole-requests-weekly") == f"{len(week):,} requests"
    assert block_value(doc, "kpi-card", "pothole-closed-within-7-days") == f"{share:.1f}%"
    # the goal summary's median is the same day's
    goal_kpis = doc.xpath('//*[@data-story-block="goal-summary"]//li[@data-kpi="pothole-days-to-close"]')
    assert f": {median:.1f} days" in goal_kpis[0].text_content()
    # the breakdown: each council district's median that week (10 or more requests)
    table = doc.xpath('//*[@data-story-block="kpi-breakdown"]//tbody/tr')
    shown = {tr[0].text_content(): tr[1].text_content() for tr in table}
    by_district = week.groupby("council_district")["days_to_close"].agg(["median", "size"])
    expected = {
        f"{int(d)}": f"{r['median']:.1f} days" if r["size"] >= 10 else "Suppressed"
        for d, r in by_district.iterrows()
    }
    assert shown == expected
    # the KPI page, as of the catalog's day (2020-03-02), shows a later week: the story does not
    later = weeks_as_of(date(2020, 3, 2))
    assert later["week"].max() > latest


def test_a_published_story_keeps_its_numbers_when_the_data_changes(site: Site) -> None:
    before = page(site, f"/stories/{STORY}")
    count_before = block_value(before, "kpi-card", "pothole-requests-weekly")
    info = site.store.info("kc-311-potholes")
    # 300 more requests in the story's week, recorded now: the KPI changes, the story does not
    added = pa.table(
        {
            "case_id": pa.array([9.9e9 + i for i in range(300)], pa.float64()),
            "type": ["Pothole"] * 300,
            "creation_date": pa.array([datetime(2020, 2, 12, 9)] * 300, pa.timestamp("us")),
            "days_to_close": pa.array([1.0] * 300, pa.float64()),
        }
    )
    assert {"case_id", "type", "creation_date", "days_to_close"} <= {c.field_name for c in info.columns}
    site.store.upsert("kc-311-potholes", added)
    after = page(site, f"/stories/{STORY}")
    assert block_value(after, "kpi-card", "pothole-requests-weekly") == count_before
    # as known today, the week has the new requests (the story's day knew none of them)
    kpi = site.catalog.get("pothole-requests-weekly")
    series = measure(kpi, site.store, site.catalog.settings, today=date.today()).to_pylist()
    week = next(r for r in series if r["period_start"] == date(2020, 2, 10))
    assert week["value"] == float(count_before.split()[0].replace(",", "")) + 300


def test_hostile_markdown_renders_inert(site: Site) -> None:
    response = get(site, "/stories/hostile")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "img-src 'self' data:" in csp
    doc = lxml.html.fromstring(response.text)
    found = doc.xpath("//script | //iframe | //img | //style | //object | //embed")
    assert [e for e in found if e.getparent().get("class") != "site-logo"] == []  # but the theme's logo
    [main] = doc.xpath("//main")  # the site's own head links (its icon is a data: URL) aside
    for element in main.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not value.strip().lower().startswith(("javascript:", "data:")), value
                assert "evil.example" not in value
    text = response.text
    assert "alert(" not in text.replace("(javascript:alert('md'))", "")  # the refused link stays words
    assert "Hostile &lt;b&gt;story&lt;/b&gt;" in text  # front matter is text, escaped
    assert doc.xpath('//a[text()="a raw one"]') and not doc.xpath('//a[text()="a raw one"]/@href')
    assert block_value(doc, "kpi-card", "pothole-days-to-close")  # its block still renders


def test_drafts_and_later_stories_are_never_public(site: Site) -> None:
    for story_id in ("draft", "later", "no-such-story"):
        response = get(site, f"/stories/{story_id}")
        assert response.status_code == 404
        assert "Story not found" in response.text
    listing = get(site, "/stories").text
    assert f"/stories/{STORY}" in listing and "/stories/hostile" in listing
    assert "/stories/draft" not in listing and "/stories/later" not in listing
    # newest first
    assert listing.index("/stories/hostile") < listing.index(f"/stories/{STORY}")
    program = get(site, "/program.json").json()
    assert [s["id"] for s in program["stories"]] == ["hostile", STORY]
    assert program["stories"][1]["goals"] == ["fix-potholes-fast"]


def test_stories_are_in_the_feeds_they_are_about(site: Site) -> None:
    atom = "{http://www.w3.org/2005/Atom}"

    def links(path: str) -> list[str]:
        feed = ET.fromstring(get(site, path).content)
        return [str(e.find(f"{atom}link").get("href")) for e in feed.iter(f"{atom}entry")]  # type: ignore[union-attr]

    program = links("/program.atom")
    assert f"/stories/{STORY}" in program and "/stories/hostile" in program
    assert "/stories/draft" not in program and "/stories/later" not in program
    assert f"/stories/{STORY}" in links("/kpi/pothole-requests-weekly.atom")
    assert f"/stories/{STORY}" in links("/goals/fix-potholes-fast.atom")
    assert f"/stories/{STORY}" not in links("/kpi/airport-passengers.atom")


def write_story(folder: Path, name: str, text: str) -> Path:
    path = folder / "stories" / name
    path.write_text(text, encoding="utf-8")
    return path


CARD = "kpi-card\nid: pothole-days-to-close"


def draft_with(old: str, new: str) -> str:
    """The draft story with one piece of it changed."""
    assert old in DRAFT
    return DRAFT.replace(old, new)


BROKEN = {  # file name: (text, line of the problem, words of its message)
    "unknown-kpi.md": (draft_with(CARD, CARD[:-1]), 10, "unknown KPI 'pothole-days-to-clos'"),
    "unknown-goal.md": (
        draft_with(CARD, "goal-summary\nid: fix-potholes"),
        10,
        "unknown goal 'fix-potholes'",
    ),
    "no-breakdown.md": (
        draft_with(CARD, "kpi-breakdown\nid: pothole-closed-within-7-days"),
        10,
        "has no breakdown",
    ),
    "bad-kind.md": (draft_with("kpi-card", "kpi-cards"), 9, "unknown block 'kpi-cards'"),
    "bad-date.md": (draft_with("date: 2020-02-10", "date: 2020-02-30"), 3, "not a date"),
    "no-author.md": (draft_with("author: Someone\n", ""), 2, "missing required key 'author'"),
    "bad-status.md": (draft_with("status: draft", "status: live"), 5, "status"),
    "extra-key.md": (draft_with(CARD, CARD + "\nsize: big"), 11, "nothing else"),
    "no-front-matter.md": ("# Just text\n", 1, "front matter"),
}


def test_validate_reports_each_broken_reference_at_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    paths = {name: write_story(folder, name, text) for name, (text, _, _) in BROKEN.items()}
    write_story(folder, "Bad Name.md", DRAFT)
    both = write_story(
        folder, "both.md", draft_with("status: draft", "status: live").replace(CARD, CARD[:-1])
    )
    assert main(["catalog", "validate", str(folder), "--store", str(tmp_path / "none")]) == 2
    out = capsys.readouterr().out.splitlines()
    for name, (_, line, words) in BROKEN.items():
        prefix = f"{paths[name]}:{line}: "
        assert any(o.startswith(prefix) and words in o for o in out), (name, prefix, words, out)
    assert any(o.startswith(f"{folder / 'stories' / 'Bad Name.md'}: ") for o in out)
    # every problem of a file at once: its front matter's and its blocks'
    assert [o.split(": ")[0] for o in out if o.startswith(str(both))] == [f"{both}:5", f"{both}:10"]
    assert [
        o for o in out if o.startswith(str(folder / "stories" / f"{STORY}.md"))
    ] == []  # the demo's own story is valid
