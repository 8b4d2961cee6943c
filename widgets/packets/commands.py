"""``btvstat-open packet MEETING_ID --catalog DIR [--store DIR] [--as-of DATE] [--refresh] -o FILE``.

A packet produced on or after its meeting's date is kept in the store's folder and written
again, byte for byte, by later runs; ``--refresh`` keeps a new revision (:mod:`widgets.packets.kept`).

Example:
    $ btvstat-open packet 2020-03-04-public-works --catalog catalog/demo -o packet.pdf
    Wrote packet.pdf (Public Works review, March 4, 2020; data as of March 4, 2020; kept revision 1)
"""

from __future__ import annotations

import argparse
import functools
import sys
from datetime import date
from pathlib import Path

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import UsageError
from btvstat_open.store import open_store
from catalog import load_catalog
from catalog.asof import parse_as_of
from catalog.packet import build_packet, find_meeting
from widgets.packets.kept import produce
from widgets.packets.render import packet_html, packet_pdf
from widgets.packets.view import long_date
from widgets.theme_files import brand_of
from widgets.themes import branded, use_palettes

__all__ = ["run_packet"]


def run_packet(args: argparse.Namespace) -> int:
    """Write one meeting's packet; the file appears whole or not at all.

    An unknown meeting is :class:`~btvstat_open.errors.MeetingNotFound` (exit code 2).

    Example:
        >>> from btvstat_open.cli import build_parser  # store_dir: a store with the demo data
        >>> out = scratch / "p.html"
        >>> argv = ["packet", "2020-03-04-public-works", "--catalog", "catalog/demo", "-o", str(out)]
        >>> run_packet(build_parser().parse_args([*argv, "--store", store_dir]))
        0
        >>> out.read_text(encoding="utf-8").startswith("<!doctype html>")
        True
    """
    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".html"):
        raise UsageError(
            f"Cannot write a packet to {output.name!r}: the file name must end in .pdf or .html."
        )
    as_of = parse_as_of(args.as_of) if args.as_of else None
    refresh = bool(getattr(args, "refresh", False))
    if refresh and as_of is not None:
        raise UsageError("--refresh keeps the packet as of its meeting's day; leave out --as-of.")
    store = open_store(args.store)
    catalog = load_catalog(args.catalog, store)
    meeting = find_meeting(catalog, args.meeting_id)  # an unknown meeting fails before any work
    with use_palettes(branded(catalog.settings.theme)):  # the catalog's brand colour, as served
        # A packet produced on or after its meeting's date is kept; later runs write the kept one.
        kept = None if as_of is not None else produce(catalog, store, meeting.id, refresh=refresh)
        if kept is not None:
            html, pdf, day = kept.html(links=False), kept.pdf, date.fromisoformat(kept.record()["as_of"])
            note = f"kept revision {kept.number}"
        else:
            packet = build_packet(catalog, store, args.meeting_id, as_of=as_of)
            html = packet_html(packet, catalog.settings, brand=brand_of(catalog))
            day, note = packet.as_of, "not kept: before the meeting"
            pdf = functools.partial(packet_pdf, html)
    write_atomically(output, html if suffix == ".html" else pdf())
    if as_of is not None:
        note = "computed as of the day asked"
    print(
        f"Wrote {output} ({meeting.title}, {long_date(meeting.date)}; data as of {long_date(day)}; {note})",
        file=sys.stderr,
    )
    return 0
