"""Shared fixtures: paths to the real data copied into the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REAL = TESTS / "data" / "real"
sys.path.insert(0, str(TESTS))
# Servers started by tests (in process or `serve` processes, which inherit the environment) skip the
# start-up warm-up: a few seconds of chart renders and a PDF process each, for servers that live
# seconds. tests/test_widgets_routes.py turns it on to prove it works. Apps made with explicit
# `Settings(...)` (not `Settings.from_env`) say `warm_up=False` for the same reason: their PDF process
# would start, and the app's shutdown wait for it.
os.environ["BTVSTAT_WARM_UP"] = "false"

pytest_plugins = [
    "portal_fixtures",
    "widget_site",
    "partitioned_fixtures",
    "people_site",  # a program with people: sign-in, entries, approvals
    "oidc_provider",  # the identity provider (node oidc-provider)
    "koop_site",  # Koop, a real ArcGIS REST server (tests/koop_site.py)
    "ckan_site",  # a real CKAN 2.12 with the DataStore (tests/ckan_site.py)
]  # the local portal served over HTTP (tests/portal_fixtures.py)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real recorded portal responses and real city data (see its SOURCES.md)."""
    return REAL


# The files that take longest (a quick benchmark run, many browser pages, thousands of requests, real
# CKAN), slowest first. `make test` runs two processes, a file each at a time (`--dist loadfile
# --no-loadscope-reorder`): these start first, so neither process is left running one of them alone
# at the end while the other has nothing to do.
SLOW_FILES = (
    "test_bench_quick.py",
    "test_languages_browser.py",
    "test_partitioned_s3.py",
    "test_widgets_browser.py",
    "test_site_build.py",
    "test_program_browser.py",
    "test_static_site_browser.py",
    "test_doctests.py",
    "test_hostile_portals.py",
    "test_serve_owns_store.py",
    "test_notify_email.py",
    "test_people_cycle.py",
    "test_ckan_real.py",
    "test_packet_join.py",
    "test_serve_load.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first, then the others, the files with the most tests first."""
    counts: dict[Path, int] = {}
    for item in items:
        counts[item.path] = counts.get(item.path, 0) + 1

    def order(item: pytest.Item) -> tuple[int, int, str]:
        slow = item.path.name in SLOW_FILES
        rank = SLOW_FILES.index(item.path.name) if slow else len(SLOW_FILES)
        return (rank, -counts[item.path], str(item.path))

    items.sort(key=order)
