"""What a newcomer meets in the first hour: percent changes in points, the KPI key reference that
cannot drift from the models, and the README's first commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pyarrow as pa
from servers import free_port, wait_for_health

from catalog.models import Kpi
from catalog.reference import BEGIN, END, key_reference
from widgets.summary import rows, summarize


def test_a_percent_kpis_change_is_in_points() -> None:
    kpi = Kpi.model_validate(
        {
            "id": "response-5-minutes",
            "title": "Calls answered within 5 minutes",
            "department": "Fire",
            "unit": "%",
            "decimals": 0,
            "source": {"dataset": "calls", "date_column": "day"},
            "measure": {"calculation": "count"},
        }
    )
    series = pa.table(
        {
            "period_start": [date(2020, 1, 1), date(2020, 2, 1)],
            "period_end": [date(2020, 1, 31), date(2020, 2, 29)],
            "value": [98.0, 97.0],
            "target": [None, None],
            "status": ["no_target", "no_target"],
        }
    )
    label = summarize(kpi, rows(kpi, series)).change_label
    assert "-1 point since Jan 2020" in label and "%" not in label


ROOT = Path(__file__).resolve().parents[1]


def test_the_key_reference_is_generated_from_the_models() -> None:
    guide = (ROOT / "docs" / "your-own-city.md").read_text(encoding="utf-8")
    start, end = guide.index(BEGIN), guide.index(END) + len(END)
    assert guide[start:end] == key_reference(), "run: python -m catalog.reference docs/your-own-city.md"
    for key in ("measure.min_count", "period.include_current", "datasets.NAME.license", "sync_every"):
        assert f"| `{key}` |" in guide


def first_hour_commands() -> list[str]:
    """The README's first-hour commands, in order (comments dropped)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- FIRST HOUR -->")[1].split("<!-- END FIRST HOUR -->")[0]
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("```")]


def fresh_clone(target: Path) -> Path:
    """The repository's tracked files in a new folder, with ``.venv`` made as ``make demo`` makes it:
    the package installed editable (its dependencies from this test run's environment, offline) and
    its ``btvstat-open`` script written from ``[project.scripts]``."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target / ".venv")], check=True)
    purelib = subprocess.run(
        [
            str(target / ".venv" / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    here = [p for p in sys.path if p.endswith("site-packages")]
    (Path(purelib) / "btvstat_open_editable.pth").write_text("\n".join([str(target), *here]) + "\n")
    scripts = tomllib.loads((target / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["btvstat-open"].split(":")
    script = target / ".venv" / "bin" / "btvstat-open"
    python = target / ".venv" / "bin" / "python"
    script.write_text(f"#!{python}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
    script.chmod(0o755)
    return target


def test_the_readmes_first_hour_runs_in_a_clean_shell(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path / "btvstat-open")
    commands = first_hour_commands()
    assert commands[0] == "source .venv/bin/activate"
    # `make demo` (the README's first command) serves the demo from the clone while the rest run.
    serve = [
        str(clone / ".venv" / "bin" / "btvstat-open"),
        "serve",
        "--demo",
        "--store",
        ".btvstat/demo-store",
    ]
    port = free_port()
    server = subprocess.Popen(
        [*serve, "--port", str(port)], cwd=clone, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server, 120, lambda: server.communicate()[1])
        script = "set -e\n" + "\n".join(f"echo '$ {c}'\n{c}" for c in commands)
        clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
        shell = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script],
            cwd=clone,
            env=clean,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    out = shell.stdout
    assert "kc-311-potholes" in out and "days_to_close" in out  # the listing, then the columns
    assert "18 KPIs, no problems (checked against the store)" in out
    assert "Median days to close" in out  # the measure table's title
    assert (clone / "packet.html").is_file()
