"""Refuse answers that are not SODA's: another portal kind's JSON, a list where an object belongs.

A URL that is not a Socrata portal often answers 200 with JSON of its own: an ArcGIS
REST service its service description or ``{"error": {"code": 400, ...}}``, CKAN its
``{"help", "success"}`` envelope. Each other kind's answer recogniser (in the registry of
:mod:`connectors.kinds`) says which. Taken at face value these read as a dataset without
rows, and a pull would write an empty file and succeed. These checks make them a
:class:`~btvstat_open.errors.PortalResponseError` that names the kind to connect with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from btvstat_open.errors import PortalResponseError
from connectors.kinds import KINDS
from connectors.kinds import guess_kind as any_kind
from connectors.socrata.kind import KIND

__all__ = ["guess_kind", "not_soda", "rows_or_refuse", "view_or_refuse"]


def guess_kind(body: Any) -> str | None:
    """The other portal kind a JSON answer looks like it came from (by the registry's recognisers), or None.

    Example:
        >>> guess_kind({"currentVersion": 10.8, "layers": []}), guess_kind({"error": {"code": 400}})
        ('arcgis', 'arcgis')
        >>> guess_kind({"help": "...", "success": False}), guess_kind({"version": 3}), guess_kind([1, 2])
        ('ckan', 'ckan', None)
    """
    return any_kind(body, among=[name for name in KINDS if name != KIND.name])


def _shape(body: Any) -> str:
    if isinstance(body, list):
        return f"a list of {len(body)} item(s)"
    if isinstance(body, Mapping):
        return "an object with keys " + ", ".join(sorted(map(str, body))[:6]) if body else "an empty object"
    return f"a {type(body).__name__}"


def not_soda(body: Any, what: str, url: str, expected: str) -> PortalResponseError:
    """The error for an answer that is not SODA's, naming the kind it looks like.

    Example:
        >>> str(not_soda({"currentVersion": 10.8}, "GET /api/views/0.json", "https://gis.example.gov", "x"))
        ... # doctest: +NORMALIZE_WHITESPACE
        "GET /api/views/0.json: https://gis.example.gov answered like an ArcGIS REST service, not a
        Socrata portal; connect with kind='arcgis' (HTTP 200, response.not-soda)"
    """
    kind = guess_kind(body)
    if kind is not None:
        label = KINDS[kind].label
        article = "an" if label[:1].lower() in "aeiou" else "a"
        message = (
            f"{what}: {url} answered like {article} {label}, not a {KIND.label}; connect with kind={kind!r}"
        )
    else:
        message = (
            f"{what}: {url} answered {_shape(body)} where a Socrata portal answers {expected}; "
            "check that the URL is the portal's address (e.g. https://data.example.gov) and the dataset id"
        )
    return PortalResponseError(message, status=200, code="response.not-soda", data={"kind": kind})


def view_or_refuse(body: Any, what: str, url: str) -> Mapping[str, Any]:
    """An ``/api/views`` answer when it is a Socrata dataset object, else :func:`not_soda`.

    Example:
        >>> view_or_refuse({"id": "abcd-1234", "name": "N", "columns": []}, "GET v", "u")["id"]
        'abcd-1234'
    """
    if isinstance(body, Mapping) and "id" in body and guess_kind(body) is None:
        return body
    raise not_soda(body, what, url, "a dataset object")


def rows_or_refuse(body: Any, what: str, url: str) -> list[Any]:
    """A page of rows: SODA 2's list, or SODA 3's object holding one; else :func:`not_soda`.

    Example:
        >>> rows_or_refuse([{"a": "1"}], "GET r", "u"), rows_or_refuse({"rows": []}, "GET r", "u")
        ([{'a': '1'}], [])
    """
    if isinstance(body, Mapping) and guess_kind(body) is None:
        for key in ("rows", "results", "data"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if isinstance(body, list) and all(isinstance(row, Mapping) for row in body[:1]):
        return body
    raise not_soda(body, what, url, "a list of rows")
