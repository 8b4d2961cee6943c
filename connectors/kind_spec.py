"""What the registry of portal kinds knows about one kind: :class:`KindSpec`.

Each kind's package states its own facts as one ``KIND = KindSpec(...)`` (in its ``kind``
module, which imports nothing heavy), and :mod:`connectors.kinds` lists them in order. The
command line, the catalog's models, the widgets' provenance line, partitioned pulls, the
Socrata connector's refusals and :func:`connectors.connect` all read that registry.

Example:
    >>> from connectors.kinds import KINDS
    >>> spec = KINDS["ckan"]
    >>> spec.label, spec.soql, spec.source_page("https://demo.ckan.org/", "trees")
    ('CKAN site', False, 'https://demo.ckan.org/dataset/trees')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

__all__ = ["KindSpec", "web_parts"]


def web_parts(url: str) -> SplitResult | None:
    """An ``http(s)`` URL's parts, or None for any other URL (a path, ``s3://``...).

    Example:
        >>> web_parts("https://gis.example.gov/arcgis/rest/services").path, web_parts("data/") is None
        ('/arcgis/rest/services', True)
    """
    parts = urlsplit((url or "").strip())
    return parts if parts.scheme.lower() in ("http", "https") else None


def _never(_: Any) -> bool:
    return False


@dataclass(frozen=True)
class KindSpec:
    """One portal kind: its name, label, recognisers, connector and options, source page, SoQL or not.

    * ``name``: what ``--kind``, ``kind:`` in ``catalog.yaml`` and ``connect(kind=...)`` say.
    * ``label``: what a page calls a portal of this kind (``CKAN site``).
    * ``target``: the connector class as ``module:Class``, imported only when the kind is used.
    * ``summary``: one line on what the kind reaches, for messages.
    * ``url``: whether a URL's shape alone shows this kind (no request).
    * ``answer``: whether a JSON answer (a probe's, or one a Socrata request got) is this kind's.
    * ``probe``: the path :func:`~connectors.kinds.detect_kind` appends to a site URL to ask it
      (None: never asked); ``probe_rank`` orders the questions (lower asked first).
    * ``options``: the keyword options its connector takes (see :mod:`connectors.options`), and
      ``credential`` the one among them a site's key (``app_token``) goes to.
    * ``page``: the dataset's page on a portal of this kind (``{url}`` and ``{dataset}``
      filled in), or None when there is none a reader can open (files).
    * ``soql``: whether pulls take SoQL ``$where`` windows and grouped counts (partitioned pulls).
    """

    name: str
    label: str
    target: str
    summary: str
    url: Callable[[str], bool]
    answer: Callable[[Any], bool] = _never
    probe: str | None = None
    probe_rank: int = 0
    options: frozenset[str] = frozenset()
    credential: str | None = None
    page: str | None = None
    soql: bool = False

    @property
    def module(self) -> str:
        """The module that holds the connector class."""
        return self.target.split(":")[0]

    def source_page(self, url: str, dataset: str) -> str | None:
        """The dataset's own page on a portal of this kind at ``url`` (None: it has none)."""
        if self.page is None:
            return None
        return self.page.format(url=url.rstrip("/"), dataset=quote(dataset, safe=""))

    def recognizes(self, url: str, first_answer: Any = None) -> bool:
        """Whether ``url``'s shape, or the JSON it answered first, is this kind's."""
        return self.url(url) or (first_answer is not None and self.answer(first_answer))
