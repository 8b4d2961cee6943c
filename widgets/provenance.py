"""Where a KPI's data comes from, as its page says it: the dataset, the portal, and a link to the source.

A dataset on a remote portal links to its page there (each kind's label and source page are in
the registry of :mod:`connectors.kinds`); a dataset from a ``file`` portal (or the
site's own store) links to this site's download of the local copy, since a folder on the server
is no address a reader can open.

Example:
    >>> from catalog.demo import DEMO_DIR
    >>> from catalog import load_catalog
    >>> demo = load_catalog(DEMO_DIR)
    >>> p = provenance(demo.get("trees-planted-yearly"), demo.settings, "planting-sites.csv")
    >>> p.portal, p.kind, p.link
    ('Burlington, VT open data (Opendatasoft CSV exports)', 'files', '/datasets/planting-sites.csv')
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from btvstat_open.i18n import _
from catalog.models import CatalogSettings, Kpi
from connectors.kinds import KINDS

__all__ = ["Provenance", "provenance"]


@dataclass(frozen=True)
class Provenance:
    """What the page shows: ``Data: <dataset> from <portal> (<kind>), <link_text>`` linked to ``link``.

    Example:
        >>> Provenance("trees.csv", "Parks exports", "files", "/datasets/trees.csv", "download").kind
        'files'
    """

    dataset: str
    portal: str
    kind: str
    link: str
    link_text: str
    download: bool = False


def provenance(kpi: Kpi, settings: CatalogSettings, dataset_name: str) -> Provenance:
    """Where ``kpi``'s rows come from (``dataset_name``: the store's name for its dataset)."""
    dataset, key = kpi.source.dataset, kpi.source.portal
    local = f"/datasets/{quote(dataset, safe='')}.csv"
    portal = settings.portals.get(key)
    if portal is None:  # `local`: loaded into this site's store
        return Provenance(
            dataset_name, _("this site's store"), _("loaded here"), local, _("download as CSV"), True
        )
    title, kind = portal.title or key, KINDS[portal.kind]
    link = kind.source_page(portal.url, dataset)
    if link is None:  # files: a folder on the server is no address a reader can open
        text = _("download the local copy of %(dataset)s") % {"dataset": dataset_name}
        return Provenance(dataset_name, title, kind.label, local, text, True)
    return Provenance(dataset_name, title, kind.label, link, link)
