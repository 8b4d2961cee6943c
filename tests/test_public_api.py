"""The public API is small, curated and importable."""

from __future__ import annotations

import subprocess
import sys

import btvstat_open as bo


def test_every_public_name_resolves() -> None:
    for name in bo.__all__:
        assert getattr(bo, name) is not None, name


def test_public_api_is_curated() -> None:
    assert sorted(bo.__all__) == sorted(set(bo.__all__))
    assert {"connect", "Store", "load_file", "sync_dataset", "BtvstatError"} <= set(bo.__all__)
    private = [n for n in bo.__all__ if n.startswith("_") and n != "__version__"]
    assert private == []


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
    for command in ("serve", "load", "pull", "push", "sync", "catalog", "measure", "render"):
        assert command in out.stdout


def test_every_package_exports_what_it_lists() -> None:
    import importlib

    for package in ("connectors", "catalog", "widgets"):
        module = importlib.import_module(package)
        assert module.__all__, package
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"


def test_store_and_loader_names_stay_where_callers_import_them() -> None:
    import btvstat_open.load as loader
    import btvstat_open.store as store

    for name in ("Store", "DatasetInfo", "WriteResult", "quote_ident", "new_row_id", "check_dataset_id"):
        assert callable(getattr(store, name)) and name in store.__all__, name
    for name in ("read_file", "load_file", "store_loaded", "run_load", "LoadedFile"):
        assert callable(getattr(loader, name)) and name in loader.__all__, name
    assert store.quote_ident('a"b') == '"a""b"'
    assert store.check_dataset_id("kc-311") == "kc-311"
