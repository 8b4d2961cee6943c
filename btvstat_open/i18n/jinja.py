"""Jinja2 environments that translate: ``jinja2.ext.i18n`` with newstyle gettext reading the
current locale, and the globals a page needs for its ``<html lang dir>``.

Example:
    >>> import jinja2
    >>> from btvstat_open.i18n import use_locale
    >>> env = install(jinja2.Environment(autoescape=True))
    >>> page = env.from_string('<html lang="{{ lang() }}" dir="{{ dir() }}">{{ _("Target") }}</html>')
    >>> with use_locale("ar"):
    ...     page.render()
    '<html lang="ar" dir="rtl">الهدف</html>'
"""

from __future__ import annotations

import jinja2

from btvstat_open.i18n import formats
from btvstat_open.i18n.catalogs import current_locale, direction, gettext, ngettext

__all__ = ["install"]


def install(env: jinja2.Environment) -> jinja2.Environment:
    """Add the i18n extension (per-call lookup in the current locale) and the locale globals."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = current_locale
    env.globals["dir"] = direction
    env.globals["format_decimal"] = formats.format_decimal
    env.globals["format_integer"] = formats.format_integer
    env.globals["format_date"] = formats.format_date
    return env
