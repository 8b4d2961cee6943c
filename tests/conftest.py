"""Shared fixtures: paths to the real data copied into the repository."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REAL = TESTS / "data" / "real"
sys.path.insert(0, str(TESTS))

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
