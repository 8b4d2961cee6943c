"""The Socrata connector (SODA 2.1 and SODA 3), also used for btvstat-open's local portal."""

from connectors.socrata.auth import Credentials
from connectors.socrata.connector import SocrataConnector

__all__ = ["Credentials", "SocrataConnector"]
