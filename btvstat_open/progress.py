"""A progress bar for long pulls and syncs: rows and rows/s on a terminal, nothing when piped."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["RowProgress", "row_progress"]


class RowProgress:
    """Rows done so far, drawn by rich on stderr when ``enabled``; silent otherwise.

    Example:
        >>> bar = RowProgress(False, "pull")
        >>> bar.advance(500); bar.rows
        500
    """

    def __init__(self, enabled: bool, label: str, *, console: Console | None = None) -> None:
        self.rows = 0
        self._started = time.monotonic()
        self._bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} rows"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                transient=True,
                # stderr: stdout carries the command's result and may be piped while stderr is not.
                console=console or Console(stderr=True),
            )
            self._task = self._bar.add_task(label, total=None, rate="")
            self._bar.start()

    @property
    def rate(self) -> float:
        """Rows per second since the bar started."""
        return self.rows / max(time.monotonic() - self._started, 1e-6)

    def advance(self, rows: int) -> None:
        """Count ``rows`` more rows (and redraw the rate)."""
        self.rows += rows
        if self._bar is not None:
            self._bar.update(self._task, completed=self.rows, rate=f"{self.rate:,.0f} rows/s")

    def close(self) -> None:
        """Stop drawing (the bar is removed from the terminal)."""
        if self._bar is not None:
            self._bar.stop()


@contextmanager
def row_progress(
    enabled: bool | None, label: str, *, console: Console | None = None
) -> Iterator[RowProgress]:
    """A :class:`RowProgress` for the duration of a block.

    ``enabled=None`` shows the bar only when stderr is a terminal.

    Example:
        >>> with row_progress(None, "pull abcd-1234") as bar:
        ...     bar.advance(10)
    """
    bar = RowProgress(sys.stderr.isatty() if enabled is None else enabled, label, console=console)
    try:
        yield bar
    finally:
        bar.close()
