"""Every cross-reference in the four packages' docstrings names something that exists.

Checked: Sphinx roles (``:func:``, ``:class:``, ``:mod:``, ``:meth:``, ``:attr:``, ``:data:``,
``:exc:``; ``~`` and a leading ``.`` as Sphinx reads them) and double-backticked dotted names that
start with one of our packages (````catalog.measure.measure````). A dotted name is imported and
followed attribute by attribute; a bare one is looked up in its module, its class, then among
the names the packages define (a class, function, constant, method or field). File names
(````catalog.yaml````) are not references.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("btvstat_open", "connectors", "catalog", "widgets")
ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|data|attr|exc|obj|const):`~?([^`<>]+?)`")
DOTTED = re.compile(r"``((?:" + "|".join(PACKAGES) + r")(?:\.[A-Za-z_]\w*)+)(?:\(\))?``")
FILE_NAME = re.compile(r"\.(ya?ml|json|md|py|csv|txt|duckdb|parquet|html|css|js|toml|xlsx|svg|png|pdf)$")


def _sources() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if p.name != "__main__.py"]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _defined(tree: ast.Module) -> Iterator[str]:
    """The names a module defines: top-level names, and each class's methods and fields."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield from (t.id for t in targets if isinstance(t, ast.Name))
        if isinstance(node, ast.ClassDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield from (sub.name, f"{node.name}.{sub.name}")
                elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name):
                    yield f"{node.name}.{sub.target.id}"
                elif isinstance(sub, ast.AnnAssign | ast.Assign):  # self.x = ... in a method
                    targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                    yield from (t.attr for t in targets if isinstance(t, ast.Attribute))


INDEX = {name for path in _sources() for name in _defined(ast.parse(path.read_text(encoding="utf-8")))}


def _follow(obj: object, parts: list[str]) -> bool:
    for i, part in enumerate(parts):
        if hasattr(obj, part):
            obj = getattr(obj, part)
        else:  # a dataclass or NamedTuple field, or an annotated attribute
            return i == len(parts) - 1 and part in getattr(obj, "__annotations__", {})
    return True


def _import(parts: list[str]) -> tuple[ModuleType, list[str]] | None:
    for i in range(len(parts), 0, -1):
        try:
            return importlib.import_module(".".join(parts[:i])), parts[i:]
        except ImportError:
            continue
    return None


def resolves(target: str, module: ModuleType, scope: list[object]) -> bool:
    """Whether ``target``, written in a docstring of ``module`` (within ``scope``), names something."""
    target = target.strip().removesuffix("()")
    if FILE_NAME.search(target):
        return True
    if target.startswith("."):
        package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
        target = package + target
    parts = target.split(".")
    if any(_follow(base, parts) for base in scope) or target in INDEX:
        return True
    found = _import(parts) if "." in target or parts[0] in PACKAGES else None
    return found is not None and _follow(*found)


def _docstrings(tree: ast.Module) -> Iterator[tuple[str, str | None, int]]:
    """Each docstring with the class it belongs to (if any) and its line."""
    if (doc := ast.get_docstring(tree, clean=False)) is not None:
        yield doc, None, 1

    def walk(node: ast.AST, cls: str | None) -> Iterator[tuple[str, str | None, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                owner = child.name if isinstance(child, ast.ClassDef) else cls
                if (doc := ast.get_docstring(child, clean=False)) is not None:
                    yield doc, owner, child.lineno
                yield from walk(child, owner)

    yield from walk(tree, None)


def broken_references(path: Path) -> list[str]:
    """``file:line: reference`` for each cross-reference in ``path`` that names nothing."""
    module = importlib.import_module(_module_name(path))
    broken = []
    for doc, cls, line in _docstrings(ast.parse(path.read_text(encoding="utf-8"))):
        scope: list[object] = [module, *([getattr(module, cls)] if cls and hasattr(module, cls) else [])]
        for target in [m.group(1) for m in ROLE.finditer(doc)] + [m.group(1) for m in DOTTED.finditer(doc)]:
            if not resolves(target, module, scope):
                broken.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    return broken


def test_every_docstring_reference_resolves() -> None:
    broken = [entry for path in _sources() for entry in broken_references(path)]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    "target",
    [
        "catalog.measure.no_such_function",
        "connectors.socrata.client.ResumableBody",  # a module that moved
        "widgets.app.create_app",  # a function that was renamed
        "NoSuchClass.method",
    ],
)
def test_a_stale_reference_is_caught(target: str) -> None:
    module = importlib.import_module("catalog.measure")
    assert not resolves(target, module, [module])


GOOD = ["catalog.measure.measure", ".status.Status.rank", "Store.versions", "DataVersion.number", "x.yaml"]


@pytest.mark.parametrize("target", GOOD)
def test_a_good_reference_resolves(target: str) -> None:
    module = importlib.import_module("catalog.measure")
    assert resolves(target, module, [module])
