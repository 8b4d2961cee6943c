"""Test catalogs for the widget server: the demo catalog plus hostile and private KPIs.

Used by tests/test_widgets_*.py and the browser tests. The hostile KPI's title, description,
unit, methodology and tags hold markup that must show as text and never run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from catalog.demo import DEMO_DIR

HOSTILE_TITLE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'
HOSTILE_DESCRIPTION = '</script><script>window.__pwned=3</script> & <b>bold</b> \u2028 "quotes"'
HOSTILE_ID = "hostile-markup"
PRIVATE_ID = "private-measure"
HOST_ORIGIN_PLACEHOLDER = "http://127.0.0.1:1"


def write_test_catalog(folder: Path, *, allowed_origins: list[str] | None = None) -> Path:
    """Copy the demo catalog to ``folder`` and add a hostile KPI, a private KPI and embed origins."""
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    settings = yaml.safe_load((folder / "catalog.yaml").read_text())
    settings["embed"] = {"allowed_origins": allowed_origins or ["https://www.example.gov"]}
    (folder / "catalog.yaml").write_text(yaml.safe_dump(settings))
    base = yaml.safe_load((DEMO_DIR / "public-works" / "pothole-days-to-close.yaml").read_text())
    hostile = dict(
        base,
        id=HOSTILE_ID,
        title=HOSTILE_TITLE,
        description=HOSTILE_DESCRIPTION,
        methodology="<iframe src=javascript:alert(1)></iframe>",
        analysis="<style>body{display:none}</style>",
        unit="</script>",
        department="Tests <b>&</b> Co",
        tags=["<svg onload=alert(1)>"],
    )
    (folder / "tests").mkdir()
    (folder / "tests" / "hostile.yaml").write_text(yaml.safe_dump(hostile))
    private = dict(base, id=PRIVATE_ID, title="Not public yet", public=False)
    (folder / "tests" / "private.yaml").write_text(yaml.safe_dump(private))
    return folder
