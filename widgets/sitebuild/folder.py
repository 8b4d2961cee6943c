"""The site's folder and what a build reports: whether a folder can take a site, writing its files
(only those whose bytes changed), the versions a build's files are made from, and the counts a
build prints.

Example:
    >>> prepare_folder(scratch / "new-site") is None  # a new folder: no previous build
    True
    >>> folder = SiteFolder(scratch / "new-site")
    >>> folder.write("a/b.txt", b"x"); folder.write("a/b.txt", b"x"); folder.outcome
    {'a/b.txt': True}
    >>> folder.remove({"a/b.txt"}), (scratch / "new-site").exists(), (scratch / "new-site" / "a").exists()
    (1, True, False)
    >>> BuildReport(written=2, unchanged=1).line()
    'Wrote 3 files (2 written, 1 unchanged, 0 removed; 0 rendered, 0 kept)'
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import UsageError
from widgets.sitebuild.manifest import ALL_DATASETS, MANIFEST, Entry, Manifest

__all__ = [
    "KEPT_PACKETS",
    "BuildReport",
    "SiteFolder",
    "dataset_versions",
    "kept_packets",
    "prepare_folder",
    "prune",
]


@dataclass
class BuildReport:
    """What a build did: files written, left unchanged and removed; URLs rendered and kept from
    the last build; and links that lead nowhere on the static site (``page -> link: why``)."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    rendered: int = 0
    kept: int = 0
    broken: list[str] = field(default_factory=list)
    #: the files written (sorted): those whose bytes changed, or new
    changed: list[str] = field(default_factory=list)

    @property
    def files(self) -> int:
        """How many files the site has."""
        return self.written + self.unchanged

    def line(self) -> str:
        """One line for the command line."""
        return (
            f"Wrote {self.files} files ({self.written} written, {self.unchanged} unchanged, "
            f"{self.removed} removed; {self.rendered} rendered, {self.kept} kept)"
        )


def prepare_folder(out: Path) -> Manifest | None:
    """Check ``out`` can take the site: a new or empty folder, or a previous build (its manifest).

    Anything else is a :class:`UsageError` before any work: a build never writes over files it
    did not make.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; build-site writes a folder: choose a folder's name.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UsageError(
            f"Cannot write the site to {out}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc
    old = Manifest.load(out)
    if old is None and any(out.iterdir()):
        raise UsageError(
            f"{out} is not empty and is not a previous site build (it has no {MANIFEST}); "
            "choose an empty or new folder, or empty this one."
        )
    return old


def dataset_versions(store: Any) -> dict[str, str]:
    """Every dataset's version as text, under :data:`ALL_DATASETS` a digest of them all, and
    under :data:`KEPT_PACKETS` which packet revisions are kept."""
    versions = {name: str(version) for name, version in store.versions().items()}
    every = "\n".join(f"{k}={v}" for k, v in sorted(versions.items()))
    versions[ALL_DATASETS] = hashlib.sha256(every.encode()).hexdigest()[:24]
    versions[KEPT_PACKETS] = kept_packets(Path(store.root))
    return versions


KEPT_PACKETS = "@kept-packets"


def kept_packets(store_root: Path) -> str:
    """A digest of which packet revisions the store keeps (``packet --refresh`` adds one: the
    meeting list links to it, though no dataset changed)."""
    kept = sorted(str(p.relative_to(store_root)) for p in store_root.glob("packets/*/*") if p.is_dir())
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:24]


def prune(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


class SiteFolder:
    """The folder a build writes, and which files it wrote (True) or found as they were (False)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.outcome: dict[str, bool] = {}

    def intact(self, entry: Entry) -> bool:
        """Whether the file a kept entry names is still there, at its size (one ``stat``)."""
        try:
            found = os.stat(self.out / entry.file)
        except OSError:
            return False
        return stat.S_ISREG(found.st_mode) and found.st_size == entry.size

    def write(self, name: str, body: bytes) -> None:
        """Write ``name`` (atomically) unless it already holds ``body``."""
        target = self.out / name
        try:
            if target.is_file() and target.read_bytes() == body:
                self.outcome.setdefault(name, False)
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, body, durable=False)
        except OSError as exc:
            raise UsageError(
                f"Cannot write {name} in {self.out}: {exc.strerror or exc} (two addresses of the site "
                "may need the same name as a file and a folder)."
            ) from exc
        self.outcome[name] = True

    def remove(self, names: Iterable[str]) -> int:
        """Remove these files (and folders they leave empty); how many there were."""
        removed = 0
        for name in sorted(names):
            target = self.out / name
            if target.is_file():
                target.unlink()
                removed += 1
                prune(target.parent, self.out)
        return removed
