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

Whole numbers given to a message (``%(num)d``) are written in the locale's digits:

    >>> counted = env.from_string("{{ ngettext('%(num)d KPI', '%(num)d KPIs', 12) }}")
    >>> with use_locale("ar"):
    ...     counted.render()
    '١٢ مؤشرًا'

A left-to-right run inside a sentence (an id, a code, a URL) is isolated from the text around it
(``|bdi``), and days shown as ISO dates take the locale's digits (``|iso_date``):

    >>> from datetime import date
    >>> note = env.from_string("{{ _('for dataset %(dataset)s', dataset=id|bdi) }}, {{ day|iso_date }}")
    >>> with use_locale("ar"):
    ...     note.render(id="kc-311", day=date(2020, 3, 4))
    'لمجموعة البيانات <bdi>kc-311</bdi>, ٢٠٢٠-٠٣-٠٤'
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
from markupsafe import Markup

from btvstat_open.i18n import formats
from btvstat_open.i18n.catalogs import current_locale, direction, gettext, ngettext

_INT = re.compile(r"%\((\w+)\)d")


def _format(context: Any, message: str, variables: dict[str, Any]) -> str:
    """``message % variables`` as Jinja's newstyle gettext does (escaped when autoescaping), whole
    numbers in the locale's digits."""
    if variables and formats.numbering_system() != "latn":
        message = _INT.sub(r"%(\1)s", message)
        variables = {
            k: formats.in_digits(str(v)) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in variables.items()
        }
    text: str = Markup(message) if context.eval_ctx.autoescape else message  # noqa: S704 (a catalog message)
    return text % variables


@jinja2.pass_context
def _gettext(context: Any, string: str, /, **variables: Any) -> str:
    return _format(context, gettext(string), variables)


@jinja2.pass_context
def _ngettext(context: Any, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _format(context, ngettext(singular, plural, num), variables)


__all__ = ["install"]


def install(env: jinja2.Environment) -> jinja2.Environment:
    """Add the i18n extension (per-call lookup in the current locale) and the locale globals."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(gettext=_gettext, ngettext=_ngettext)  # the same, with the locale's digits
    env.globals["lang"] = current_locale
    env.globals["dir"] = direction
    env.globals["format_decimal"] = formats.format_decimal
    env.globals["format_integer"] = formats.format_integer
    env.globals["format_date"] = formats.format_date
    env.filters["iso_date"] = formats.format_iso_date
    env.filters["bdi"] = formats.isolate
    return env
