"""Connectors to open-data portals: pull datasets as Arrow, Parquet or CSV; publish rows.

Example:
    >>> from connectors import connect
    >>> portal = connect(portal_url)  # or connect("https://data.example.gov", app_token="...")
    >>> portal.pull_to("kc-311-potholes", scratch / "out.parquet").rows
    4493
    >>> connect("catalog/demo/data/burlington", kind="file").kind
    'file'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors import kinds as _kinds
from connectors.base import Connector, DatasetDescription, DatasetSummary, PullResult, PushResult
from connectors.kinds import detect_kind
from connectors.options import ConnectOptions

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

__all__ = [
    "ConnectOptions",
    "Connector",
    "DatasetDescription",
    "DatasetSummary",
    "PullResult",
    "PushResult",
    "connect",
    "detect_kind",
    "resolve_kind",
]


def connect(
    url: str,
    kind: str | None = None,
    *,
    options: ConnectOptions | None = None,
    flags: Mapping[str, str] | None = None,
    **given: Any,
) -> Connector:
    """The connector for a portal URL, a folder or an fsspec URL (see :mod:`connectors.kinds`).

    ``kind`` forces one (``socrata``, ``arcgis``, ``ckan``, ``opendatasoft``, ``file``), or
    ``auto`` asks the server which it is. Without it, the URL's shape decides: a path or
    fsspec URL is ``file``, ``…/rest/services/…`` is ``arcgis``, ``…/api/3/action`` is
    ``ckan``, ``…/api/explore/…`` is ``opendatasoft``, any other ``http(s)`` site ``socrata``.

    Options (checked once, :mod:`connectors.options`): ``app_token`` (the key a portal gave you,
    whatever its kind calls it), ``timeout`` (seconds), ``retries``, ``backoff``, ``max_wait``,
    ``session`` (a ``requests.Session`` of your own: proxies, certificates, a cache; it is used
    as it is and left open), and each kind's own: Socrata ``username``/``password``,
    ``api_key_id``/``api_key_secret``, ``oauth_token``, ``page_size``, ``concurrency``, ``api``
    (``auto``, ``soda2``, ``soda3``); files: see :class:`connectors.files.FileConnector`. An
    option the kind does not take is a :class:`~btvstat_open.errors.UsageError` naming it
    (``flags`` names options as a command line spells them). ``options`` gives them already
    sorted, as a :class:`~connectors.options.ConnectOptions`.

    Example:
        >>> connect("http://127.0.0.1:8000")
        SocrataConnector('http://127.0.0.1:8000', Credentials(), api='auto')
        >>> connect("memory://exports").kind
        'file'
        >>> connect("gopher://x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: Cannot connect to 'gopher://x': gopher:// is no portal kind. ...
        >>> connect("https://gis.example.gov/arcgis/rest/services/Trees/FeatureServer", sheet="S")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: sheet does not apply to arcgis sources (ArcGIS REST service), ...
    """
    sorted_options = ConnectOptions.parse(given) if options is None else options.merged(given)
    text = (url or "").strip()
    name = resolve_kind(text, kind, session=sorted_options.http.get("session"))
    keywords = sorted_options.keywords(_kinds.spec_of(name), flags)
    connector: Any = _kinds.kind_class(name)  # each kind's constructor takes its own options
    made: Connector = connector(text, **keywords)
    return made


def resolve_kind(url: str, kind: str | None = None, *, session: requests.Session | None = None) -> str:
    """The kind ``connect(url, kind)`` uses: ``kind``, the server's answer for ``auto``, else the URL's.

    Example:
        >>> resolve_kind("exports/"), resolve_kind("https://data.example.gov", "ckan")
        ('file', 'ckan')
    """
    from btvstat_open.errors import UsageError  # here, so the package's namespace is its API alone

    text = (url or "").strip()
    if not text:
        raise UsageError(f"Cannot connect to {url!r}: give a portal URL, a folder or an fsspec URL.")
    if kind == "auto":
        if session is not None:  # the caller's own (proxies, certificates): asked as it is
            return detect_kind(text, session)
        from connectors.transport import new_session

        with new_session() as own:
            return detect_kind(text, own)
    return kind or detect_kind(text)
