"""HTTP for one Socrata portal: the shared :class:`~connectors.http.HttpClient`, set up for Socrata.

What is Socrata's here: credentials as ``X-App-Token``, HTTP Basic or ``Authorization: OAuth``
(see :class:`~connectors.socrata.auth.Credentials`), request ids in ``X-Socrata-RequestId``,
and the log name. Retries, backoff, error translation and session injection are generic.
"""

from __future__ import annotations

import requests

from connectors.http import HttpClient, RetryPolicy, parse_json
from connectors.socrata.auth import Credentials

__all__ = ["REQUEST_ID_HEADER", "parse_json", "socrata_client"]

#: Where Socrata puts the id to quote to its support.
REQUEST_ID_HEADER = "X-Socrata-RequestId"


def socrata_client(
    url: str,
    credentials: Credentials,
    *,
    session: requests.Session | None = None,
    timeout: float = 60.0,
    retry: RetryPolicy | None = None,
    pool_size: int = 16,
) -> HttpClient:
    """The HTTP client of a Socrata connector: credentials on every request, secrets scrubbed.

    Example:
        >>> client = socrata_client("http://127.0.0.1:8000", Credentials(app_token="t0ken"))
        >>> client.headers, client.request_id_header
        ({'X-App-Token': 't0ken'}, 'X-Socrata-RequestId')
    """
    return HttpClient(
        url,
        session=session,
        timeout=timeout,
        retry=retry,
        pool_size=pool_size,
        headers=credentials.headers(),
        auth=credentials.basic_auth(),
        scrub=credentials.scrub,
        request_id_header=REQUEST_ID_HEADER,
        logger="btvstat_open.connectors.socrata",
    )
