"""A story's body in other languages: ``stories/<id>.<locale>.md`` beside ``stories/<id>.md``.

The file in another language holds only the Markdown body, with the same kinds of blocks (checked
as the story's are: a block may show only public KPIs); the title and summary are translated in the
story's own front matter (``title: {en: ..., es: ...}``). Each body is a text of the catalog's table
(key ``story:<id>:body``), so ``catalog validate`` counts it in each language's completeness, lists
it when missing and flags it when the default body changed since it was stamped. A page in a
language without its body shows the default one, marked with its ``lang``
(:func:`catalog.localized.localized` sets :attr:`~catalog.models.story.Story.body_lang`).

Example:
    >>> from pathlib import Path
    >>> story = Path("catalog/demo/stories/2020-02-potholes.md")
    >>> spanish = story.with_name(f"{story.stem}.es{story.suffix}")
    >>> main, bodies = split_files([story, spanish], ("en", "es"))
    >>> main == [story], [(name, locale) for _file, name, locale in bodies]
    (True, [('2020-02-potholes', 'es')])
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

from catalog.checks import Problems
from catalog.models import CatalogSettings, Kpi
from catalog.models.story import Story, StoryBlock
from catalog.models.texts import TextEntry, Translation

__all__ = ["add_bodies", "body_entry", "body_key", "split_files"]

_NAME = re.compile(r"^(?P<id>[a-z0-9-]{1,80})\.(?P<locale>[a-z]{2,3}(?:-[A-Z]{2})?)$")
Texts = tuple[tuple[str, ...], dict[str, TextEntry]]
Body = tuple[str | StoryBlock, ...]


def body_key(story_id: str) -> str:
    """The key of a story's body in the catalog's table of texts."""
    return f"story:{story_id}:body"


def split_files(
    files: Iterable[Path], locales: tuple[str, ...]
) -> tuple[list[Path], list[tuple[Path, str, str]]]:
    """The story files, and the bodies in other languages as ``(file, story id, locale)``."""
    main, bodies = [], []
    for file in files:
        named = _NAME.match(file.stem)
        if named:
            bodies.append((file, named["id"], named["locale"]))
        else:
            main.append(file)
    return main, bodies


def body_entry(story_id: str, markdown: str, file: str, line: int) -> TextEntry:
    """The table entry of a story's body in the default language (``line``: where it starts)."""
    return TextEntry(body_key(story_id), f"story-body:{story_id}", ("body",), markdown, file, line)


def _read_body(
    file: Path, story_id: str, locale: str, locales: tuple[str, ...], problems: Problems
) -> str | None:
    if locale not in locales[1:]:
        others = ", ".join(locales[1:]) or "none: list them under locales: in catalog.yaml"
        problems.append(
            (str(file), None, f"'{locale}' is not one of the catalog's other languages ({others}): "
             f"name a story's body in another language stories/{story_id}.<locale>.md")
        )  # fmt: skip
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append((str(file), None, f"cannot read the file: {exc}; save it as UTF-8 text"))
        return None
    if text.lstrip("\ufeff").startswith("---"):
        problems.append(
            (str(file), 1, "a story's body in another language has no front matter: translate the "
             f"title and summary in stories/{story_id}.md, e.g. title: {{en: ..., {locale}: ...}}")
        )  # fmt: skip
        return None
    return text


def add_bodies(
    stories: dict[str, Story],
    bodies: list[tuple[Path, str, str]],
    kpis: dict[str, Kpi],
    settings: CatalogSettings,
    problems: Problems,
    texts: Texts | None,
) -> dict[str, Story]:
    """``stories`` with their bodies in other languages (each checked; problems are appended)."""
    from catalog.stories import body_parts, check_story

    locales = texts[0] if texts else tuple(settings.locales)
    found_bodies: dict[str, list[tuple[str, Body]]] = {}
    for file, story_id, locale in sorted(bodies):
        text = _read_body(file, story_id, locale, locales, problems)
        story = stories.get(story_id)
        if text is None:
            continue
        if story is None:
            message = (
                f"no story '{story_id}' for this {locale} body: write stories/{story_id}.md (a valid story)"
            )
            problems.append((str(file), None, message + " or rename the file"))
            continue
        found: list[tuple[int | None, str]] = []
        parts = body_parts(text, 1, found)
        before = len(problems)
        problems.extend((str(file), line, message) for line, message in found)
        check_story(dataclasses.replace(story, parts=parts), kpis, settings, str(file), problems)
        if len(problems) > before:
            continue
        found_bodies.setdefault(story_id, []).append((locale, parts))
        entry = texts[1].get(body_key(story_id)) if texts else None
        if entry is not None and text.strip():
            entry.translations[locale] = Translation(text, str(file), 1)
    return {
        story_id: dataclasses.replace(story, bodies=tuple(found_bodies[story_id]))
        if story_id in found_bodies
        else story
        for story_id, story in stories.items()
    }
