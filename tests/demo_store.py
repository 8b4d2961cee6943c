"""The demo data in a store, loaded once per test process and copied where a test wants it.

Loading the bundled demo datasets takes seconds; copying a store that holds them takes a fraction
of one. ``demo_store(folder)`` gives a fresh, writable store at ``folder`` with the demo data, as
``load_demo_data(Store(folder))`` would (the same files, the same versions).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from btvstat_open.store import Store
from catalog.demo import load_demo_data

_template: Path | None = None


def _loaded_once() -> Path:
    global _template
    if _template is None:
        root = Path(tempfile.mkdtemp(prefix="demo-store-"))
        atexit.register(shutil.rmtree, root, True)
        with Store(root / "store") as store:
            load_demo_data(store)
        _template = root / "store"
    return _template


def demo_store(folder: Path) -> Store:
    """A store at ``folder`` (new, or an empty folder) holding the demo datasets."""
    shutil.copytree(_loaded_once(), folder, dirs_exist_ok=True)
    return Store(folder)
