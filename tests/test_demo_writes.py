"""``serve --demo`` keeps what was written to its datasets across restarts, and says so at start.

Two real ``btvstat-open serve --demo`` processes on one store: the first takes a write through the
SODA API, the second must still serve it. ``load_demo_data`` itself: a changed bundle reloads an
untouched copy and keeps a written one.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests
from servers import serve_command

from btvstat_open.store import Store
from catalog.demo import DEMO_DATASETS, load_demo_data

TOKEN = "demo-writes-token"
DATASET = "la-library-monthly"


def _count(url: str) -> int:
    body = requests.get(
        f"{url}/resource/{DATASET}.json", params={"$select": "count(*) AS n"}, timeout=30
    ).json()
    return int(body[0]["n"])


def test_writes_to_a_demo_dataset_survive_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "demo-store"
    args, env = ["--demo", "--store", str(store)], {"BTVSTAT_WRITE_TOKEN": TOKEN}
    with serve_command(args, env=env, start_within=120) as url:
        assert _count(url) == 16
        first = requests.get(
            f"{url}/resource/{DATASET}.json", params={"$select": ":id", "$limit": "1"}
        ).json()
        row_id = first[0][":id"]
        deleted = requests.delete(
            f"{url}/resource/{DATASET}/{row_id}.json",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert deleted.status_code == 200, deleted.text
        assert _count(url) == 15
    printed: list[str] = []
    with serve_command(args, env=env, start_within=120, stderr=printed) as url:
        assert _count(url) == 15  # not reloaded from the bundle
    stderr = printed[0]
    assert f"Kept demo dataset '{DATASET}'" in stderr
    assert f"DELETE /api/views/{DATASET}.json" in stderr


def test_a_changed_bundle_reloads_untouched_copies_only(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        load_demo_data(store)
        marker_path = store.root / "demo-data.json"
        marker = json.loads(marker_path.read_text())
        ids = sorted(marker)
        written, untouched = ids[0], ids[1]
        row_id = store.arrow(written, system=True).column(":id")[0].as_py()
        store.delete_row(written, row_id)
        count = store.info(written).row_count
        # As if the bundled files had changed since they were loaded: the store remembers other digests.
        marker_path.write_text(json.dumps({k: ["0" * 16, *v[1:]] for k, v in marker.items()}))
        notices: list[str] = []
        reloaded = load_demo_data(store, notice=notices.append)
        assert written not in reloaded and untouched in reloaded
        assert sorted(reloaded) == [i for i in ids if i != written]
        assert store.info(written).row_count == count
        assert (
            len(notices) == 1 and "bundled demo data is newer" in notices[0] and repr(written) in notices[0]
        )
        assert load_demo_data(store, notice=notices.append) == []  # and then it settles


def test_a_dataset_the_demo_did_not_load_is_never_overwritten(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        load_demo_data(store)
        (store.root / "demo-data.json").unlink()  # as if the dataset had been made another way
        notices: list[str] = []
        assert load_demo_data(store, notice=notices.append) == []
        assert len(notices) == len(DEMO_DATASETS)


def test_a_copy_made_again_under_the_same_id_is_not_taken_for_the_demos(tmp_path: Path) -> None:
    """A dataset dropped and loaded again starts again at version 1, as the demo's own copy did:
    the marker's creation time tells them apart, so a newer bundle never overwrites it."""
    with Store(tmp_path / "s") as store:
        load_demo_data(store)
        marker_path = store.root / "demo-data.json"
        marker = json.loads(marker_path.read_text())
        theirs = store.arrow(DATASET).slice(0, 3)
        columns = store.info(DATASET).columns
        store.drop(DATASET)
        remade = store.load(DATASET, theirs, columns, name="Their own copy")
        assert remade.version == marker[DATASET][1]  # the same number as the demo's copy
        marker_path.write_text(json.dumps({k: ["0" * 16, *v[1:]] for k, v in marker.items()}))
        notices: list[str] = []
        reloaded = load_demo_data(store, notice=notices.append)
        assert DATASET not in reloaded
        assert store.info(DATASET).row_count == 3 and store.info(DATASET).name == "Their own copy"
        assert [n for n in notices if repr(DATASET) in n]


def test_a_marker_from_before_creation_times_still_names_the_copy(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        load_demo_data(store)
        marker_path = store.root / "demo-data.json"
        marker = json.loads(marker_path.read_text())
        marker_path.write_text(json.dumps({k: ["0" * 16, v[1]] for k, v in marker.items()}))
        notices: list[str] = []
        assert sorted(load_demo_data(store, notice=notices.append)) == sorted(marker)
        assert notices == []
