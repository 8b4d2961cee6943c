"""The Socrata connector: SODA 2.1 and SODA 3 reads typed by metadata; batched publishing.

It is built from three parts: :mod:`connectors.socrata.core` (settings, the HTTP session,
describe/count/list), :mod:`connectors.socrata.reads` (pulls: the CSV export or pages) and
:mod:`connectors.socrata.writes` (push, delete, create).
"""

from __future__ import annotations

from connectors.socrata.core import Api, SocrataCore
from connectors.socrata.reads import SocrataReads
from connectors.socrata.writes import SocrataWrites

__all__ = ["Api", "SocrataConnector"]


class SocrataConnector(SocrataReads, SocrataWrites, SocrataCore):
    """A Socrata portal (or btvstat-open's local portal), spoken to over SODA 2.1 and SODA 3.

    ``page_size`` rows per page (default 50,000), ``concurrency`` pages in flight (default 4),
    ``timeout`` seconds per request (default 60), ``retries`` per request (default 6); see
    :class:`~connectors.socrata.core.SocrataCore` for every setting.

    Example:
        >>> portal = SocrataConnector("https://data.example.gov", app_token="...")  # doctest: +SKIP
        >>> portal.pull("abcd-1234", where="type = 'Pothole'", since="2024-01-01")  # doctest: +SKIP
    """
