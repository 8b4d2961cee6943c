"""Print the benchmark table and write the results as JSON so that runs can be compared.

Example:
    >>> print_table([Result("pull", "pull 1M rows", "rows/s", ours=5e5)])  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from bench.harness import Result

__all__ = ["format_value", "markdown_table", "print_table", "write_json"]

RESULTS = Path(__file__).parent / "results"


def format_value(value: float | None, unit: str) -> str:
    """A measurement for the table: thousands separated, a sensible number of digits, its unit.

    Example:
        >>> format_value(1234567.8, "rows/s")
        '1,234,568 rows/s'
        >>> format_value(3.14159, "ms")
        '3.14 ms'
    """
    if value is None or math.isnan(value):
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10 or value == int(value):
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def _ratio(value: float | None) -> str:
    """Two decimals below 10x, so that 0.496x does not show as a goal of 0.5x reached."""
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else (f"{value:.1f}x" if value < 100 else f"{value:,.0f}x")


def _met(met: bool | None, error: str) -> str:
    if error:
        return "[red]error[/red]"
    if met is None:
        return ""
    return "[green]yes[/green]" if met else "[red]no[/red]"


def print_table(results: list[Result], *, title: str, console: Console | None = None) -> None:
    """Print one table row per result (with the peer's name next to its median)."""
    console = console or Console(width=max(140, Console().width))
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False)
    for name, justify in (
        ("work", "left"),
        ("ours (median)", "right"),
        ("peer (median)", "right"),
        ("ratio", "right"),
        ("goal", "right"),
        ("met?", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results:
        peer = format_value(r.peer, r.unit)
        if r.peer_name and r.peer is not None:
            peer = f"{r.peer_name}: {peer}"
        work = r.work if not r.error else f"{r.work} [red]({r.error[:90]})[/red]"
        table.add_row(
            work,
            format_value(r.ours, r.unit),
            peer,
            _ratio(r.ratio),
            str(r.goal) if r.goal else "",
            _met(r.met, r.error),
        )
    console.print(table)
    notes = [f"- {r.work}: {r.notes}" for r in results if r.notes]
    if notes:
        console.print("Notes:", style="bold")
        for line in notes:
            console.print(line, highlight=False, markup=False)


def markdown_table(results: list[Result]) -> str:
    """The table as Markdown, for the README's performance section.

    Example:
        >>> print(markdown_table([Result("m", "peak memory", "MB", ours=180.0)]).splitlines()[2])
        | peak memory | 180 MB | - | - |  |  |
    """
    lines = ["| work | ours (median) | peer (median) | ratio | goal | met? |", "|---|--:|--:|--:|--:|:-:|"]
    for r in results:
        peer = format_value(r.peer, r.unit)
        if r.peer_name and r.peer is not None:
            peer = f"{r.peer_name}: {peer}"
        met = "error" if r.error else {True: "yes", False: "no", None: ""}[r.met]
        goal = str(r.goal) if r.goal else ""
        cells = [r.work, format_value(r.ours, r.unit), peer, _ratio(r.ratio), goal, met]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_json(results: list[Result], *, mode: str, seconds: float, out_dir: Path | None = None) -> Path:
    """Write ``<timestamp>.json``, ``latest.json`` and ``latest.md`` into ``out_dir`` (``bench/results``)."""
    out_dir = out_dir or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "created": now.isoformat(timespec="seconds"),
        "mode": mode,
        "seconds": round(seconds, 1),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "results": [r.to_json() for r in results],
    }
    text = json.dumps(payload, indent=2, default=str)
    path = out_dir / f"{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    (out_dir / "latest.md").write_text(markdown_table(results))
    return path
