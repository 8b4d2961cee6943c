"""Every cache of the store's contents keys them by :meth:`Store.versions`, which moves with each
write and differs for a dataset dropped and made again under the same id (whose version number
starts again at 1): such a dataset is never served from what was cached about the old one."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from btvstat_open.portal.context import PortalContext
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings
from widgets.cache import DataVersions

OLD = [Column("n", "N", "number")]
NEW = [Column("name", "Name", "text"), Column("n", "N", "number")]


def test_versions_move_with_writes_and_differ_after_a_drop(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        created = store.create("d", "D", OLD).data_version
        assert store.versions() == {"d": created} == store.versions(["d", "nope"])
        store.replace("d", pa.table({"n": [1.0]}))
        written = store.versions()["d"]
        assert written.number == created.number + 1
        store.drop("d")
        assert store.versions() == {}
        again = store.create("d", "D", NEW).data_version
        assert again.number == created.number and again != created


def test_a_recreated_dataset_is_not_served_stale_metadata(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.create("d", "Old", OLD)
        portal = PortalContext(store, Settings())
        widgets = DataVersions(store, ttl=0)
        listed = store.datasets()
        assert portal.info("d").name == "Old" and [i.name for i in listed] == ["Old"]
        seen = widgets.get("d")
        store.drop("d")
        store.create("d", "New", NEW)
        assert portal.info("d").name == "New"
        assert [c.field_name for c in portal.info("d").columns] == ["name", "n"]
        assert [i.name for i in store.datasets()] == ["New"]
        assert widgets.get("d") != seen
