"""Credentials from the environment, each bound to the portal it was made for.

* ``BTVSTAT_API_KEY_ID`` / ``BTVSTAT_API_KEY_SECRET``: a Socrata API key, sent only to the origin
  (scheme, host and port) ``BTVSTAT_API_KEY_ORIGIN`` names (several: comma-separated). Without it
  the key is sent nowhere, and a note on stderr says how to bind it.
* ``BTVSTAT_WRITE_TOKEN``: the local portal's write token. Only ``push`` sends it (a pull or a
  sync never does: reading the local portal needs no token), and only to an origin of
  ``BTVSTAT_WRITE_ORIGIN`` (comma-separated), by default the local portal on this machine
  (``localhost``, ``127.0.0.1``, ``::1``, any port).

Example:
    >>> import os
    >>> saved = dict(os.environ)
    >>> os.environ.update(BTVSTAT_WRITE_TOKEN="tok", BTVSTAT_WRITE_ORIGIN="https://portal.city.gov")
    >>> write_credentials("https://portal.city.gov/"), write_credentials("https://data.other.gov")
    ({'username': 'btvstat', 'password': 'tok'}, {})
    >>> read_credentials("https://portal.city.gov")  # a pull never sends the write token
    {}
    >>> os.environ.clear(); os.environ.update(saved)
"""

from __future__ import annotations

import ipaddress
import os
import sys

from connectors.transport import origin_of

__all__ = ["read_credentials", "write_credentials"]

_LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bound(url: str, variable: str) -> bool | None:
    """Whether ``url``'s origin is one ``variable`` lists (None when the variable is unset)."""
    listed = [o.strip() for o in os.environ.get(variable, "").split(",") if o.strip()]
    if not listed:
        return None
    return origin_of(url) in {origin_of(o) for o in listed}


def _api_key(url: str) -> dict[str, str]:
    key_id, key_secret = os.environ.get("BTVSTAT_API_KEY_ID"), os.environ.get("BTVSTAT_API_KEY_SECRET")
    if not (key_id and key_secret) or "://" not in url:
        return {}
    if _bound(url, "BTVSTAT_API_KEY_ORIGIN"):
        return {"api_key_id": key_id, "api_key_secret": key_secret}
    scheme, host, port = origin_of(url)
    print(
        f"note: BTVSTAT_API_KEY_ID is not sent to {scheme}://{host}:{port}: it goes only to "
        f"BTVSTAT_API_KEY_ORIGIN; set BTVSTAT_API_KEY_ORIGIN={scheme}://{host}:{port} if the key is for it.",
        file=sys.stderr,
    )
    return {}


def read_credentials(url: str) -> dict[str, str]:
    """What a pull or a sync from ``url`` may send: the API key, when it is bound to ``url``."""
    return _api_key(url)


def write_credentials(url: str) -> dict[str, str]:
    """What a push to ``url`` may send: the API key bound to it, else the write token bound to it."""
    found = _api_key(url)
    token = os.environ.get("BTVSTAT_WRITE_TOKEN")
    if found or not token or "://" not in url:
        return found
    bound = _bound(url, "BTVSTAT_WRITE_ORIGIN")
    if bound or (bound is None and _is_loopback(origin_of(url)[1])):
        # The local portal takes its write token as the HTTP Basic password, any user name.
        return {"username": "btvstat", "password": token}
    print(
        "note: BTVSTAT_WRITE_TOKEN is not sent to this portal: it goes only to the local portal "
        "(this machine, or BTVSTAT_WRITE_ORIGIN).",
        file=sys.stderr,
    )
    return {}
