"""``sync --catalog``: every dataset of a catalog synced concurrently into one store, a failure
reported without stopping the others (real local portal over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catalog_files import MISSING_KPI, remote_demo
from demo_store import demo_store
from servers import serve

from btvstat_open.cli import main
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.sync_all import sync_catalog

DATASETS = ["kc-311-potholes", "la-library-monthly", "la-operating-indicators", "la-water-power-usage"]


class FailFor:
    """An ASGI app answering 500 to every request about one dataset, the rest passed on."""

    def __init__(self, app: Any, dataset: str) -> None:
        self.app, self.dataset = app, dataset

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.dataset in scope["path"]:
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b'{"error": true, "message": "boom"}'})
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo datasets on a real local portal that fails every request about la-water-power-usage."""
    root = tmp_path_factory.mktemp("portal")
    with (
        demo_store(root) as store,
        serve(FailFor(create_portal_app(store, Settings()), "la-water-power-usage")) as url,
    ):
        yield url, root


def _copies_match(local: Store, portal_root: Path, dataset: str) -> bool:
    with Store(portal_root) as original:  # the portal's store, read in this process
        return bool(local.arrow(dataset).equals(original.arrow(dataset)))


def test_one_failure_does_not_stop_the_others(portal: tuple[str, Path], tmp_path: Path) -> None:
    url, portal_root = portal
    catalog = load_catalog(remote_demo(tmp_path / "catalog", url, extra={"gone.yaml": MISSING_KPI}))
    finished: list[str] = []
    with Store(tmp_path / "local") as store:
        outcomes = sync_catalog(
            catalog,
            store,
            parallel=3,
            options={"retries": 1, "backoff": 0.01},
            on_done=lambda o: finished.append(o.dataset),
        )
        by_id = {o.dataset: o for o in outcomes}
        assert sorted(by_id) == sorted([*DATASETS, "gone-1234"]) == sorted(finished)
        failed = sorted(d for d, o in by_id.items() if not o.ok)
        assert failed == ["gone-1234", "la-water-power-usage"]
        assert "gone-1234" in by_id["gone-1234"].line() and "FAILED" in by_id["gone-1234"].line()
        assert "boom (gave up after 2 attempts)" in by_id["la-water-power-usage"].line()
        assert not store.exists("gone-1234") and not store.exists("la-water-power-usage")
        for dataset in ["kc-311-potholes", "la-library-monthly", "la-operating-indicators"]:
            result = by_id[dataset].result
            assert result is not None and result.mode == "full"
            assert _copies_match(store, portal_root, dataset), dataset
        # The second run finds nothing changed for the three that synced.
        again = sync_catalog(catalog, store, options={"retries": 0})
    assert [o.result.mode for o in again if o.result] == ["unchanged"] * 3


def test_the_command_names_each_failure_and_exits_1(
    portal: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, portal_root = portal
    root = remote_demo(tmp_path / "catalog", url, extra={"gone.yaml": MISSING_KPI})
    # Only the missing dataset fails here: the 500s are retried with the default backoff.
    for path in root.rglob("*.yaml"):
        path.write_text(
            path.read_text().replace("dataset: la-water-power-usage", "dataset: la-library-monthly")
        )
    args = ["sync", "--catalog", str(root), "--store", str(tmp_path / "local"), "--parallel", "2"]
    assert main(args) == 1
    captured = capsys.readouterr()
    out, err = captured.out.splitlines(), captured.err.splitlines()
    assert sorted(line.split(":")[0] for line in out) == [
        "city/kc-311-potholes",
        "city/la-library-monthly",
        "city/la-operating-indicators",
    ]
    assert all(": full sync (first sync)" in line for line in out)
    assert len(err) == 2
    assert err[0].startswith("city/gone-1234: FAILED: ") and "gone-1234" in err[0][24:]
    assert err[1].startswith("error: 1 of 4 datasets failed to sync (city/gone-1234)")
    with Store(tmp_path / "local") as store:
        assert _copies_match(store, portal_root, "la-library-monthly")


def test_parallel_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = remote_demo(tmp_path / "catalog", "http://127.0.0.1:9")
    assert main(["sync", "--catalog", str(root), "--store", str(tmp_path / "s"), "--parallel", "0"]) == 2
    assert "(--parallel) must be at least 1 (got 0)" in capsys.readouterr().err
