"""Interop fixtures: the local portal over HTTPS with a test CA, for clients that only speak https://.

soda-js and datasette-socrata build ``https://{domain}/...`` URLs themselves, and sodapy defaults
to https://, so the portal is served by uvicorn on 127.0.0.1 with a certificate from a CA made
for this test session (``trustme``). Each client is told to trust that CA the way its users
would: ``REQUESTS_CA_BUNDLE`` (requests, so sodapy), ``SSL_CERT_FILE`` (httpx, so
datasette-socrata) and ``NODE_EXTRA_CA_CERTS`` (node, so soda-js).

The portal runs with the production defaults of :class:`Settings` (only the write token is
set), so a client meets the same limits it would meet on a city's server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trustme
from interop_helpers import SessionCA
from servers import serve

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings


@pytest.fixture(scope="session")
def session_ca(tmp_path_factory: pytest.TempPathFactory) -> SessionCA:
    """A CA made for this session and a certificate it signed for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    issued = authority.issue_cert("127.0.0.1", "localhost")
    issued.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    return SessionCA(ca_pem=folder / "ca.pem", server_pem=folder / "server.pem")


@pytest.fixture(scope="session")
def interop_url(portal_store: Store, write_token: str, session_ca: SessionCA) -> Iterator[str]:
    """``https://127.0.0.1:PORT`` of the portal (default settings) over the shared real-data store."""
    app = create_portal_app(portal_store, Settings(write_token=write_token))
    with serve(app, tls_pem=str(session_ca.server_pem)) as url:
        yield url


@pytest.fixture()
def trust_test_ca(session_ca: SessionCA, monkeypatch: pytest.MonkeyPatch) -> SessionCA:
    """Make requests and httpx in this process trust the test CA (as their users configure them)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(session_ca.ca_pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(session_ca.ca_pem))
    return session_ca
