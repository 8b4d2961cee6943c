"""The connector for a catalog's portal (``portals:`` in ``catalog.yaml``), whatever its kind.

Example:
    >>> from catalog import load_catalog
    >>> demo = load_catalog("catalog/demo")
    >>> open_portal(demo, "burlington").datasets()[0].id
    'child-care-locations.csv'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from catalog.models import Catalog, PortalSettings
from connectors import Connector, connect

__all__ = ["open_portal", "open_portal_settings"]


def open_portal(catalog: Catalog, key: str, options: Mapping[str, Any] | None = None) -> Connector:
    """A connector to portal ``key`` of the catalog: a ``file`` folder is relative to the catalog folder.

    The app token comes from the environment variable ``app_token_env`` names, when it is set (as
    the kind calls it: ArcGIS ``token``, CKAN ``api_key``); ``options`` go to the connector
    (``timeout``, ``retries``...) through :func:`connectors.connect`, which refuses, naming it, an
    option the portal's kind does not take (``sheet`` for a portal that is not a folder).
    """
    return open_portal_settings(catalog, catalog.settings.portals[key], options)


def open_portal_settings(
    catalog: Catalog, portal: PortalSettings, options: Mapping[str, Any] | None = None
) -> Connector:
    """A connector to ``portal`` (a ``portals:`` entry, or a peer's own ``{url, kind}``), as
    :func:`open_portal` opens one."""
    options = dict(options or {})
    if portal.kind == "file":
        options["base_dir"] = catalog.root
    elif portal.app_token_env and os.environ.get(portal.app_token_env):
        options["app_token"] = os.environ[portal.app_token_env]
    if portal.allow_hosts:
        options["allow_hosts"] = list(portal.allow_hosts)
    return connect(portal.url, portal.kind, **options)
