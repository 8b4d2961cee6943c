"""Read catalog text written in several languages: a plain string, or ``{en: ..., es: ...}``.

The loader calls :func:`split_texts` on each file's data before building its model: every text a
reader sees that is written as a mapping of locales is replaced by its default-language text (so
the models keep plain ``str`` fields) and every text, translated or not, is recorded as a
:class:`~catalog.models.texts.TextEntry` in the catalog's translations table. A mapping without the
default language, or with a locale not in ``locales:``, is a problem at its file and line.

Example:
    >>> data = {"id": "x", "title": {"en": "Potholes", "es": "Baches"}, "unit": "days"}
    >>> table, problems = {}, []
    >>> split_texts(data, "kpi", "k.yaml", {("title",): 2}, ("en", "es"), table, problems)["title"]
    'Potholes'
    >>> sorted(table), table["kpi:x:title"].translations["es"].text, problems
    (['kpi:x:title', 'kpi:x:unit'], 'Baches', [])
"""

from __future__ import annotations

import copy
from typing import Any

from catalog.checks import Problems
from catalog.models.texts import TextEntry, Translation
from catalog.yamllines import line_for

__all__ = ["TEXT_PATHS", "split_texts"]

Lines = dict[tuple[str | int, ...], int]
Path_ = tuple[str | int, ...]

#: Where each kind of file holds text a reader sees (``*``: any list item or mapping key).
TEXT_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "kpi": (
        ("title",),
        ("department",),
        ("outcome_area",),
        ("description",),
        ("methodology",),
        ("analysis",),
        ("unit",),
        ("notes", "*", "text"),
        ("actions", "*", "title"),
        ("breakdown", "label"),
        ("target", "history", "*", "note"),
    ),
    "site": (
        ("title",),
        ("publisher",),
        ("description",),
        ("goal_levels", "*"),
        ("goals", "*", "title"),
        ("goals", "*", "description"),
    ),
    "meeting": (("title",), ("summary",), ("new_items", "*", "note"), ("questions", "*", "*")),
    "story": (("title",), ("summary",)),  # a story's front matter (its Markdown stays as written)
}


def split_texts(
    data: dict[str, Any],
    kind: str,
    file: str,
    lines: Lines,
    locales: tuple[str, ...],
    table: dict[str, TextEntry],
    problems: Problems,
) -> dict[str, Any]:
    """``data`` with each text mapping replaced by its default text; texts go into ``table``.

    ``kind`` is ``kpi``, ``site``, ``meeting`` or ``story`` (:data:`TEXT_PATHS`); a department name is kept
    once for the whole catalog (``department:<name>``), whichever KPI files translate it.
    """
    out = copy.deepcopy(data)
    owner = "site" if kind == "site" else f"{kind}:{data.get('id', '')}"
    for pattern in TEXT_PATHS[kind]:
        for path, parent in _matches(out, pattern):
            value = parent[path[-1]]
            found = _read_text(value, path, file, lines, locales, problems)
            if found is None:
                continue
            default, translations = found
            parent[path[-1]] = default
            if not default.strip():
                continue
            if kind == "kpi" and path == ("department",):
                _add_department(default, translations, file, line_for(lines, path), table, problems)
                continue
            key = f"{owner}:{_key_path(out, path)}"
            table[key] = TextEntry(key, owner, path, default, file, line_for(lines, path), translations)
    return out


def _matches(data: Any, pattern: tuple[str, ...]) -> list[tuple[Path_, Any]]:
    """Every ``(path, parent)`` in ``data`` that ``pattern`` names (the value is ``parent[path[-1]]``)."""
    found: list[tuple[Path_, Any]] = []

    def walk(node: Any, rest: tuple[str, ...], path: Path_) -> None:
        if not rest:
            return
        step, tail = rest[0], rest[1:]
        if isinstance(node, dict):
            keys: list[str | int] = list(node) if step == "*" else ([step] if step in node else [])
        elif isinstance(node, list) and step == "*":
            keys = list(range(len(node)))
        else:
            return
        for key in keys:
            if tail:
                walk(node[key], tail, (*path, key))
            else:
                found.append(((*path, key), node))

    walk(data, pattern, ())
    return found


def _key_path(data: Any, path: Path_) -> str:
    """The path in words that survive edits: a list item with an ``id`` is named by it."""
    words: list[str] = []
    node = data
    for step in path:
        node = node[step]
        if isinstance(step, int) and isinstance(node, dict) and isinstance(node.get("id"), str):
            words.append(node["id"])
        else:
            words.append(str(step))
    return ".".join(words)


def _read_text(
    value: Any, path: Path_, file: str, lines: Lines, locales: tuple[str, ...], problems: Problems
) -> tuple[str, dict[str, Translation]] | None:
    """The default text and translations of ``value`` (None when it is not text: the model says so)."""
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict):
        return None
    dotted = ".".join(str(p) for p in path)
    texts: dict[str, str] = {}
    translations: dict[str, Translation] = {}
    for locale, text in value.items():
        line = line_for(lines, (*path, locale))
        if isinstance(text, int | float) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str):
            problems.append((file, line, f"'{dotted}.{locale}': write the {locale} text as a string"))
            continue
        if locale not in locales:
            problems.append((file, line, _unknown_locale(dotted, locale, locales)))
            continue
        texts[locale] = text
        if locale != locales[0] and text.strip():
            translations[locale] = Translation(text, file, line)
    if locales[0] not in texts:
        problems.append(
            (
                file,
                line_for(lines, path),
                f"'{dotted}' has no {locales[0]} text: a text in several languages needs the "
                f"default language (the first of locales:), e.g. {dotted}: {{{locales[0]}: ..., ...}}",
            )
        )
        fallback = next(iter(texts.values()), "")  # keeps the model valid; the problem stops the load
        return fallback, {}
    return texts[locales[0]], translations


def _unknown_locale(dotted: str, locale: str, locales: tuple[str, ...]) -> str:
    if len(locales) == 1:
        return (
            f"'{dotted}' has a {locale} text, but the catalog has one language: add "
            f"locales: [{locales[0]}, {locale}] to catalog.yaml (the first is the default)"
        )
    return (
        f"'{dotted}': {locale!r} is not one of the catalog's locales ({', '.join(locales)}): "
        "add it to locales: in catalog.yaml, or fix the spelling"
    )


def _add_department(
    name: str,
    translations: dict[str, Translation],
    file: str,
    line: int,
    table: dict[str, TextEntry],
    problems: Problems,
) -> None:
    """Record a department's name once; its translations may be written in any of its KPI files."""
    key = f"department:{name}"
    entry = table.get(key) or TextEntry(key, "department", (), name, file, line)
    for locale, found in translations.items():
        known = entry.translations.get(locale)
        if known is not None and known.text != found.text:
            problems.append(
                (
                    file,
                    found.line,
                    f"department '{name}' is translated to {locale} as {found.text!r} here and as "
                    f"{known.text!r} in {known.file}:{known.line}: write the same name in both "
                    "(or translate it in one file only)",
                )
            )
            continue
        entry.translations.setdefault(locale, found)
    table[key] = entry
