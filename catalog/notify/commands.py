"""``btvstat-open notify``: tell people what changed (see :mod:`catalog.notify.run`).

Example (the demo, as of its frozen day; a dry run writes and sends nothing):
    >>> from btvstat_open.cli import main
    >>> main(["notify", "--catalog", "catalog/demo", "--store", str(store_dir), "--dry-run"])
    notify as of 2020-03-02, dry run: nothing recorded, nothing sent
    ...
    0
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from btvstat_open.errors import UsageError
from btvstat_open.store import Store
from catalog.asof import today_for
from catalog.loader import load_catalog
from catalog.notify.digest import HEADINGS
from catalog.notify.events import Event
from catalog.notify.outbox import OutboxItem, outbox_counts, record_run
from catalog.notify.run import DEFAULT_BASE_URL, Delivery, deliver, plan
from catalog.notify.smtp import SmtpSettings

__all__ = ["run_notify"]


def run_notify(args: argparse.Namespace) -> int:
    """Run the rules once: print the events and messages, queue and deliver them (exit 1 when a
    delivery failed; it stays in the outbox and is retried by the next run)."""
    catalog = load_catalog(args.catalog)
    if not (Path(args.store) / "store.duckdb").is_file():
        raise UsageError(
            f"There is no store at {args.store}: load or sync the catalog's data first "
            "(`btvstat-open sync --catalog DIR`), or pass --store DIR."
        )
    today = today_for(catalog.settings, args.as_of)
    SmtpSettings.from_env(
        os.environ
    )  # a mistake in the mail settings stops here, before anything is recorded
    base = args.base_url or catalog.settings.site_url or DEFAULT_BASE_URL
    with Store(args.store) as store:
        found = plan(catalog, store, today, base_url=base)
        mode = "dry run: nothing recorded, nothing sent" if args.dry_run else "recorded"
        print(f"notify as of {today.isoformat()}, {mode}")
        _print_events(found.events, base)
        _print_messages(found.items)
        if args.dry_run:
            return 0
        record_run(store, found.states, found.items)
        done = deliver(catalog, store, env=os.environ)
        counts = outbox_counts(store)
    return _print_delivery(done, counts)


def _print_events(events: Sequence[Event], base: str) -> None:
    print(f"{len(events)} event{'s' if len(events) != 1 else ''}")
    order = list(HEADINGS)
    for e in sorted(events, key=lambda e: (order.index(e.kind) if e.kind in order else 99, e.subject_id)):
        print(f"  {e.kind:<13} {e.title}: {e.summary}  {base.rstrip('/')}{e.path}")


def _print_messages(items: Sequence[OutboxItem]) -> None:
    print(f"{len(items)} message{'s' if len(items) != 1 else ''}")
    for item in items:
        if item.channel == "email":
            print(f"  e-mail to {item.target}: {item.payload['subject']}")
        else:
            print(f"  webhook {item.target}: {item.payload['events']} events")


def _print_delivery(done: Delivery, counts: dict[str, int]) -> int:
    print(f"delivered {len(done.delivered)}")
    if counts.get("pending"):
        print(f"{counts['pending']} waiting in the outbox for their next attempt")
    if counts.get("failed"):
        print(
            f"warning: {counts['failed']} gave up after repeated failures (see docs/notifications.md)",
            file=sys.stderr,
        )
    for item_id in done.resent:
        print(
            f"note: message {item_id} was sent again after a run stopped while handing it over",
            file=sys.stderr,
        )
    for target, reason in done.failed:
        print(f"error: delivery to {target} failed ({reason}); it will be retried", file=sys.stderr)
    return 1 if done.failed else 0
