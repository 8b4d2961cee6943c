"""Portal kinds: which connector speaks to a URL, by its shape or by the server's first answer.

Each kind names its connector class by an import string, so a kind whose package is not
installed (or not written yet) is a clear error when it is used, never when another is.

Shape rules (no request): a path, ``file://`` or another fsspec URL (``s3://``, ``memory://``)
is ``file``; an ``http(s)`` URL with ``/rest/services/`` or ending in ``FeatureServer`` or
``MapServer`` is ``arcgis``; ``/api/3/action`` is ``ckan``; ``/api/explore/`` or
``/explore/dataset`` is ``opendatasoft``. Any other ``http(s)`` site is ``socrata`` unless the
caller asks the server (:func:`detect_kind` with a session, ``connect(url, kind="auto")``,
``--kind auto``), which reads each kind's first answer in turn.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import requests

from btvstat_open.errors import BtvstatError, UsageError

if TYPE_CHECKING:
    from connectors.base import Connector

__all__ = ["KINDS", "KindSpec", "detect_kind", "kind_class", "kind_from_url", "kind_names"]

#: How long one probe of ``detect_kind`` waits for an answer (seconds).
PROBE_TIMEOUT = 10.0


def _is_arcgis(body: Any) -> bool:
    return isinstance(body, dict) and ("currentVersion" in body or "geometryType" in body)


def _is_ckan(body: Any) -> bool:
    return isinstance(body, dict) and body.get("success") is True and "result" in body


def _is_opendatasoft(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    links = body.get("links")
    if isinstance(links, list):
        return any("/api/explore/" in str(link.get("href", "")) for link in links if isinstance(link, dict))
    return "total_count" in body and "results" in body


def _is_socrata(body: Any) -> bool:
    return isinstance(body, dict) and "results" in body and "resultSetSize" in body


@dataclass(frozen=True)
class KindSpec:
    """One portal kind: its connector (``module:Class``), the probe that asks a server, what it is.

    ``probe`` is appended to the site URL for :func:`detect_kind`'s question (None: never
    probed); ``answers`` says whether a JSON answer is this kind's (a kind's module may offer
    a ``recognizes(url, first_answer)`` of its own, which is preferred).

    Example:
        >>> KINDS["ckan"].module, KINDS["ckan"].probe
        ('connectors.ckan', '/api/3/action/package_search?rows=0')
    """

    name: str
    target: str
    summary: str
    probe: str | None = None
    answers: Callable[[Any], bool] | None = None

    @property
    def module(self) -> str:
        """The module that holds the connector class."""
        return self.target.split(":")[0]


KINDS: dict[str, KindSpec] = {
    k.name: k
    for k in (
        KindSpec(
            "socrata",
            "connectors.socrata:SocrataConnector",
            "Socrata (SODA 2.1 and 3) portals, and btvstat-open's own local portal",
            "/api/catalog/v1?limit=1",
            _is_socrata,
        ),
        KindSpec(
            "arcgis",
            "connectors.arcgis:ArcgisConnector",
            "an ArcGIS REST FeatureServer or MapServer",
            "?f=json",
            _is_arcgis,
        ),
        KindSpec(
            "ckan",
            "connectors.ckan:CkanConnector",
            "a CKAN site (Action API, DataStore)",
            "/api/3/action/package_search?rows=0",
            _is_ckan,
        ),
        KindSpec(
            "opendatasoft",
            "connectors.opendatasoft:OpendatasoftConnector",
            "an Opendatasoft site (Explore API v2.1)",
            "/api/explore/v2.1/catalog/datasets?limit=0",
            _is_opendatasoft,
        ),
        KindSpec(
            "file",
            "connectors.files:FileConnector",
            "CSV, Excel .xlsx and Parquet files in a folder or under an fsspec URL",
        ),
    )
}

# Asked in this order by detect_kind: the most specific answers first, Socrata last.
_PROBE_ORDER = ("opendatasoft", "ckan", "arcgis", "socrata")


def kind_names() -> str:
    """The kinds, as a message lists them.

    Example:
        >>> kind_names()
        'socrata, arcgis, ckan, opendatasoft, file'
    """
    return ", ".join(KINDS)


def _spec(name: str) -> KindSpec:
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
    spec = _spec(name)
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
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        path = parts.path.rstrip("/")
        if "/rest/services" in path.lower() or path.endswith(("FeatureServer", "MapServer")):
            return "arcgis"
        if "/api/3/action" in path or "/api/action" in path:
            return "ckan"
        if "/api/explore/" in path + "/" or "/explore/dataset" in path:
            return "opendatasoft"
        # An installed kind may know more shapes (an ArcGIS Hub host): ask it, without a request.
        for name in ("arcgis", "ckan", "opendatasoft"):
            own = _own_recognizer(KINDS[name])
            if own is not None and own(text, None):
                return name
        return None
    # "C:\\data" parses with scheme "c": one letter is a Windows drive, not a protocol.
    if not scheme or len(scheme) == 1 or scheme == "file" or _is_fsspec_protocol(scheme):
        return "file"
    raise UsageError(
        f"Cannot connect to {url!r}: {scheme}:// is no portal kind. Give an http(s):// portal URL, a "
        f"folder, or an fsspec URL (file://, s3://, memory://); kinds: {kind_names()}."
    )


def _is_fsspec_protocol(scheme: str) -> bool:
    from fsspec.registry import known_implementations, registry

    return scheme in known_implementations or scheme in registry


def _own_recognizer(spec: KindSpec) -> Callable[[str, Any], bool] | None:
    """The kind package's ``recognizes(url, first_answer)``, when the package is installed."""
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError:
        return None
    own = getattr(module, "recognizes", None)
    return cast("Callable[[str, Any], bool]", own) if callable(own) else None


def _recognizes(spec: KindSpec, url: str, body: Any) -> bool:
    own = _own_recognizer(spec)
    if own is not None:
        return bool(own(url, body))
    return spec.answers is not None and spec.answers(body)


def _first_answer(session: requests.Session, url: str) -> Any:
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
        return "socrata"
    base = url.strip().rstrip("/")
    for name in _PROBE_ORDER:
        spec = KINDS[name]
        assert spec.probe is not None
        body = _first_answer(session, base + spec.probe)
        if body is not None and _recognizes(spec, base, body):
            return name
    raise UsageError(
        f"{url} answers none of the portal kinds' questions ({', '.join(_PROBE_ORDER)}). Check the URL, "
        f"or name the kind with --kind ({kind_names()})."
    )
