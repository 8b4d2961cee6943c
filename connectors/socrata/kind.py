"""The ``socrata`` kind: Socrata portals (SODA 2.1 and 3), and btvstat-open's own local portal.

A bare ``http(s)`` site is Socrata by default, so no URL shape is Socrata's alone; its
discovery API answers ``{"results": [...], "resultSetSize": N}``.

Example:
    >>> KIND.answer({"results": [], "resultSetSize": 0}), KIND.url("https://data.kcmo.org")
    (True, False)
"""

from __future__ import annotations

from typing import Any

from connectors.kind_spec import KindSpec

__all__ = ["KIND"]


def _answer(body: Any) -> bool:
    return isinstance(body, dict) and "results" in body and "resultSetSize" in body


def _url(url: str) -> bool:
    return False


KIND = KindSpec(
    name="socrata",
    label="Socrata portal",
    target="connectors.socrata:SocrataConnector",
    summary="Socrata (SODA 2.1 and 3) portals, and btvstat-open's own local portal",
    url=_url,
    answer=_answer,
    probe="/api/catalog/v1?limit=1",
    probe_rank=9,  # asked last: every other kind's answer is more specific
    options=frozenset(
        {
            *("app_token", "username", "password", "api_key_id", "api_key_secret", "oauth_token"),
            *("session", "timeout", "retries", "backoff", "max_wait"),
            *("page_size", "concurrency", "api", "push_batch_size", "page_format"),
        }
    ),
    credential="app_token",
    page="{url}/d/{dataset}",
    soql=True,
)
