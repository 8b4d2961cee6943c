"""The layout the documentation describes is the layout of the tree, and docstrings name only files
that are in the repository.

docs/architecture.md and the README's layout paragraph must name every package and subpackage
of the four import packages, and every package or module path they name must exist.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("btvstat_open", "connectors", "catalog", "widgets")
# Paths like `btvstat_open/store/` or `connectors/socrata/reads.py`, as the documents write them.
_PATH = re.compile(r"`((?:" + "|".join(PACKAGES) + r")/[\w/.-]*)`")
# Markdown files a docstring may name without them being in the repository: outputs the code writes.
WRITTEN_BY_THE_CODE = {"latest.md"}  # bench/report.py writes bench/results/latest.md


def _packages() -> list[str]:
    """Every package and subpackage of the four, as ``path/`` (a folder with an ``__init__.py``)."""
    found = []
    for package in PACKAGES:
        for init in sorted((ROOT / package).rglob("__init__.py")):
            found.append(init.parent.relative_to(ROOT).as_posix() + "/")
    return found


def _layout_paragraph() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\nLayout: ") + 1
    return readme[start : readme.index("\n\n", start)]


def _architecture() -> str:
    return (ROOT / "docs" / "architecture.md").read_text()


def test_every_package_is_named_in_the_architecture_page_and_the_readme() -> None:
    packages = _packages()
    assert "btvstat_open/store/" in packages and "connectors/socrata/" in packages
    architecture, layout = _architecture(), _layout_paragraph()
    missing = [p for p in packages if f"`{p}`" not in architecture]
    assert not missing, f"docs/architecture.md does not describe {missing}"
    missing = [p for p in packages if f"`{p}`" not in layout]
    assert not missing, f"the README's layout paragraph does not name {missing}"


def test_every_path_the_documents_name_exists() -> None:
    for name, text in (("docs/architecture.md", _architecture()), ("README.md", _layout_paragraph())):
        named = _PATH.findall(text)
        assert named, name
        absent = [p for p in named if not (ROOT / p.rstrip("/")).exists()]
        assert not absent, f"{name} names {absent}, which the tree does not have"


def _resolves(dotted: str) -> bool:
    """Whether ``a.b.c`` is a module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def test_every_module_the_documents_name_exists() -> None:
    dotted = re.compile(r"`((?:" + "|".join(PACKAGES) + r")(?:\.\w+)+)`")
    for name, text in (("docs/architecture.md", _architecture()), ("README.md", _layout_paragraph())):
        absent = [n for n in dotted.findall(text) if not _resolves(n)]
        assert not absent, f"{name} names {absent}, which the packages do not have"
    assert not _resolves("btvstat_open.store.no_such_thing")


def _tracked_markdown() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def _docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)),
    ]
    return [doc for node in nodes if (doc := ast.get_docstring(node, clean=False))]


def test_docstrings_name_only_files_in_the_repository() -> None:
    tracked = _tracked_markdown()
    basenames = {Path(p).name for p in tracked} | WRITTEN_BY_THE_CODE
    sources = [p for folder in (*PACKAGES, "tests", "bench") for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(sources) > 100
    wrong = []
    for path in sources:
        for doc in _docstrings(path):
            for named in re.findall(r"[\w./-]*\w\.md\b", doc):
                if named not in tracked and Path(named).name not in basenames:
                    wrong.append(f"{path.relative_to(ROOT)}: {named}")
            if "../" in doc or "/work/" in doc:
                wrong.append(f"{path.relative_to(ROOT)}: a path outside the repository")
    assert not wrong, wrong


def test_the_documents_name_only_files_in_the_repository() -> None:
    tracked = _tracked_markdown()
    for name in ("README.md", "docs/architecture.md", "docs/equity-and-freshness.md", "docs/settings.md"):
        text = (ROOT / name).read_text()
        named = set(re.findall(r"[\w./-]*\w\.md\b", text))
        wrong = [n for n in named if n not in tracked and Path(n).name not in {Path(t).name for t in tracked}]
        assert not wrong, f"{name} names {wrong}"
