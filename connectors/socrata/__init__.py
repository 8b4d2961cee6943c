"""The Socrata connector (SODA 2.1 and SODA 3), also used for btvstat-open's local portal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.socrata.auth import Credentials
from connectors.socrata.kind import KIND

if TYPE_CHECKING:
    from connectors.socrata.connector import SocrataConnector

__all__ = ["KIND", "Credentials", "SocrataConnector"]


def __getattr__(name: str) -> Any:
    # The connector is imported on first use: the registry of kinds reads only KIND.
    if name == "SocrataConnector":
        from connectors.socrata.connector import SocrataConnector

        return SocrataConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
