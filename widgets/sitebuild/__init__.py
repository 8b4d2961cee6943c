"""The site build: the public site written as files, for any static host or CDN.

:func:`build_site` drives the app in process as an anonymous visitor and writes every public
URL's answer at the same path (``docs/static-site.md`` has the path mapping, incremental builds
and hosting); ``btvstat-open build-site`` is :mod:`btvstat_open.server.site_command`.
"""

from widgets.sitebuild.build import BuildReport, build_site

__all__ = ["BuildReport", "build_site"]
