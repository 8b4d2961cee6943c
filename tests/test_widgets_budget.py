"""Render amplification: sizes from fixed steps, cache keys that ignore Host and option spelling,
uncached renders on a bounded pool (503 + Retry-After when full)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from browser.widget_catalogs import write_test_catalog
from demo_store import demo_store
from servers import serve

from btvstat_open.server import create_app
from btvstat_open.web.settings import Settings
from catalog import load_catalog

KPI = "pothole-days-to-close"


@dataclass
class Served:
    base: str
    app: Any

    def entries(self) -> int:
        """Stored responses plus cached series, specs and images."""
        return len(self.app.state.responses) + int(self.app.state.widgets.cached_values)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The widget server with one render worker and no waiting place."""
    root = tmp_path_factory.mktemp("widgets-budget")
    store = demo_store(root / "store")
    catalog = load_catalog(write_test_catalog(root / "catalog"), store)
    app = create_app(
        store, catalog, Settings(render_workers=1, render_queue=0, pool_wait_seconds=3, warm_up=False)
    )
    with serve(app) as base:
        yield Served(base, app)
    store.close()


def test_hosts_option_spellings_and_unknown_options_make_no_new_entries(served: Served) -> None:
    url = f"{served.base}/kpi/{KPI}.svg"
    first = requests.get(url, params={"width": "720", "theme": "dark"}, timeout=60)
    assert first.status_code == 200
    before = served.entries()
    for i in range(20):
        same = [
            requests.get(
                url + "?theme=dark&width=720", headers={"Host": f"attacker-{i}.example"}, timeout=60
            ),
            requests.get(url + f"?width={715 + i % 10}&theme=dark", timeout=60),  # snaps to 720
            requests.get(url + "?theme=light&theme=dark&width=720", timeout=60),  # the last one wins
        ]
        assert all(r.status_code == 200 and r.content == first.content for r in same)
        unknown = requests.get(url + f"?theme=dark&width=720&cachebust={i}", timeout=60)
        assert unknown.status_code == 400 and unknown.json()["code"] == "query.bad-option"
    assert served.entries() == before


def test_sizes_are_drawn_from_fixed_steps(served: Served) -> None:
    spec = requests.get(f"{served.base}/kpi/{KPI}.vl.json", params={"width": "1001"}, timeout=60).json()
    assert spec["width"] == 960
    asked = requests.get(f"{served.base}/kpi/{KPI}.svg", params={"width": "333", "height": "250"}, timeout=60)
    drawn = requests.get(f"{served.base}/kpi/{KPI}.svg", params={"width": "320", "height": "240"}, timeout=60)
    assert asked.status_code == 200 and asked.content == drawn.content


def test_a_full_render_pool_is_a_503_with_retry_after(served: Served) -> None:
    widths = [240, 320, 400, 480, 560, 640, 800, 960, 1120, 1280, 1600, 1920]

    def render(width: int) -> requests.Response:
        return requests.get(
            f"{served.base}/kpi/{KPI}.png", params={"width": width, "theme": "dark"}, timeout=60
        )

    with ThreadPoolExecutor(len(widths)) as pool:
        answers = list(pool.map(render, widths))
    busy = [r for r in answers if r.status_code == 503]
    assert busy, [r.status_code for r in answers]
    assert all(r.status_code in (200, 503) for r in answers)
    assert all(r.headers["Retry-After"] == "3" for r in busy)
    body = busy[0].json()
    assert (
        body["error"] is True
        and body["code"] == "server.busy"
        and "BTVSTAT_RENDER_WORKERS" in body["message"]
    )
    assert served.app.state.pools.renders.admitted == 0
    health = requests.get(f"{served.base}/healthz", timeout=5)
    assert health.status_code == 200
