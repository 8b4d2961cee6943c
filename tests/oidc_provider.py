"""The city's identity provider in the tests: node's oidc-provider (tests/oidc, installed by
`npm ci --prefix tests/oidc`), started once per session on 127.0.0.1 with a client whose
redirect URI is a port reserved for the app under test."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port

from btvstat_open.web.settings import Settings

HERE = Path(__file__).parent / "oidc"


@dataclass(frozen=True)
class Provider:
    """A running provider and the client registered with it."""

    issuer: str
    client_id: str
    client_secret: str
    app_port: int  # the app must listen here: the client's redirect URI names it

    def settings(self, **more: object) -> Settings:
        """Settings that make the app sign in with this provider."""
        return Settings(
            oidc_issuer=self.issuer,
            oidc_client_id=self.client_id,
            oidc_client_secret=self.client_secret,
            warm_up=False,
            **more,
        )


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    """Start the provider; fail with a clear message when it cannot (CI installs it)."""
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider is not installed: run `npm ci --prefix tests/oidc` (make test does).")
    app_port, port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": "btvstat-open",
        "CLIENT_SECRET": "test-client-secret-not-a-real-one",
        "REDIRECT_URI": f"http://127.0.0.1:{app_port}/auth/callback",
    }
    process = subprocess.Popen(
        ["node", str(HERE / "provider.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening "):
        process.kill()
        pytest.fail(
            f"oidc-provider did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
        )
    try:
        yield Provider(line.split()[1], env["CLIENT_ID"], env["CLIENT_SECRET"], app_port)
    finally:
        process.terminate()
        process.wait(timeout=10)
