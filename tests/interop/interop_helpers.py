"""Helpers the interop tests share: the session CA, running soda-js under node, failing in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).parent
SODA_JS = INTEROP / "node_modules" / "soda-js" / "lib" / "soda-js.js"
SODA_STEPS = INTEROP / "soda_steps.js"


@dataclass(frozen=True)
class SessionCA:
    """The session's certificate authority (``ca_pem``) and the portal's key and chain (``server_pem``)."""

    ca_pem: Path
    server_pem: Path


def domain_of(url: str) -> str:
    """``https://127.0.0.1:8443`` -> ``127.0.0.1:8443`` (what clients call the portal's domain).

    Example:
        >>> domain_of("https://127.0.0.1:8443")
        '127.0.0.1:8443'
    """
    return url.split("://", 1)[1]


def require(present: bool, what: str) -> None:
    """Fail in CI, skip elsewhere, when a client the interop tests drive is not installed."""
    if present:
        return
    message = f"{what} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI requires the interop tests (`make test` installs them).")
    pytest.skip(f"{message}; run `make test` (it runs `npm ci --prefix tests/interop`) to run these tests.")


def run_soda_js(site: str, ca_pem: Path, steps: list[dict[str, Any]], **auth: str) -> list[dict[str, Any]]:
    """Run soda-js through ``steps`` (see soda_steps.js) against ``site``; what each step answered."""
    node = shutil.which("node")
    require(node is not None, "node")
    require(SODA_JS.exists(), f"soda-js (expected at {SODA_JS})")
    plan = json.dumps({"site": site, "auth": auth, "steps": steps})
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(ca_pem), "NODE_NO_WARNINGS": "1"}
    done = subprocess.run(
        [str(node), str(SODA_STEPS), plan],
        cwd=INTEROP,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"soda-js failed ({done.returncode}): {done.stderr}"
    outcomes: list[dict[str, Any]] = json.loads(done.stdout)
    return outcomes
