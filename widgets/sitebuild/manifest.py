"""The build manifest (``DIR/.build-manifest.json``): what each URL was built from, for the next build.

Per URL: its file, the bytes' digest and size, the datasets (and their versions) it was built
from, and the site paths it links to. With it, the next build renders again only the URLs
whose datasets changed; the rest keep their files and their links (a page kept is still walked,
so what it links to stays on the site). The build's inputs that every page depends on (the
code, the catalog, the as-of day, the site's address) are one fingerprint: when it changes,
everything is rendered again (and still only changed bytes are written).

Example:
    >>> entry = Entry("kpi/a.svg", "ab12", 10, {"ds": "3"}, [])
    >>> entry.fresh({"ds": "3", "other": "9"}), entry.fresh({"ds": "4"})
    (True, False)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import btvstat_open
import catalog
import connectors
import widgets
from btvstat_open.atomic import write_atomically
from btvstat_open.errors import UsageError

__all__ = ["ALL_DATASETS", "MANIFEST", "Entry", "Manifest", "code_fingerprint"]

MANIFEST = ".build-manifest.json"
ALL_DATASETS = "*"  # an answer that may show any dataset (its version: every dataset's)
_FORMAT = 2


@dataclass
class Entry:
    """One URL as built: its file, digest, size, the dataset versions it shows, its links."""

    file: str
    sha256: str
    size: int
    deps: dict[str, str]
    links: list[str]
    #: which of the manifest's header sets the server sent with it (see widgets.sitebuild.headers)
    security: str = ""

    def fresh(self, versions: Mapping[str, str]) -> bool:
        """Whether every dataset it was built from has the version it had then."""
        return all(versions.get(dataset, "-1") == version for dataset, version in self.deps.items())


@dataclass
class Manifest:
    """The fingerprint of the inputs every page shares, and each URL's :class:`Entry`."""

    inputs: dict[str, str]
    urls: dict[str, Entry] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)  # robots.txt, sitemap.xml, 404.html: digests
    #: addresses the server had no page for (a route filled with an id that has none), with what
    #: that answer read: asked again only when that changed
    absent: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the security headers of the answers, each set once under its digest
    security: dict[str, dict[str, str]] = field(default_factory=dict)

    def files(self) -> set[str]:
        """Every file this build wrote (pages, downloads and the extras)."""
        return {entry.file for entry in self.urls.values()} | set(self.extras)

    def save(self, out: Path) -> None:
        """Write the manifest into ``out`` (whole or not at all)."""
        document = {
            "format": _FORMAT,
            "inputs": self.inputs,
            "extras": dict(sorted(self.extras.items())),
            "absent": dict(sorted(self.absent.items())),
            "security": dict(sorted(self.security.items())),
            "urls": {url: vars(entry) for url, entry in sorted(self.urls.items())},  # asdict: deep copies
        }
        write_atomically(out / MANIFEST, json.dumps(document, indent=1, sort_keys=True) + "\n", durable=False)

    @classmethod
    def load(cls, out: Path) -> Manifest | None:
        """The manifest of the build in ``out``, or None when there is none (or an older format)."""
        try:
            document: dict[str, Any] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"{out / MANIFEST} is not a site build's manifest ({exc}); delete the folder's contents "
                "or choose another folder."
            ) from exc
        if document.get("format") != _FORMAT:
            return None
        urls = {url: Entry(**entry) for url, entry in document.get("urls", {}).items()}
        extras, absent = dict(document.get("extras", {})), dict(document.get("absent", {}))
        security = dict(document.get("security", {}))
        return cls(dict(document.get("inputs", {})), urls, extras, absent, security)


def code_fingerprint() -> str:
    """A digest of the product's own files (code, templates, scripts, styles, message catalogs):
    a new release or a changed template renders every page again."""
    digest = hashlib.sha256()
    for package in (btvstat_open, catalog, connectors, widgets):
        root = Path(package.__file__ or "").parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(root.parent)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
                )
    return digest.hexdigest()[:32]
