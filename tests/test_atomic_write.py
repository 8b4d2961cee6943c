"""Files are written whole or not at all: :mod:`btvstat_open.atomic`, and the commands that use it.

A failure while writing (here: the disk refusing the final flush) leaves the previous file as it
was and no temporary or partial file beside it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from demo_store import demo_store

import btvstat_open.atomic as atomic
from btvstat_open.atomic import atomic_file, atomic_path, is_temporary, write_atomically
from btvstat_open.cli import main
from catalog.demo import DEMO_DIR


def _full_disk(fd: int) -> None:
    raise OSError(28, "No space left on device")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("atomic-store")
    demo_store(root).close()
    return root


def test_a_failure_mid_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    write_atomically(target, "old")
    with pytest.raises(RuntimeError), atomic_file(target) as out:
        out.write(b"half of the new")
        raise RuntimeError("interrupted")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as temp:
        temp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_a_full_disk_at_the_flush_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic.os, "fsync", _full_disk)
    with pytest.raises(OSError, match="No space"):
        write_atomically(tmp_path / "new.csv", b"a,b\n1,2\n")
    assert list(tmp_path.iterdir()) == []


def test_permissions_follow_the_umask_unless_asked(tmp_path: Path) -> None:
    write_atomically(tmp_path / "public.txt", "x")
    write_atomically(tmp_path / "secret.txt", "x", mode=0o600)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "public.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "secret.txt").stat().st_mode) == 0o600


def test_temporary_names_are_recognised(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "part-00000.parquet") as temp:
        assert temp.parent == tmp_path and is_temporary(temp.name)
        assert not temp.name.endswith(".parquet")  # no *.parquet glob picks it up


@pytest.mark.parametrize(
    "command",
    [
        ["render", "pothole-days-to-close", "--catalog", str(DEMO_DIR), "-o", "{out}/chart.svg"],
        ["render", "library-emedia-circulation", "--catalog", str(DEMO_DIR), "-o", "{out}/chart.png"],
        ["catalog", "export", str(DEMO_DIR), "--format", "dcat-us", "-o", "{out}/data.json"],
    ],
    ids=["render-svg", "render-png", "catalog-export"],
)
def test_commands_leave_no_partial_output(
    command: list[str],
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [a.format(out=tmp_path) for a in command] + ["--store", str(store_dir)]
    assert main(argv) == 0
    (written,) = tmp_path.iterdir()
    before = written.read_bytes()
    monkeypatch.setattr(atomic.os, "fsync", _full_disk)
    capsys.readouterr()
    assert main(argv) == 1  # one line of advice, not a traceback (errors.OutputError)
    assert "\nerror: A file could not be written: No space left on device." in "\n" + capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [written]
    assert written.read_bytes() == before
