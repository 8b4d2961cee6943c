"""Template overrides: a theme's ``templates`` folder replaces the site's templates by name.

A file there named like one of ``widgets/templates`` (``base.html``, ``kpi.html``, ...) is used
instead of it everywhere, also where another template extends or includes it. An override can
extend the original and replace only some of its blocks: the originals stay reachable under the
``default/`` prefix (``{% extends "default/base.html" %}``). docs/theme.md lists the blocks.

Overrides render with the same autoescaping and StrictUndefined as the originals, in Jinja's
immutable sandbox: they see the page's context and nothing else (no attribute starting with
``_``, no method that changes an object), so a template cannot reach past what the page shows.

Example:
    >>> env = template_env(Path("widgets/templates"), None)
    >>> env.loader.get_source(env, "default/error.html")[0].splitlines()[0]
    '{% extends "base.html" %}'
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from btvstat_open.i18n.jinja import install as install_i18n
from btvstat_open.web.locales import SELECTOR_TEMPLATES
from widgets.vocabulary import kind_label, period_name

__all__ = ["ORIGINALS", "template_env"]

#: the prefix under which an override finds the original templates
ORIGINALS = "default/"


def template_env(originals: Path, overrides: Path | None) -> jinja2.Environment:
    """The environment pages render with: ``overrides`` (a folder, or None) before ``originals``.

    With overrides the environment is sandboxed; without, it is the plain one (the sandbox's
    checks cost a little on every attribute, and the shipped templates need none).
    """
    shipped = jinja2.FileSystemLoader(originals)
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({ORIGINALS.rstrip("/"): shipped}, delimiter="/")]
    if overrides is not None:
        loaders.append(jinja2.FileSystemLoader(overrides))
    loaders.append(shipped)
    loaders.append(jinja2.FileSystemLoader(SELECTOR_TEMPLATES))  # the selector staff pages show too
    kind = jinja2.Environment if overrides is None else ImmutableSandboxedEnvironment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install_i18n(env)  # {{ _("...") }} in the request's language, lang() and dir()
    env.globals["kind_label"] = kind_label
    env.globals["period_name"] = period_name
    return env
