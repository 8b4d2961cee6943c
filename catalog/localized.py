"""The catalog in one of its languages, falling back to the default language where a text is missing.

:func:`localized` returns the same :class:`~catalog.models.Catalog` with every text a reader sees in
the given locale (titles, descriptions, methodology, units, goal and department names, notes,
action titles, meeting text). A text with no translation stays in the default language as a
:class:`Fallback`: a ``str`` that knows its language and, written into HTML by Jinja (or anything
that honours ``__html__``), wraps itself in ``<span lang="en" dir="ltr">`` so a reader's browser and
screen reader switch language (and, inside a right-to-left page, direction) for it. The view is
computed once per catalog and locale.

Example:
    >>> from catalog import load_catalog
    >>> catalog = load_catalog("catalog/demo")
    >>> fr = localized(catalog, "fr")
    >>> fr.locale, fr.kpis["pothole-days-to-close"].title
    ('fr', 'Délai médian de fermeture des demandes de nids-de-poule')
    >>> missing = fr.kpis["water-use-monthly"].title
    >>> isinstance(missing, Fallback), missing.__html__()
    (True, '<span lang="en" dir="ltr">Average monthly water use per ZIP code</span>')
    >>> localized(catalog, "fr") is fr, localized(catalog, "en") is catalog
    (True, True)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
from typing import Any, Self

from pydantic import BaseModel

from btvstat_open.errors import UsageError
from catalog.models import Catalog, CatalogSettings, Kpi, Meeting
from catalog.models.story import Story
from catalog.models.texts import TextEntry

__all__ = ["Fallback", "LocalText", "Marked", "default_text", "join_marked", "localized", "marked"]

Path_ = tuple[str | int, ...]


class LocalText(str):
    """A catalog text in a reader's language that remembers its default-language ``default``
    (what names it in URLs: a department's address stays the same in every language)."""

    default: str

    def __new__(cls, text: str, default: str = "") -> Self:
        made = super().__new__(cls, text)
        made.default = default or text
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.default))


class Fallback(LocalText):
    """A text shown in the default language (``lang``) for want of a translation.

    Example:
        >>> Fallback("Fish & chips", "en").__html__()
        '<span lang="en" dir="ltr">Fish &amp; chips</span>'
    """

    lang: str

    def __new__(cls, text: str, lang: str = "en") -> Self:
        made = super().__new__(cls, text, text)
        made.lang = lang
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.lang))

    def __html__(self) -> str:
        lang, text = html.escape(self.lang), html.escape(str.__str__(self))
        return f'<span lang="{lang}" dir="{_direction(self.lang)}">{text}</span>'


class Marked(str):
    """A sentence holding catalog texts: plain text, and in HTML (``__html__``) with each fallback
    among them marked with its own ``lang``. Made by :func:`marked`."""

    marked_html: str

    def __new__(cls, text: str, marked_html: str) -> Self:
        made = super().__new__(cls, text)
        made.marked_html = marked_html
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.marked_html))

    def __html__(self) -> str:
        return self.marked_html


def marked(message: str, values: dict[str, Any]) -> str:
    """``message % values``, written into HTML with each :class:`Fallback` (or :class:`Marked`)
    value keeping its ``lang`` (as text, the same words).

    Example:
        >>> made = marked("%(number)s %(unit)s", {"number": "12,5", "unit": Fallback("gallons", "en")})
        >>> str(made), made.__html__()
        ('12,5 gallons', '12,5 <span lang="en" dir="ltr">gallons</span>')
        >>> type(marked("%(n)s", {"n": "1"}))
        <class 'str'>
    """
    text = message % values
    if not any(isinstance(v, Fallback | Marked) for v in values.values()):
        return text
    from markupsafe import escape

    return Marked(text, str(escape(message) % values))


def join_marked(parts: list[str], separator: str = "", end: str = "") -> str:
    """``separator.join(parts) + end``, keeping the marks of :class:`Marked` parts in HTML.

    Example:
        >>> made = join_marked([marked("%(t)s", {"t": Fallback("Parks", "en")}), "Bien"], ". ", ".")
        >>> str(made), made.__html__()
        ('Parks. Bien.', '<span lang="en" dir="ltr">Parks</span>. Bien.')
    """
    text = separator.join(parts) + end
    if not any(isinstance(p, Marked | Fallback) for p in parts):
        return text
    from markupsafe import escape

    return Marked(text, str(escape(separator).join(escape(p) for p in parts) + escape(end)))


@functools.lru_cache(maxsize=32)
def _direction(lang: str) -> str:
    """``rtl`` for a right-to-left language (Arabic, Hebrew, ...), else ``ltr``.

    Example:
        >>> _direction("en"), _direction("ar")
        ('ltr', 'rtl')
    """
    from babel import Locale, UnknownLocaleError

    try:
        return "rtl" if Locale.parse(lang, sep="-").text_direction == "rtl" else "ltr"
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"


def default_text(text: str) -> str:
    """The default-language text behind ``text`` (itself when it was never translated).

    Example:
        >>> default_text(LocalText("Obras públicas", "Public Works")), default_text("Parks")
        ('Public Works', 'Parks')
    """
    return text.default if isinstance(text, LocalText) else text


def localized(catalog: Catalog, locale: str) -> Catalog:
    """``catalog`` with its texts in ``locale`` (missing ones in the default language, marked).

    ``locale`` must be one of the catalog's ``locales:``; the default one gives ``catalog`` itself.
    The result's ``fallbacks`` holds the keys of the texts that fell back; it is built once per
    catalog and locale (a new catalog version is a new catalog).
    """
    table = catalog.translations
    if locale not in table.locales:
        raise UsageError(
            f"{locale[:20]!r} is not one of the catalog's languages: use one of {', '.join(table.locales)}",
            code="query.bad-option",
        )
    if locale == catalog.locale or (locale == table.default and not catalog.locale):
        return catalog
    cached = catalog.localized.get(locale)
    if cached is not None:
        return cached
    texts, departments, fallbacks = _texts(table.entries.values(), locale, table.default)
    view = dataclasses.replace(
        catalog,
        settings=_settings(catalog.settings, texts, departments),
        kpis={kpi_id: _kpi(kpi, texts, departments) for kpi_id, kpi in catalog.kpis.items()},
        meetings={m_id: _meeting(m, texts, departments) for m_id, m in catalog.meetings.items()},
        stories={
            s_id: _story(story, locale, table.default, texts) for s_id, story in catalog.stories.items()
        },
        version=hashlib.sha256(f"{catalog.version}|locale={locale}".encode()).hexdigest()[:16],
        locale=locale,
        fallbacks=frozenset(fallbacks),
    )
    catalog.localized[locale] = view
    return view


Owned = dict[str, list[tuple[Path_, str]]]


def _story(story: Story, locale: str, default: str, texts: Owned) -> Story:
    """A story in ``locale``: its front matter's texts, and its body in ``locale`` (else the default
    body, its ``body_lang`` saying so)."""
    meta = _apply(story.meta, f"story:{story.id}", texts)
    body = dict(story.bodies).get(locale)
    if body is not None:
        return dataclasses.replace(story, meta=meta, parts=body, body_lang=None)
    has_text = any(isinstance(part, str) and part.strip() for part in story.parts)
    return dataclasses.replace(story, meta=meta, body_lang=default if has_text else None)


def _texts(entries: Any, locale: str, default: str) -> tuple[Owned, dict[str, str], list[str]]:
    """Each owner's ``(path, text)`` in ``locale``, the departments' names, and the fallbacks' keys."""
    owned: Owned = {}
    departments: dict[str, str] = {}
    fallbacks: list[str] = []
    for entry in entries:
        assert isinstance(entry, TextEntry)
        found = entry.translations.get(locale)
        text: str
        if found is not None:
            text = LocalText(found.text, entry.default)
        elif entry.needs_translation:
            text = Fallback(entry.default, default)
            fallbacks.append(entry.key)
        else:
            text = entry.default
        if entry.owner == "department":
            departments[entry.default] = text
        else:
            owned.setdefault(entry.owner, []).append((entry.path, text))
    return owned, departments, fallbacks


def _put(obj: Any, path: Path_, value: Any) -> Any:
    """A copy of ``obj`` with ``value`` at ``path`` (field names of models, list indexes, keys)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, BaseModel):
        return obj.model_copy(update={str(head): _put(getattr(obj, str(head)), rest, value)})
    copied: Any = list(obj) if isinstance(obj, list) else dict(obj)
    copied[head] = _put(copied[head], rest, value)
    return copied


def _apply(model: Any, owner: str, texts: Owned) -> Any:
    for path, text in texts.get(owner, ()):
        model = _put(model, path, text)
    return model


def _kpi(kpi: Kpi, texts: Owned, departments: dict[str, str]) -> Kpi:
    kpi = _apply(kpi, f"kpi:{kpi.id}", texts)
    name = departments.get(default_text(kpi.department))
    return kpi if name is None else kpi.model_copy(update={"department": name})


def _settings(settings: CatalogSettings, texts: Owned, departments: dict[str, str]) -> CatalogSettings:
    settings = _apply(settings, "site", texts)
    goals = [
        goal.model_copy(update={"owner": departments[goal.owner]}) if goal.owner in departments else goal
        for goal in settings.goals
    ]
    return settings.model_copy(update={"goals": goals})


def _meeting(meeting: Meeting, texts: Owned, departments: dict[str, str]) -> Meeting:
    meeting = _apply(meeting, f"meeting:{meeting.id}", texts)
    names = [departments.get(name, name) for name in meeting.departments]
    return meeting.model_copy(update={"departments": names})
