"""The registry of portal kinds (:data:`KINDS`), and which kind speaks to a URL, by its shape or
by the server's first answer.

Each kind's package states its facts in its ``kind`` module (a :class:`KindSpec`: name, label,
how its URLs and answers look, its connector, its source page, whether it speaks SoQL); the
registry lists them in order. Everything that knows kinds reads it: the command line's
``--kind``, ``kind:`` in ``catalog.yaml``, the widgets' provenance line, partitioned pulls, the
Socrata connector's refusals of other kinds' answers, and :func:`connectors.connect`. The
connector class is named by an import string, so a kind's connector (and its dependencies) is
imported only when the kind is used, and one that is missing is a clear error then.

Shape rules (no request): a path, ``file://`` or another fsspec URL (``s3://``, ``memory://``)
is ``file``; an ``http(s)`` URL with ``/rest/services/`` or ending in ``FeatureServer`` or
``MapServer`` (or an ArcGIS Hub host) is ``arcgis``; ``/api/3/action`` is ``ckan``;
``/api/explore/`` or ``/explore/dataset`` is ``opendatasoft``. Any other ``http(s)`` site is
``socrata`` unless the caller asks the server (:func:`detect_kind` with a session,
``connect(url, kind="auto")``, ``--kind auto``), which reads each kind's first answer in turn.

Example:
    >>> [kind_from_url(u) for u in ("data/", "s3://bucket/x", "https://d.gov/api/3/action/x")]
    ['file', 'file', 'ckan']
    >>> kind_from_url("https://gis.example.gov/arcgis/rest/services/Trees/FeatureServer")
    'arcgis'
    >>> kind_from_url("https://data.example.gov") is None
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from btvstat_open.errors import BtvstatError, UsageError
from connectors.arcgis.kind import KIND as ARCGIS
from connectors.ckan.kind import KIND as CKAN
from connectors.files.kind import KIND as FILE
from connectors.kind_spec import KindSpec
from connectors.opendatasoft.kind import KIND as OPENDATASOFT
from connectors.socrata.kind import KIND as SOCRATA

if TYPE_CHECKING:
    import requests

    from connectors.base import Connector

__all__ = [
    "DEFAULT_KIND",
    "KINDS",
    "KindSpec",
    "detect_kind",
    "guess_kind",
    "kind_class",
    "kind_from_url",
    "kind_names",
    "spec_of",
]

#: How long one probe of ``detect_kind`` waits for an answer (seconds).
PROBE_TIMEOUT = 10.0

#: Every portal kind, in the order messages list them and URL shapes are tried. A new kind is its
#: package (with a ``kind`` module stating its :class:`KindSpec`) and one entry here.
KINDS: dict[str, KindSpec] = {k.name: k for k in (SOCRATA, ARCGIS, CKAN, OPENDATASOFT, FILE)}
#: The kind of a bare ``http(s)`` site when no one asks it.
DEFAULT_KIND = SOCRATA.name


def kind_names() -> str:
    """The kinds, as a message lists them.

    Example:
        >>> kind_names()
        'socrata, arcgis, ckan, opendatasoft, file'
    """
    return ", ".join(KINDS)


def spec_of(name: str) -> KindSpec:
    """The registry's entry for a kind; an unknown one is a :class:`UsageError` listing the kinds.

    Example:
        >>> spec_of("arcgis").label
        'ArcGIS REST service'
    """
    spec = KINDS.get(name)
    if spec is None:
        raise UsageError(f"Unknown portal kind {name!r}: use one of {kind_names()} (or auto).")
    return spec


def kind_class(name: str) -> type[Connector]:
    """The connector class of a kind; a kind whose module is missing is a clear :class:`UsageError`.

    Example:
        >>> kind_class("file").__name__
        'FileConnector'
        >>> kind_class("gopher")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: Unknown portal kind 'gopher': use one of socrata, ... (or auto).
    """
    spec = spec_of(name)
    module_name, class_name = spec.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise  # a dependency of the connector is missing: its own message says which
        raise UsageError(
            f"kind {name!r} is not installed: this btvstat-open has no {module_name} ({spec.summary}). "
            f"Upgrade btvstat-open, or use one of the installed kinds ({kind_names()})."
        ) from exc
    return cast("type[Connector]", getattr(module, class_name))


def kind_from_url(url: str) -> str | None:
    """The kind a URL's shape shows, or None for a bare ``http(s)`` site (no request is made).

    A scheme that is neither ``http(s)`` nor an fsspec protocol is a :class:`UsageError`.
    """
    text = url.strip()
    for spec in KINDS.values():
        if spec.url(text):
            return spec.name
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        return None
    raise UsageError(
        f"Cannot connect to {url!r}: {scheme}:// is no portal kind. Give an http(s):// portal URL, a "
        f"folder, or an fsspec URL (file://, s3://, memory://); kinds: {kind_names()}."
    )


def guess_kind(body: Any, among: Iterable[str] | None = None) -> str | None:
    """The kind a JSON answer looks like it came from (the first of ``among`` that says so), or None.

    Example:
        >>> guess_kind({"currentVersion": 10.8, "layers": []}), guess_kind({"version": 3})
        ('arcgis', 'ckan')
        >>> guess_kind([1, 2]) is None
        True
    """
    for name in KINDS if among is None else among:
        if KINDS[name].answer(body):
            return name
    return None


def _probed() -> list[KindSpec]:
    """The kinds a server is asked about, in the order asked."""
    return sorted((k for k in KINDS.values() if k.probe is not None), key=lambda k: k.probe_rank)


def _first_answer(session: requests.Session, url: str) -> Any:
    import requests  # here: the registry is read without loading an HTTP client

    from connectors import transport  # bounded: capped body, total deadline, redirects checked

    try:
        response = transport.send(
            session, "GET", url, headers={"Accept": "application/json"}, timeout=PROBE_TIMEOUT
        )
    except (requests.RequestException, BtvstatError):
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def detect_kind(url: str, session: requests.Session | None = None) -> str:
    """The kind of portal at ``url``: by its shape, else (with a ``session``) by asking the server.

    Without a session a bare ``http(s)`` site is ``socrata`` (no request). With one, each
    kind's first question is asked in turn (Opendatasoft ``/api/explore/v2.1/catalog/datasets``,
    CKAN ``/api/3/action/package_search``, ArcGIS ``?f=json``, Socrata ``/api/catalog/v1``), each
    asking for as little as it can, and the first kind that recognises its answer wins; none is a
    :class:`UsageError` listing the kinds.

    Example:
        >>> detect_kind("memory://exports")
        'file'
        >>> detect_kind("https://data.example.gov")
        'socrata'
    """
    shaped = kind_from_url(url)
    if shaped is not None:
        return shaped
    if session is None:
        return DEFAULT_KIND
    base = url.strip().rstrip("/")
    asked = _probed()
    for spec in asked:
        assert spec.probe is not None
        body = _first_answer(session, base + spec.probe)
        if body is not None and spec.answer(body):
            return spec.name
    questions = ", ".join(k.name for k in asked)
    raise UsageError(
        f"{url} answers none of the portal kinds' questions ({questions}). Check the URL, "
        f"or name the kind with --kind ({kind_names()})."
    )
