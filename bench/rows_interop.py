"""Row 12: every interop client against the local portal (goal: all pass).

Runs the interop tests (``tests/interop/`` and ``tests/test_sodapy.py``: real clients against the
portal served by uvicorn) in a child pytest and counts the clients whose every test passed. An
expected failure (a client's own bug, marked ``xfail``) counts as not passing, so the row says which
client still fails and why instead of hiding it.

Example:
    >>> client_of("tests/interop/test_interop_dataframes.py", "test_geopandas_read_file_geojson")
    'geopandas'
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from bench.harness import Goal, Result

__all__ = ["client_of", "interop_outcomes", "interop_row"]

REPO = Path(__file__).resolve().parent.parent
TESTS = ["tests/interop", "tests/test_sodapy.py"]
CLIENTS = {
    "test_sodapy": "sodapy",
    "test_interop_sodapy": "sodapy",
    "test_interop_soda_js": "soda-js",
    "test_interop_datasette_socrata": "datasette-socrata",
    "test_interop_soda_http": "requests (SODA routes)",
}


def client_of(file: str, test: str) -> str:
    """The client a test drives, from its file and name."""
    module = Path(file).stem
    if module == "test_interop_dataframes":
        return "geopandas" if "geopandas" in test else "pandas"
    return CLIENTS.get(module, module)


def interop_outcomes(junit: Path) -> dict[str, list[str]]:
    """For each client, what each of its tests did: ``passed`` or the reason it did not."""
    outcomes: dict[str, list[str]] = defaultdict(list)
    for case in ET.parse(junit).getroot().iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        name = case.get("name", "")
        problems = [child for child in case if child.tag in ("failure", "error", "skipped")]
        if not problems:
            outcomes[client_of(file, name)].append("passed")
        else:
            kind = "xfailed" if problems[0].get("type") == "pytest.xfail" else problems[0].tag
            outcomes[client_of(file, name)].append(f"{name} {kind}")
    return outcomes


def interop_row() -> Result:
    """Run the interop tests once and report how many clients pass all of theirs."""
    with tempfile.TemporaryDirectory(prefix="btvstat-interop-") as tmp:
        junit = Path(tmp) / "interop.xml"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *TESTS],
            cwd=REPO,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        outcomes = interop_outcomes(junit)
    failing = {client: [o for o in done if o != "passed"] for client, done in outcomes.items()}
    failing = {client: problems for client, problems in failing.items() if problems}
    notes = "; ".join(f"{client}: {', '.join(problems)}" for client, problems in sorted(failing.items()))
    return Result(
        group="interop",
        work=f"interop clients passing ({', '.join(sorted(outcomes))})",
        unit="clients",
        ours=float(len(outcomes) - len(failing)),
        goal=Goal("min", float(len(outcomes)), "clients"),
        notes=notes or "every client passes every test",
    )
