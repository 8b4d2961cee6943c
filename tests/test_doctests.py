"""Every docstring example in the four packages runs (doctests are part of ``make test``).

Examples marked ``# doctest: +SKIP`` need a server, a store or a file that the docstring cannot
build; every other example must pass as written.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

PACKAGES = ("btvstat_open", "connectors", "catalog", "widgets")
# Modules that run something when imported (``python -m``), not libraries.
NOT_LIBRARIES = {"btvstat_open.__main__"}


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        root = Path(importlib.import_module(package).__file__ or "").parent
        names.append(package)
        for info in pkgutil.walk_packages([str(root)], prefix=f"{package}."):
            if info.name not in NOT_LIBRARIES:
                names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent.parent)  # examples name paths from the project root
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (run it to see which)"


def test_every_package_has_examples() -> None:
    found = 0
    for name in _modules():
        finder = doctest.DocTestFinder()
        found += sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert found > 100
