"""The one door to a connector: the options :func:`connectors.connect`, the command line and the
catalog pass, checked once against the kind they are for.

:class:`HttpOptions` holds what every connector that speaks HTTP takes (``session``, ``timeout``,
``retries``, ``backoff``, ``max_wait``) with the one set of defaults, and each connector's
constructor fills its own from it. :class:`ConnectOptions` is everything ``connect()`` was given,
sorted into credentials, HTTP options and the kind's own (paging, ``sheet``, ``api``...);
:meth:`ConnectOptions.keywords` turns it into the keyword arguments of one kind's connector:

* ``app_token`` is the key a portal gave you, whatever the kind calls it: Socrata's app token,
  ArcGIS's ``token``, CKAN's and Opendatasoft's ``api_key`` (:attr:`KindSpec.credential`);
* an option the kind does not take (a credential, ``sheet`` for a portal, ``token`` for a
  folder) is a :class:`~btvstat_open.errors.UsageError` that names it, never dropped;
* the HTTP options go to every kind that speaks HTTP; a folder of files has none to apply them
  to, so they are left out there (a catalog's sync passes one set to every portal).

Example:
    >>> from connectors.kinds import KINDS
    >>> options = ConnectOptions.parse({"app_token": "t", "retries": 2, "page_size": None})
    >>> options.keywords(KINDS["arcgis"])
    {'retries': 2, 'token': 't'}
    >>> options.keywords(KINDS["file"])  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    btvstat_open.errors.UsageError: app_token does not apply to file sources (files), which take
    base_dir, column_types, date_formats, page_size, sheet, storage_options. Leave it out.
    >>> HttpOptions.of(retries=0).retry.retries, HttpOptions.of().timeout
    (0, 60.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from btvstat_open.errors import UsageError
from connectors.kind_spec import KindSpec
from connectors.retry import RetryPolicy

if TYPE_CHECKING:
    import requests

__all__ = ["CREDENTIALS", "HTTP_OPTIONS", "PAGING", "SITE_KEY", "ConnectOptions", "HttpOptions"]

#: What every connector that speaks HTTP takes.
HTTP_OPTIONS = frozenset({"session", "timeout", "retries", "backoff", "max_wait"})
#: Paging: rows per page and pages in flight, each at least 1.
PAGING = ("page_size", "concurrency")
#: The key a portal gave you, as every kind is given it (each kind names it its own way).
SITE_KEY = "app_token"
#: Every credential a kind may take (Socrata's user and API key, its OAuth token; the site key).
CREDENTIALS = frozenset(
    {SITE_KEY, "token", "api_key", "username", "password", "api_key_id", "api_key_secret", "oauth_token"}
)


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts and retries, with the one set of defaults every connector uses.

    ``timeout`` seconds per request (60), ``retries`` per request (6), the first ``backoff``
    (0.25 s, doubling, jittered) and the longest wait between tries (``max_wait``, 30 s);
    ``session`` a ``requests.Session`` of your own (proxies, certificates), used as it is and
    left open.
    """

    timeout: float = 60.0
    retries: int = 6
    backoff: float = 0.25
    max_wait: float = 30.0
    session: requests.Session | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_wait: float | None = None,
        session: requests.Session | None = None,
    ) -> HttpOptions:
        """The options with each one not given at its default, checked (a bad one names itself)."""
        base = cls()
        made = cls(
            timeout=base.timeout if timeout is None else timeout,
            retries=base.retries if retries is None else retries,
            backoff=base.backoff if backoff is None else backoff,
            max_wait=base.max_wait if max_wait is None else max_wait,
            session=session,
        )
        if not (isinstance(made.timeout, int | float) and math.isfinite(made.timeout) and made.timeout > 0):
            raise UsageError(f"timeout={made.timeout!r}: give the seconds a request may take, above 0.")
        if not isinstance(made.retries, int) or isinstance(made.retries, bool) or made.retries < 0:
            raise UsageError(f"retries={made.retries!r}: give how many times to retry, 0 or more.")
        for name in ("backoff", "max_wait"):
            value = getattr(made, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise UsageError(f"{name}={value!r}: give seconds, 0 or more.")
        return made

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy these options make."""
        return RetryPolicy(retries=self.retries, base=self.backoff, max_wait=self.max_wait)


@dataclass(frozen=True)
class ConnectOptions:
    """Everything a connector was given, sorted: credentials, HTTP options, the kind's own.

    Options given as None are left out (a flag not given). :meth:`parse` checks the HTTP
    options' values once; :meth:`keywords` checks the names against one kind.
    """

    credentials: Mapping[str, str] = field(default_factory=dict)
    http: Mapping[str, Any] = field(default_factory=dict)
    own: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, given: Mapping[str, Any]) -> ConnectOptions:
        """Sort ``given`` (``connect()``'s keyword arguments) and check the HTTP options' values."""
        present = {k: v for k, v in given.items() if v is not None}
        http = {k: v for k, v in present.items() if k in HTTP_OPTIONS}
        HttpOptions.of(**http)  # a bad timeout or retry count names itself here, before any kind
        for name in PAGING:
            value = present.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UsageError(f"{name}={value!r}: give a whole number, at least 1.")
        return cls(
            credentials={k: v for k, v in present.items() if k in CREDENTIALS},
            http=http,
            own={k: v for k, v in present.items() if k not in CREDENTIALS and k not in HTTP_OPTIONS},
        )

    def merged(self, given: Mapping[str, Any]) -> ConnectOptions:
        """These options with ``given`` (keyword arguments) added over them."""
        more = ConnectOptions.parse(given)
        return ConnectOptions(
            credentials={**self.credentials, **more.credentials},
            http={**self.http, **more.http},
            own={**self.own, **more.own},
        )

    def keywords(self, spec: KindSpec, flags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The keyword arguments of ``spec``'s connector; one it does not take is a :class:`UsageError`.

        ``flags`` names options as the caller's user wrote them (``{"sheet": "--sheet"}``).
        """
        takes, key = spec.options, spec.credential
        if key not in (None, SITE_KEY) and SITE_KEY in self.credentials and key in self.credentials:
            raise UsageError(f"{SITE_KEY} and {key} both give the {spec.name} key: give one.")
        out: dict[str, Any] = {k: v for k, v in self.http.items() if k in takes}
        for name, value in {**self.own, **self.credentials}.items():
            target = name
            if name == SITE_KEY and name not in takes and key is not None:
                target = key  # what this kind calls the key a site gave you
            if target not in takes:
                shown = (flags or {}).get(name, name)
                raise UsageError(
                    f"{shown} does not apply to {spec.name} sources ({spec.label}), which take "
                    f"{', '.join(sorted(takes - HTTP_OPTIONS))}. Leave it out."
                )
            out[target] = value
        return out
