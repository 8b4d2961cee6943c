"""A loaded, validated catalog and the version that caches key on.

Example:
    >>> from catalog.models.catalog_yaml import CatalogSettings
    >>> Catalog(Path("."), CatalogSettings(), {}).meetings
    {}
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from btvstat_open.errors import KpiNotFound
from catalog.models.catalog_yaml import CatalogSettings
from catalog.models.kpi import Kpi
from catalog.models.meeting import Meeting
from catalog.models.story import Story
from catalog.models.texts import Translations

__all__ = ["Catalog", "content_version"]


@dataclass(frozen=True)
class Catalog:
    """A loaded, validated catalog.

    ``kpis`` keeps file order (sorted by path); ``files`` maps each KPI id to its YAML file;
    ``version`` is a hash of every catalog file's content, so caches can key on it; ``warnings``
    lists ``(file, line, message)`` for keys that are valid but ignored (e.g. ``percentile`` on a
    median); ``meetings`` holds the files under ``meetings/`` by meeting id (``meeting_files``: their
    paths).
    """

    root: Path
    settings: CatalogSettings
    kpis: dict[str, Kpi]
    files: dict[str, Path] = field(default_factory=dict)
    version: str = ""
    warnings: list[tuple[str, int | None, str]] = field(default_factory=list)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    meeting_files: dict[str, Path] = field(default_factory=dict)
    #: the stories under ``stories/`` by id (their file names; catalog.stories), and their paths
    stories: dict[str, Story] = field(default_factory=dict)
    story_files: dict[str, Path] = field(default_factory=dict)
    #: every text a reader sees with its translations (catalog.translations); ``locale`` is the
    #: language the models' text is in, ``fallbacks`` the keys of texts shown in the default
    #: language for want of a translation (catalog.localized), ``localized`` that view's cache
    translations: Translations = field(default_factory=Translations)
    locale: str = ""
    fallbacks: frozenset[str] = frozenset()
    localized: dict[str, Catalog] = field(default_factory=dict, init=False, compare=False, repr=False)

    def get(self, kpi_id: str) -> Kpi:
        """The KPI with this id; raises :class:`~btvstat_open.errors.KpiNotFound`.

        Example:
            >>> Catalog(Path("."), CatalogSettings(), {}).get("nope")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            btvstat_open.errors.KpiNotFound: No KPI 'nope' in the catalog ...
        """
        try:
            return self.kpis[kpi_id]
        except KeyError:
            known = ", ".join(sorted(self.kpis)[:10]) or "none"
            raise KpiNotFound(
                f"No KPI {kpi_id!r} in the catalog at {self.root}. Known ids: {known}.",
                data={"id": kpi_id},
            ) from None

    def datasets(self) -> dict[tuple[str, str], list[str]]:
        """Every ``(portal, dataset)`` the catalog uses, with the ids of the KPIs using it."""
        used: dict[tuple[str, str], list[str]] = {}
        for kpi in self.kpis.values():
            used.setdefault((kpi.source.portal, kpi.source.dataset), []).append(kpi.id)
        return used


def content_version(files: list[Path], root: Path) -> str:
    """A short hash over file names and contents (stable across machines)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
