"""Catalog text in several languages: what the loader keeps beside the models.

Every text a reader sees (a KPI's title, a goal's name, a meeting's title, ...) may be written as a
plain string (the default language, the first of ``locales:``) or as a mapping of locales to text.
The loader keeps the default text in the models, so the rest of the code reads plain ``str``
fields, and puts every text with its translations in :class:`Translations`, kept on the loaded
catalog (``catalog.translations``). :func:`catalog.localized.localized` reads it back.

Example:
    >>> entry = TextEntry("kpi:x:title", "kpi:x", ("title",), "Potholes", "x.yaml", 3,
    ...                   {"es": Translation("Baches", "x.yaml", 3)})
    >>> table = Translations(("en", "es"), {entry.key: entry})
    >>> table.default, table.text("kpi:x:title", "es"), table.text("kpi:x:title", "fr")
    ('en', 'Baches', None)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

__all__ = ["DEFAULT_LOCALE", "TextEntry", "Translation", "Translations", "check_locale", "text_hash"]

#: The default language of a catalog without ``locales:``.
DEFAULT_LOCALE = "en"


def text_hash(text: str) -> str:
    """A short, stable fingerprint of a text (surrounding whitespace ignored).

    Example:
        >>> text_hash("Potholes"), text_hash(" Potholes\\n")
        ('0a83cbb1', '0a83cbb1')
    """
    return hashlib.sha256(text.strip().encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Translation:
    """One translation of a text: its words, and where they are written."""

    text: str
    file: str
    line: int


@dataclass(frozen=True)
class TextEntry:
    """One text a reader sees, in the default language and its translations.

    ``key`` names the text across edits (``kpi:<id>:title``, ``goal:<id>:description``,
    ``department:<name>``, ...); ``owner`` is what holds it (``kpi:<id>``, ``site``,
    ``goal:<id>``, ``meeting:<id>``, ``department``) and ``path`` where in its model (field names
    and list indexes); ``file`` and ``line`` are where the default text is written.
    """

    key: str
    owner: str
    path: tuple[str | int, ...]
    default: str
    file: str
    line: int
    translations: dict[str, Translation] = field(default_factory=dict)

    @property
    def needs_translation(self) -> bool:
        """Whether the text has words to translate (``%`` or ``$`` have none).

        Example:
            >>> TextEntry("k", "site", ("title",), "%", "f", 1).needs_translation
            False
        """
        return any(ch.isalpha() for ch in self.default)


@dataclass(frozen=True)
class Translations:
    """Every text of a catalog by key, and the catalog's locales (the first is the default)."""

    locales: tuple[str, ...] = (DEFAULT_LOCALE,)
    entries: dict[str, TextEntry] = field(default_factory=dict)

    @property
    def default(self) -> str:
        """The default locale (the first of ``locales:``)."""
        return self.locales[0]

    def text(self, key: str, locale: str) -> str | None:
        """The text ``key`` in ``locale``: its translation, the default text, or None if missing."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if locale == self.default:
            return entry.default
        found = entry.translations.get(locale)
        return found.text if found else None


def check_locale(code: str) -> str:
    """``code`` if it is a language code Babel knows (``es``, ``fr``, ``pt-BR``), else a ValueError.

    Example:
        >>> check_locale("pt-BR")
        'pt-BR'
        >>> check_locale("spanish")
        Traceback (most recent call last):
        ...
        ValueError: 'spanish' is not a locale: write a language code such as en, es, fr or pt-BR
    """
    from babel import Locale, UnknownLocaleError

    try:
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", code):  # it names URLs too: /pt-BR/kpi/x
            raise ValueError(code)
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"{code!r} is not a locale: write a language code such as en, es, fr or pt-BR"
        ) from None
    return code
