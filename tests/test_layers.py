"""The import-linter contracts of pyproject.toml: they hold on the tree, they catch a wrong import,
and the core layer lists every module and package of the core.

Each wrong import is written into a copy of the four packages in a temporary folder, and
``lint-imports`` runs there with the project's own pyproject.toml (the copy first on
``PYTHONPATH``), so what is tested is the real configuration against the real code plus one line.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("btvstat_open", "connectors", "catalog", "widgets")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

LAYERS = "entry points > server > widgets | portal > web > catalog > connectors > core"
# The top layer: the command line, `python -m btvstat_open` and the `dagster` extra's documented name.
ENTRY_POINTS = {"btvstat_open.__main__", "btvstat_open.cli", "btvstat_open.dagster"}
PORTAL_ALONE = "the local portal uses only the core"
WEB_ALONE = "the HTTP plumbing knows neither server"
NO_FRAMEWORKS = "the core and the catalog use no web framework and no chart library"


def _lint(root: Path) -> str:
    """``lint-imports`` over the packages under ``root``: its exit code and output, whitespace folded."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # rich wraps long contract names over lines; fold whitespace so a name reads as one string.
    return f"exit {done.returncode}: " + " ".join((done.stdout + done.stderr).split())


def _copy_sources(tmp: Path) -> Path:
    """The four packages' Python files and pyproject.toml, copied under ``tmp``."""

    def not_python(folder: str, names: list[str]) -> list[str]:
        return [
            n
            for n in names
            if n == "__pycache__" or (not n.endswith(".py") and not (Path(folder) / n).is_dir())
        ]

    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp / package, ignore=not_python)
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def test_the_contracts_hold_on_the_tree() -> None:
    out = _lint(ROOT)
    assert out.startswith("exit 0:"), out
    for name in (LAYERS, PORTAL_ALONE, WEB_ALONE, NO_FRAMEWORKS):
        assert f"{name} KEPT" in out, out


@pytest.mark.parametrize(
    ("module", "line", "contract", "culprit"),
    [
        ("btvstat_open/store/dataset.py", "import catalog", LAYERS, "btvstat_open.store.dataset -> catalog"),
        (
            "btvstat_open/sync/engine.py",
            "import connectors.base",
            LAYERS,
            "btvstat_open.sync.engine -> connectors.base",
        ),
        ("connectors/base.py", "import catalog.models", LAYERS, "connectors.base -> catalog.models"),
        ("catalog/status.py", "import widgets.charts", LAYERS, "catalog.status -> widgets.charts"),
        (
            "catalog/status.py",
            "import btvstat_open.portal.meta",
            LAYERS,
            "catalog.status -> btvstat_open.portal.meta",
        ),
        (
            "btvstat_open/portal/meta.py",
            "import widgets.themes",
            PORTAL_ALONE,
            "btvstat_open.portal.meta -> widgets.themes",
        ),
        (
            "btvstat_open/portal/meta.py",
            "import catalog.models",
            PORTAL_ALONE,
            "btvstat_open.portal.meta -> catalog.models",
        ),
        # The two servers are independent siblings: neither imports the other, nor the server above.
        (
            "widgets/downloads.py",
            "import btvstat_open.portal.app",
            LAYERS,
            "widgets.downloads -> btvstat_open.portal.app",
        ),
        (
            "btvstat_open/portal/meta.py",
            "import widgets.themes",
            LAYERS,
            "btvstat_open.portal.meta -> widgets.themes",
        ),
        ("widgets/charts.py", "import btvstat_open.server", LAYERS, "widgets.charts -> btvstat_open.server"),
        (
            "btvstat_open/portal/stream.py",
            "import btvstat_open.server",
            LAYERS,
            "btvstat_open.portal.stream -> btvstat_open.server",
        ),
        # The plumbing sits below both servers and above the catalog, the connectors and the core.
        (
            "btvstat_open/web/replies.py",
            "import btvstat_open.portal.stream",
            WEB_ALONE,
            "btvstat_open.web.replies -> btvstat_open.portal.stream",
        ),
        (
            "btvstat_open/web/openapi.py",
            "import widgets.api_docs",
            WEB_ALONE,
            "btvstat_open.web.openapi -> widgets",
        ),
        (
            "btvstat_open/web/handlers.py",
            "import catalog.models",
            WEB_ALONE,
            "btvstat_open.web.handlers -> catalog",
        ),
        (
            "catalog/exports.py",
            "import btvstat_open.web.openapi",
            LAYERS,
            "catalog.exports -> btvstat_open.web",
        ),
        (
            "btvstat_open/store/dataset.py",
            "import btvstat_open.web.handlers",
            LAYERS,
            "btvstat_open.store.dataset -> btvstat_open.web.handlers",
        ),
        # The entry points sit on top: nothing below imports them.
        (
            "btvstat_open/store/dataset.py",
            "import btvstat_open.cli",
            LAYERS,
            "btvstat_open.store.dataset -> btvstat_open.cli",
        ),
        (
            "widgets/charts.py",
            "import btvstat_open.dagster",
            LAYERS,
            "widgets.charts -> btvstat_open.dagster",
        ),
        (
            "btvstat_open/server/running.py",
            "import btvstat_open.__main__",
            LAYERS,
            "btvstat_open.server.running -> btvstat_open.__main__",
        ),
        # The server's plumbing (settings, budgets, uvicorn's configuration) is no longer the core.
        (
            "btvstat_open/sync/engine.py",
            "import btvstat_open.web.budget",
            LAYERS,
            "btvstat_open.sync.engine -> btvstat_open.web.budget",
        ),
        ("catalog/status.py", "import fastapi", NO_FRAMEWORKS, "catalog.status -> fastapi"),
        ("btvstat_open/cli.py", "import fastapi", NO_FRAMEWORKS, "btvstat_open.cli -> fastapi"),
        ("btvstat_open/soql/lexer.py", "import altair", NO_FRAMEWORKS, "btvstat_open.soql.lexer -> altair"),
        (
            "btvstat_open/load/files.py",
            "import vl_convert",
            NO_FRAMEWORKS,
            "btvstat_open.load.files -> vl_convert",
        ),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str, culprit: str
) -> None:
    tree = _copy_sources(tmp_path)
    with (tree / module).open("a") as source:
        source.write(f"\n{line}  # a deliberate wrong import\n")
    out = _lint(tree)
    assert out.startswith("exit 1:"), out
    assert f"{contract} BROKEN" in out, out
    assert culprit in out, out


def _core() -> set[str]:
    """Every module and package directly under btvstat_open, but the layers above the core."""
    names = {info.name for info in pkgutil.iter_modules([str(ROOT / "btvstat_open")])}
    above = {f"btvstat_open.{name}" for name in ("server", "portal", "web", "people")} | ENTRY_POINTS
    return {f"btvstat_open.{name}" for name in names} - above


def _contract(name: str) -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts: list[dict[str, object]] = config["contracts"]
    return next(c for c in contracts if c["name"] == name)


def test_the_core_layer_lists_every_core_module() -> None:
    # A core module left out of the list would be checked by no layer: name it in both contracts.
    layers = _contract(LAYERS)["layers"]
    assert isinstance(layers, list)
    bottom = {name.strip() for name in layers[-1].split(":")}
    assert bottom == _core(), "add the new core module to the last layer in pyproject.toml"
    top = {name.strip() for name in layers[0].split(":")}
    assert top == ENTRY_POINTS, "the top layer names the entry points, and only them"
    sources = _contract(NO_FRAMEWORKS)["source_modules"]
    assert isinstance(sources, list)
    expected = _core() | ENTRY_POINTS | {"catalog"}
    assert set(sources) == expected, "add the new core module to source_modules too"


def test_the_entry_points_are_the_ones_pyproject_declares() -> None:
    # What `btvstat-open`, `python -m btvstat_open` and the `dagster` extra run is in the top layer.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    scripts = {target.split(":")[0] for target in project["scripts"].values()}
    assert scripts <= ENTRY_POINTS, scripts


def test_the_soql_compiler_is_a_pure_library() -> None:
    graph = grimp.build_graph("btvstat_open", include_external_packages=True)
    for web in ("fastapi", "starlette", "uvicorn"):
        assert not graph.chain_exists(importer="btvstat_open.soql", imported=web, as_packages=True), web
