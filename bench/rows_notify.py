"""The ``notify`` row: one notification run over the generated 500-KPI, 60-goal catalog with 100
people, delivering every digest to a real SMTP server (aiosmtpd on 127.0.0.1, in this process).

The catalog is the program pages' (:func:`bench.bench_catalog.generate_catalog`) with
``recipients:`` naming 100 addresses spread over its departments. The first run measures every
KPI, fires every event (nothing was recorded before), records the states and the outbox and sends
one digest per person; the second run, with nothing changed, measures again and sends nothing.
Both are timed as ``btvstat-open notify`` runs them (the library call, in a process that has
imported it: cron's start-up is not the program's work). Goal: the first run <= 5 s.

Example:
    >>> notify_rows(workdir=Path("/tmp/b"))  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path
from typing import Any

from bench.bench_catalog import generate_catalog
from bench.harness import Goal, Result
from bench.rows_widgets import demo_store

__all__ = ["KPIS", "PEOPLE", "notify_rows"]

KPIS, GOALS, PEOPLE = 500, 60, 100


class _Count:
    """Counts the messages the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _with_people(root: Path, people_count: int) -> Path:
    from catalog import load_catalog

    departments = sorted({k.department for k in load_catalog(root).kpis.values()})
    lines = ["recipients:", "  departments:"]
    for d, name in enumerate(departments):
        people = [f"person-{p}@example.gov" for p in range(people_count) if p % len(departments) == d]
        lines.append(f"    {name}: [{', '.join(people)}]")
    with (root / "catalog.yaml").open("a") as settings:
        settings.write("\n".join(lines) + "\n")
    return root


def notify_rows(*, workdir: Path, kpis: int = KPIS, people: int = PEOPLE) -> list[Result]:
    """Time a first and a second notification run (see the module docstring); ``kpis`` and
    ``people`` make the catalog smaller (its goals in the same proportion)."""
    from aiosmtpd.controller import Controller

    from btvstat_open.store import Store
    from catalog import load_catalog
    from catalog.asof import today_for
    from catalog.notify.run import notify

    store_dir, _, _ = demo_store(workdir)
    local = workdir / "notify-store"
    shutil.rmtree(local, ignore_errors=True)
    shutil.copytree(store_dir, local)
    goals = max(1, kpis * GOALS // KPIS)
    root = _with_people(generate_catalog(workdir / "notify-catalog", kpis, goals=goals), people)
    counter, port = _Count(), _free_port()
    server = Controller(counter, hostname="127.0.0.1", port=port)
    server.start()
    env = {"BTVSTAT_SMTP_HOST": "127.0.0.1", "BTVSTAT_SMTP_PORT": str(port), "BTVSTAT_SMTP_SECURITY": "none"}
    times: list[float] = []
    sent: list[int] = []
    events: list[int] = []
    try:
        with Store(local) as store:
            catalog = load_catalog(root, store)
            today = today_for(catalog.settings)
            for _ in range(2):
                start = time.perf_counter()
                found, done = notify(catalog, store, today, env=env)
                times.append(time.perf_counter() - start)
                if done.failed:
                    raise RuntimeError(f"{len(done.failed)} digests failed: {done.failed[0][1]}")
                sent.append(len(done.delivered))
                events.append(len(found.events))
    finally:
        server.stop()
    if sent[0] != counter.messages or sent[0] < people or sent[1] != 0:
        raise RuntimeError(f"sent {sent}, the server counted {counter.messages}: expected {people}, then 0")
    size = f"{kpis} KPIs, {people} people"
    return [
        Result(
            group="notify",
            work=f"notify, {size}: first run",
            unit="s",
            ours=times[0],
            higher_is_better=False,
            goal=Goal("max", 5, "s"),
            notes=f"every KPI measured; {events[0]} events, {sent[0]} digests sent to aiosmtpd",
        ),
        Result(
            group="notify",
            work=f"notify, {size}: nothing changed",
            unit="s",
            ours=times[1],
            higher_is_better=False,
            goal=Goal("max", 5, "s"),
            notes="every KPI measured again; nothing sent",
        ),
    ]
