"""How complete each language of a catalog is, which translations are stale, and the stamps file.

A translation is **stale** when its source text (the default language) changed since it was
written. The files alone say so through ``translations.lock`` in the catalog folder, written by
``btvstat-open catalog translations stamp DIR``: for each translation, a fingerprint of the source
text it was made from and of the translation itself. Later, a translation whose source no longer
matches its stamp while the translation is unchanged is stale: someone edited the English and
nobody has touched the Spanish since. Editing the translation clears the flag; when it still fits
(a typo fixed in the source), ``stamp`` again. A translation never stamped is never stale.

Example:
    >>> from catalog import load_catalog
    >>> report = completeness(load_catalog("catalog/demo").translations)
    >>> [(r.locale, 0 < r.translated < r.total) for r in report]  # the demo's Arabic is UI only
    [('es', True), ('fr', True), ('ar', False)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import CatalogError
from catalog.models import Catalog
from catalog.models.texts import TextEntry, Translations, text_hash

__all__ = [
    "SHOWN_MISSING",
    "STAMPS_FILE",
    "LanguageReport",
    "completeness",
    "missing_lines",
    "read_stamps",
    "report_lines",
    "stale",
    "stamp",
]

STAMPS_FILE = "translations.lock"
Stamps = dict[str, dict[str, str]]

_HEADER = (
    "# What each translation was made from, written by `btvstat-open catalog translations stamp`:\n"
    "# per text and locale, a fingerprint of the source text and of the translation. Commit it with\n"
    "# the catalog; `catalog validate` flags a translation whose source changed since. Do not edit.\n"
)


@dataclass(frozen=True)
class LanguageReport:
    """One language's completeness: ``translated`` of ``total`` texts, and the ``missing`` ones."""

    locale: str
    translated: int
    total: int
    missing: tuple[TextEntry, ...]

    @property
    def percent(self) -> int:
        """Whole percent, rounded down (100 only when complete).

        Example:
            >>> LanguageReport("es", 119, 120, ()).percent
            99
        """
        return 100 if self.total == 0 else math.floor(100 * self.translated / self.total)


def completeness(table: Translations) -> list[LanguageReport]:
    """Each non-default locale's count of translated texts (texts without words need none)."""
    needed = [entry for entry in table.entries.values() if entry.needs_translation]
    out = []
    for locale in table.locales[1:]:
        missing = tuple(entry for entry in needed if locale not in entry.translations)
        out.append(LanguageReport(locale, len(needed) - len(missing), len(needed), missing))
    return out


def read_stamps(root: Path) -> Stamps:
    """The stamps of ``root/translations.lock`` (empty when there is none)."""
    path = root / STAMPS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(
            f"{path}: cannot read the translation stamps ({str(exc)[:80]}): "
            "restore it from version control, or run `btvstat-open catalog translations stamp` again",
            problems=[(str(path), None, "unreadable translation stamps")],
        ) from None
    if not isinstance(data, dict):
        return {}
    return {
        str(k): {str(loc): str(v) for loc, v in row.items()}
        for k, row in data.items()
        if isinstance(row, dict)
    }


def stale(table: Translations, stamps: Stamps) -> list[tuple[TextEntry, str]]:
    """``(text, locale)`` of each translation whose source changed since it was stamped, while it
    did not."""
    out = []
    for entry in table.entries.values():
        for locale, found in entry.translations.items():
            recorded = stamps.get(entry.key, {}).get(locale, "").split()
            if len(recorded) != 2:
                continue
            source, translation = recorded
            if source != text_hash(entry.default) and translation == text_hash(found.text):
                out.append((entry, locale))
    return out


def stamp(catalog: Catalog, locales: list[str] | None = None) -> int:
    """Record what every translation (of ``locales``, default all) was made from; returns how many.

    Other locales' stamps are kept. The file is written whole or not at all.
    """
    stamps = read_stamps(catalog.root)
    wanted = set(locales or catalog.translations.locales)
    count = 0
    for entry in catalog.translations.entries.values():
        row = {loc: v for loc, v in stamps.get(entry.key, {}).items() if loc not in wanted}
        for locale, found in entry.translations.items():
            if locale in wanted:
                row[locale] = f"{text_hash(entry.default)} {text_hash(found.text)}"
                count += 1
        if row:
            stamps[entry.key] = dict(sorted(row.items()))
        else:
            stamps.pop(entry.key, None)
    known = set(catalog.translations.entries)
    body = yaml.safe_dump({k: v for k, v in sorted(stamps.items()) if k in known}, allow_unicode=True)
    write_atomically(catalog.root / STAMPS_FILE, _HEADER + body)
    return count


def _where(file: str, line: int) -> str:
    return f"{file}:{line}"


def _what(entry: TextEntry) -> str:
    shown = " ".join(entry.default.split())
    shown = shown if len(shown) <= 50 else shown[:47] + "..."
    name = "department name" if entry.owner == "department" else entry.key.split(":", 2)[-1]
    return f"{name} ({shown!r})"


#: ``catalog validate`` lists this many missing texts per language (``translations missing``: all)
SHOWN_MISSING = 10


def missing_lines(catalog: Catalog, locale: str, *, limit: int | None = None) -> list[str]:
    """``file:line`` of each text not yet in ``locale`` (the first ``limit``, then how many more)."""
    table = catalog.translations
    [report] = [r for r in completeness(table) if r.locale == locale]
    shown = report.missing if limit is None else report.missing[:limit]
    add = f"add {locale}: beside {table.default}:"
    lines = [f"{_where(e.file, e.line)}: {locale}: not translated: {_what(e)}; {add}" for e in shown]
    if len(report.missing) > len(shown):
        lines.append(
            f"{catalog.root}: {locale}: and {len(report.missing) - len(shown)} more texts not translated "
            f"(`btvstat-open catalog translations missing {catalog.root} --locale {locale}` lists them all)"
        )
    return lines


def report_lines(catalog: Catalog) -> list[str]:
    """What ``catalog validate`` prints about languages: completeness, missing texts (the first
    :data:`SHOWN_MISSING` of each language), stale ones. Nothing for a catalog in one language.
    """
    table = catalog.translations
    if len(table.locales) < 2:
        return []
    reports = completeness(table)
    parts = [f"{r.locale}: {r.translated} of {r.total} texts ({r.percent}%)" for r in reports]
    lines = [f"languages: {table.default} (default); " + ", ".join(parts)]
    for report in reports:
        lines.extend(missing_lines(catalog, report.locale, limit=SHOWN_MISSING))
    root = catalog.root
    for entry, locale in stale(table, read_stamps(root)):
        found = entry.translations[locale]
        lines.append(
            f"{_where(found.file, found.line)}: {locale}: stale translation: its source text changed "
            f"since it was translated: {_what(entry)}; update the {locale} text, or if it still fits run "
            f"`btvstat-open catalog translations stamp {root}`"
        )
    return lines
