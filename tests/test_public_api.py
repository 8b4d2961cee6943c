"""The public API is small, curated and importable."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from types import ModuleType

import pytest

import btvstat_open as bo
from btvstat_open import cli

PACKAGES = ("btvstat_open", "connectors", "catalog", "widgets")
# What a package's namespace may hold besides its API: the tools its own code imports.
_TOOLING = {"annotations", "TYPE_CHECKING", "Any", "import_module"}


def _public_names(module: ModuleType) -> list[str]:
    """The names a package offers (as httpx's test reads them): what it defines or imports without
    a leading underscore, its lazy names and ``__version__``; not submodules, not its tooling."""
    names = {
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name == "__version__")
        and not isinstance(value, ModuleType)
        and name not in _TOOLING
    }
    return sorted(names | set(getattr(module, "_LAZY", {})))


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_exactly_the_public_names(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == _public_names(module)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_public_api_has_the_documented_entry_points() -> None:
    """The entry points are the very objects of their home modules, each with a runnable example."""
    import btvstat_open.errors
    import btvstat_open.load
    import btvstat_open.store
    import btvstat_open.sync
    import connectors

    homes = {
        "connect": connectors,
        "Store": btvstat_open.store,
        "load_file": btvstat_open.load,
        "sync_dataset": btvstat_open.sync,
        "BtvstatError": btvstat_open.errors,
    }
    for name, home in homes.items():
        assert name in bo.__all__ and getattr(bo, name) is getattr(home, name), name
        assert ">>> " in (getattr(bo, name).__doc__ or ""), f"{name} has no example"


def test_errors_share_one_base() -> None:
    for name in bo.__all__:
        obj = getattr(bo, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, bo.BtvstatError), name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        bo.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "btvstat_open", "--help"], capture_output=True, text=True, check=True
    )
    listed = re.findall(r"^    ([a-z][a-z-]*)(?: |$)", out.stdout, re.M)  # the COMMAND list, one per line
    assert set(listed) == {name.split()[0] for name in cli.HANDLERS}


def test_store_and_loader_names_stay_where_callers_import_them() -> None:
    import btvstat_open.load as loader
    import btvstat_open.store as store

    for name in ("Store", "DatasetInfo", "WriteResult", "quote_ident", "check_dataset_id"):
        assert callable(getattr(store, name)) and name in store.__all__, name
    for name in ("read_file", "load_file", "store_loaded", "run_load", "LoadedFile"):
        assert callable(getattr(loader, name)) and name in loader.__all__, name
    assert store.quote_ident('a"b') == '"a""b"'
    assert store.check_dataset_id("kc-311") == "kc-311"
