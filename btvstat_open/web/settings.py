"""Every setting of the local portal, in one place.

Each field has a default, an environment variable (``BTVSTAT_<FIELD NAME IN CAPITALS>``)
and a line in ``docs/settings.md``. Secrets never appear in ``repr``.

Example:
    >>> Settings().default_limit
    1000
    >>> "s3cret" in repr(Settings(write_token="s3cret"))
    False
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from btvstat_open.errors import UsageError

__all__ = ["Settings"]

_PREFIX = "BTVSTAT_"
_POSITIVE = (
    "default_limit",
    "max_body_bytes",
    "max_write_rows",
    "batch_size",
    "query_timeout_seconds",
    "export_timeout_seconds",
    "max_columns",
    "max_response_bytes",
    "query_workers",
    "render_workers",
    "pool_wait_seconds",
    "http_header_timeout_seconds",
    "http_body_timeout_seconds",
    "http_keep_alive_seconds",
    "http_max_connections",
    "session_idle_minutes",
    "session_hours",
    "signin_attempts",
    # the server's page and packet pools and its response cache
    "page_workers",
    "packet_workers",
    "response_cache_bytes",
)


@dataclass(frozen=True)
class Settings:
    """Settings of the local SODA-compatible portal (see ``docs/settings.md``)."""

    #: rows a read returns when it gives no ``$limit`` (Socrata's default)
    default_limit: int = 1000
    #: the largest ``$limit`` a read may ask for (more is a 400); 0: no cap, as on Socrata
    max_limit: int = 0
    #: the largest write body accepted, in bytes; more is a 413
    max_body_bytes: int = 64 * 1024 * 1024
    #: the largest number of rows one write may carry; more is a 413
    max_write_rows: int = 500_000
    #: rows per Arrow batch when streaming responses and exports
    batch_size: int = 65_536
    #: worker time one SoQL read may use, in seconds; more is a 400 and the query is interrupted
    query_timeout_seconds: int = 30
    #: worker time one full export (``rows.csv``, ``export.csv``, ``/datasets/...``) may use, in seconds
    export_timeout_seconds: int = 600
    #: output columns one read may ask for (at least the dataset's own columns); more is a 400
    max_columns: int = 200
    #: bytes one SoQL read may answer; a response that grows past it is a 400 or is cut off
    max_response_bytes: int = 1024 * 1024 * 1024
    #: worker threads for SoQL reads and exports
    query_workers: int = 4
    #: SoQL reads and exports admitted to wait for a query worker; more are a 503
    query_queue: int = 16
    #: worker threads for chart renders (``.svg``, ``.png``)
    render_workers: int = 2
    #: renders admitted to wait for a render worker; more are a 503
    render_queue: int = 8
    #: seconds an admitted request waits for a worker before it is a 503 (also its ``Retry-After``)
    pool_wait_seconds: int = 10
    #: worker threads building program pages (dashboard, goals, departments, meetings) not cached
    page_workers: int = 2
    #: page builds admitted to wait for a page worker; more are a 503
    page_queue: int = 16
    #: worker threads building meeting packets, and processes laying out their PDFs
    packet_workers: int = 2
    #: packet builds admitted to wait for a packet worker; more are a 503
    packet_queue: int = 8
    #: bytes the server's cache of built responses holds at most (least recently used go first)
    response_cache_bytes: int = 256 * 1024 * 1024
    #: whether the server warms its chart renderer and its first PDF process up as it starts
    warm_up: bool = True
    #: the folder whole-dataset downloads are written to (default: the system's temporary folder)
    downloads_dir: str | None = None
    #: seconds a client has to send a request's headers (from connecting or the previous response)
    http_header_timeout_seconds: int = 10
    #: seconds a client has to send a request's body once its headers are in
    http_body_timeout_seconds: int = 60
    #: seconds an idle keep-alive connection stays open
    http_keep_alive_seconds: int = 5
    #: open connections (and requests in progress) the server takes; more are a 503
    http_max_connections: int = 512
    #: the token every write needs (HTTP Basic password or ``Bearer``); unset: writes are refused
    write_token: str | None = field(default=None, repr=False)
    #: whether SODA 3 routes refuse requests without an ``X-App-Token`` header, as Socrata's do
    soda3_require_app_token: bool = False
    #: ``Cache-Control`` max-age, in seconds, sent with read responses (they also carry ETags)
    cache_max_age: int = 0
    #: entries of the catalog API and ``data.json`` returned when no ``limit`` is given
    catalog_default_limit: int = 100
    #: the domain the portal names itself in catalog results (default: the request's host)
    domain: str | None = None
    #: publisher named in ``data.json``
    publisher: str = "btvstat-open local portal"
    #: title of the ``data.json`` catalog
    catalog_title: str = "Open data"
    #: contact name given for every dataset in ``data.json``
    contact_name: str = "Open data team"
    #: contact e-mail given for every dataset in ``data.json``
    contact_email: str = "opendata@example.gov"
    # -- people: sign-in and sessions (docs/people.md) --
    #: minutes a signed-in session lasts without a request
    session_idle_minutes: int = 30
    #: hours a session lasts at most after sign-in
    session_hours: int = 10
    #: failed sign-ins per account in 15 minutes before further tries wait (x4 per address)
    signin_attempts: int = 5
    #: whether approvers and admins must have a one-time code (TOTP) on their local account
    require_totp: bool = False
    #: the OpenID Connect issuer URL of the city's identity provider (unset: local accounts only)
    oidc_issuer: str | None = None
    #: the client id registered with the identity provider
    oidc_client_id: str | None = None
    #: the client secret (from the environment only: BTVSTAT_OIDC_CLIENT_SECRET)
    oidc_client_secret: str | None = field(default=None, repr=False)
    #: the ID token claim holding the person's groups
    oidc_groups_claim: str = "groups"
    # -- languages (docs/languages.md) --
    #: whether the pseudo-locale ``en-XA`` answers (``/en-XA/`` pages, ``?lang=en-XA``): for tests only
    pseudo_locale: bool = False

    def __post_init__(self) -> None:
        for name in _POSITIVE:
            if getattr(self, name) < 1:
                raise UsageError(f"Setting {name} must be at least 1, not {getattr(self, name)}.")
        for name in ("max_limit", "query_queue", "render_queue", "page_queue", "packet_queue"):
            if getattr(self, name) < 0:
                raise UsageError(f"Setting {name} must be 0 or more, not {getattr(self, name)}.")
        if self.max_limit and self.default_limit > self.max_limit:
            raise UsageError(
                f"Setting default_limit ({self.default_limit}) is above max_limit ({self.max_limit}); "
                "raise BTVSTAT_MAX_LIMIT or lower BTVSTAT_DEFAULT_LIMIT."
            )

    def __repr__(self) -> str:
        parts = [
            f"{f.name}={getattr(self, f.name)!r}" if f.repr else f"{f.name}={self._redacted(f.name)}"
            for f in fields(self)
        ]
        return f"Settings({', '.join(parts)})"

    def _redacted(self, name: str) -> str:
        return "None" if getattr(self, name) is None else "'***'"

    @property
    def writes_enabled(self) -> bool:
        """Whether a write token is configured."""
        return bool(self.write_token)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed.

        Example:
            >>> Settings().replace(max_limit=2000).max_limit
            2000
        """
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``BTVSTAT_*`` environment variables, then ``overrides``.

        Example:
            >>> Settings.from_env({"BTVSTAT_MAX_LIMIT": "20_000"}).max_limit
            20000
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.default, raw)
        values.update(overrides)
        return cls(**values)


def _parse(name: str, default: Any, raw: str) -> Any:
    """Convert one environment value to the type of the field's default."""
    variable = _PREFIX + name.upper()
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise UsageError(f"{variable}={raw!r} is not a boolean; use true or false.")
    if isinstance(default, int):
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise UsageError(f"{variable}={raw!r} is not a whole number.") from None
    return raw
