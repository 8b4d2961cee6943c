"""A packet not yet kept follows the data: after a write to a dataset on its agenda, the next
packet, page and PDF are computed again from the new rows (none comes from a cache of the rows
as they were), and the items over other datasets stay as they were. Once kept, a packet stays as
kept (``test_meetings_routes.test_a_data_change_leaves_a_past_packet_as_kept``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import yaml
from browser.widget_catalogs import write_test_catalog
from demo_store import demo_store

from catalog import load_catalog
from catalog.measure import measure
from widgets.cache import DataVersions
from widgets.packets.service import PacketService

POTHOLES = "kc-311-potholes"


def _late_requests(table: pa.Table) -> pa.Table:
    """Five new requests dated in January 2020 (inside the data's range, so their weeks change)."""
    late = table.slice(0, 5).to_pylist()
    for n, row in enumerate(late):
        row["case_id"] = 9_100_000 + n
        row["creation_date"] = row["creation_date"].replace(year=2020, month=1, day=21)
    return pa.Table.from_pylist(late, schema=table.schema)


def test_a_packet_not_yet_kept_is_computed_again_after_a_write(tmp_path: Path) -> None:
    store = demo_store(tmp_path / "store")
    folder = write_test_catalog(tmp_path / "catalog")
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)  # not kept before its day
    meeting = {
        "id": "next-review",
        "date": tomorrow.isoformat(),
        "title": "Next",
        "departments": ["Public Works"],
    }
    (folder / "meetings" / "next-review.yaml").write_text(yaml.safe_dump(meeting))
    catalog = load_catalog(folder, store)
    packets = PacketService(store, catalog, DataVersions(store, ttl=0), today=date.today)
    before = {item.kpi.id: item for item in packets.packet("next-review").items}
    page, pdf = packets.html("next-review"), packets.pdf("next-review")
    assert packets.kept("next-review") is None and pdf.startswith(b"%PDF-")
    assert packets.packet("next-review") is packets.packet("next-review")  # kept while nothing is written

    store.upsert(POTHOLES, _late_requests(store.arrow(POTHOLES)))
    after = {item.kpi.id: item for item in packets.packet("next-review").items}
    changed = {k for k in before if not before[k].series.equals(after[k].series)}
    over_potholes = {k for k, item in before.items() if item.kpi.source.dataset == POTHOLES}
    assert changed and changed <= over_potholes
    for kpi_id in over_potholes:  # what a fresh computation gives
        kpi = catalog.kpis[kpi_id]
        store._records.clear()
        assert after[kpi_id].series.equals(measure(kpi, store, catalog.settings, today=tomorrow))
    assert packets.html("next-review") != page
    assert packets.pdf("next-review") != pdf
    store.close()
