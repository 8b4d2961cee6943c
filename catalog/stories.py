"""Story files (``stories/*.md`` in a catalog): reading, checking, and which stories are public.

A story is Markdown with YAML front matter (:class:`~catalog.models.story.StoryMeta`) that places
blocks among its text, each a fenced block whose info word names what it shows and whose one line
names the id (docs/stories.md)::

    ```kpi-card
    id: pothole-days-to-close
    ```

The kinds are :data:`~catalog.models.story.BLOCK_KINDS`: ``kpi-card``, ``kpi-chart``,
``kpi-breakdown`` and ``goal-summary``. :func:`load_stories` reads every file and reports each
problem at its file and line, as KPI files are checked: front matter that is missing or invalid, a
block naming a KPI or goal the catalog does not have (or a private KPI), a breakdown of a KPI
without one, an unknown block kind, an id used twice. The text around the blocks is rendered once,
at load, by :func:`catalog.markdown.render_tokens` (so it is sanitised HTML from then on).

Example:
    >>> story = parse_story("---\\ntitle: T\\ndate: 2020-02-28\\nauthor: A\\nstatus: draft\\n---\\n"
    ...                     "Hello.\\n\\n```kpi-card\\nid: k\\n```\\n", "s")
    >>> story.parts[0], story.blocks
    ('<p>Hello.</p>\\n', [StoryBlock(kind='kpi-card', ref='k', line=10)])
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from catalog.checks import Problems
from catalog.markdown import markdown_parser, render_tokens
from catalog.models import Catalog, CatalogSettings, Kpi
from catalog.models.story import BLOCK_KINDS, Story, StoryBlock, StoryMeta
from catalog.models.texts import TextEntry
from catalog.pydantic_problems import translate
from catalog.translations import split_texts
from catalog.yamllines import YamlProblem, line_for, load_with_lines

__all__ = [
    "STORIES_DIR",
    "StoryProblem",
    "body_parts",
    "check_story",
    "load_stories",
    "parse_story",
    "public_stories",
    "read_story",
    "story_files",
    "story_kpis",
]

STORIES_DIR = "stories"
_ID = re.compile(r"^[a-z0-9-]{1,80}$")
_PARSER = markdown_parser()


class StoryProblem(Exception):
    """What is wrong with a story file: the first problem's ``message`` and ``line`` (1-based), and
    ``found``, every ``(line, message)`` of the file."""

    def __init__(
        self, message: str, line: int | None, found: list[tuple[int | None, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.line = message, line
        self.found = found or [(line, message)]


def story_files(root: Path) -> list[Path]:
    """The ``.md`` files under ``root/stories/`` (hidden ones skipped), sorted.

    Example:
        >>> story_files(Path("/no/such/catalog"))
        []
    """
    folder = root / STORIES_DIR
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*.md")
        if p.is_file() and not any(s.startswith(".") for s in p.relative_to(folder).parts)
    )


def _front_matter(text: str) -> tuple[str, int]:
    """The front matter's YAML and the 1-based line the Markdown after it starts on."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].lstrip("\ufeff").strip() != "---":  # a BOM is not text
        raise StoryProblem(
            "a story starts with front matter: a line '---', then title:, date:, author:, status:, "
            "then another '---' line",
            1,
        )
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:i]), i + 2
    raise StoryProblem("the front matter has no closing '---' line: add one after its last key", 1)


Found = list[tuple[int | None, str]]
#: the catalog's locales and its table of texts (catalog.translations)
Texts = tuple[tuple[str, ...], dict[str, TextEntry]]


def _meta(
    yaml_text: str, file: str, found: Found, texts: Texts | None = None, story_id: str = ""
) -> StoryMeta:
    """The front matter; its problems are appended to ``found`` (a stand-in is returned then).

    With ``texts`` (the catalog's locales and its table of texts), a title or summary written in
    several languages is split as :func:`catalog.translations.split_texts` does.
    """
    stand_in = StoryMeta.model_construct(title="", date=date.min, author="", status="draft", summary=None)
    try:
        data, lines = load_with_lines(yaml_text)
    except YamlProblem as exc:
        found.append(((exc.line or 0) + 1, exc.message))
        return stand_in
    if not isinstance(data, dict):
        found.append(
            (2, "the front matter must be keys: title:, date:, author:, status: (draft or published)")
        )
        return stand_in
    if texts is not None:
        shifted = {path: line + 1 for path, line in lines.items()}  # the front matter starts on line 2
        split: Problems = []
        data = split_texts({**data, "id": story_id}, "story", file, shifted, texts[0], texts[1], split)
        data.pop("id")
        found.extend((line, message) for _, line, message in split)
    try:
        return StoryMeta.model_validate(data)
    except ValidationError as exc:
        found.extend(
            ((line or 1) + 1, message) for _, line, message in translate(exc, StoryMeta, file, lines)
        )
        return stand_in


def _block(kind: str, content: str, line: int, found: Found) -> StoryBlock | None:
    """The block of a fence ``kind`` whose ``content`` starts on ``line`` (None, and a problem, if bad)."""
    try:
        data, lines = load_with_lines(content)
    except YamlProblem as exc:
        found.append((line, f"a {kind} block holds one line 'id: ...': {exc.message}"))
        return None
    if not isinstance(data, dict) or set(data) != {"id"}:
        extra = sorted(set(data) - {"id"}) if isinstance(data, dict) else []
        at = line + line_for(lines, (extra[0],)) - 1 if extra else line
        found.append((at, f"a {kind} block holds one line 'id: ...' and nothing else"))
        return None
    return StoryBlock(kind, str(data["id"]), line)


def read_story(text: str, story_id: str, file: str = "", texts: Texts | None = None) -> tuple[Story, Found]:
    """A story from its file's ``text``, and every ``(line, message)`` wrong with it (the story's
    parts hold its good blocks then, and its front matter may be a stand-in).

    A file without front matter is :class:`StoryProblem`. The blocks are not checked against a
    catalog here (:func:`check_story` does that).
    """
    yaml_text, body_line = _front_matter(text)
    found: Found = []
    meta = _meta(yaml_text, file, found, texts, story_id)
    parts = body_parts("".join(text.splitlines(keepends=True)[body_line - 1 :]), body_line, found)
    return Story(story_id, meta, parts), found


def body_parts(markdown: str, body_line: int, found: Found) -> tuple[str | StoryBlock, ...]:
    """A story body's parts: sanitised HTML and blocks (``body_line``: the file line it starts on);
    problems are appended to ``found``."""
    env: dict[str, Any] = {}
    tokens = _PARSER.parse(markdown, env)
    parts: list[str | StoryBlock] = []
    start = 0
    for i, token in enumerate(tokens):
        kind = token.info.strip() if token.type == "fence" else ""
        if not kind.startswith(("kpi-", "goal-")):
            continue
        line = body_line + (token.map[0] if token.map else 0)
        if i > start:
            parts.append(render_tokens(tokens[start:i], env))
        start = i + 1
        if kind not in BLOCK_KINDS:
            found.append((line, f"unknown block '{kind}': use one of {', '.join(BLOCK_KINDS)}"))
        elif (block := _block(kind, token.content, line + 1, found)) is not None:
            parts.append(block)
    if start < len(tokens):
        parts.append(render_tokens(tokens[start:], env))
    return tuple(parts)


def parse_story(text: str, story_id: str, file: str = "") -> Story:
    """A story from its file's ``text``; any problem is :class:`StoryProblem` (with its line)."""
    story, found = read_story(text, story_id, file)
    if found:
        raise StoryProblem(found[0][1], found[0][0], found)
    return story


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_story(
    story: Story, kpis: dict[str, Kpi], settings: CatalogSettings, file: str, problems: Problems
) -> None:
    """Append a problem for each block whose id the catalog cannot show.

    Example:
        >>> s = Story("s", StoryMeta(title="T", date=date(2020, 2, 28), author="A", status="draft"),
        ...           (StoryBlock("kpi-card", "potholes", 9),))
        >>> problems = []
        >>> check_story(s, {}, CatalogSettings(), "catalog/demo/stories/2020-02-potholes.md", problems)
        >>> problems[0][:2]
        ('catalog/demo/stories/2020-02-potholes.md', 9)
    """
    goals = {g.id for g in settings.goals}
    for block in story.blocks:
        if block.kind == "goal-summary":
            if block.ref not in goals:
                hint = _suggest(block.ref, goals)
                message = (
                    f"unknown goal '{block.ref}' in a goal-summary block{hint}: use a goal id of catalog.yaml"
                )
                problems.append((file, block.line, message))
            continue
        kpi = kpis.get(block.ref)
        if kpi is None:
            hint = _suggest(block.ref, kpis)
            message = f"unknown KPI '{block.ref}' in a {block.kind} block{hint}: use the id of a KPI file"
            problems.append((file, block.line, message))
        elif not kpi.public:
            problems.append(
                (file, block.line, f"KPI '{kpi.id}' is not public: a story may show only public KPIs")
            )
        elif block.kind == "kpi-breakdown" and kpi.breakdown is None:
            problems.append(
                (
                    file,
                    block.line,
                    f"KPI '{kpi.id}' has no breakdown: add breakdown: to its file or use a kpi-card block",
                )
            )


def _load_one(
    file: Path,
    kpis: dict[str, Kpi],
    settings: CatalogSettings,
    problems: Problems,
    texts: Texts | None = None,
) -> Story | None:
    story_id = file.stem
    if not _ID.match(story_id):
        problems.append(
            (str(file), None, "a story's file name is its address: use lowercase letters, digits and dashes, "
             "e.g. stories/2020-02-potholes.md")
        )  # fmt: skip
        return None
    try:
        text = file.read_text(encoding="utf-8")
        story, found = read_story(text, story_id, str(file), texts)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append((str(file), None, f"cannot read the file: {exc}; save it as UTF-8 text"))
        return None
    except StoryProblem as exc:
        problems.append((str(file), exc.line, exc.message))
        return None
    before = len(problems)
    problems.extend((str(file), line, message) for line, message in found)
    check_story(story, kpis, settings, str(file), problems)  # its good blocks, even if the rest is bad
    if texts is not None and len(problems) == before:  # the body, for each language's completeness
        from catalog.story_bodies import body_entry

        body_line = _front_matter(text)[1]
        markdown = "".join(text.splitlines(keepends=True)[body_line - 1 :])
        texts[1][f"story:{story_id}:body"] = body_entry(story_id, markdown, str(file), body_line)
    return story if len(problems) == before else None


def load_stories(
    files: Iterable[Path],
    kpis: dict[str, Kpi],
    settings: CatalogSettings,
    problems: Problems,
    texts: Texts | None = None,
) -> dict[str, Story]:
    """Every valid story in ``files`` by id (its file name); problems are appended; ``texts`` (the
    catalog's locales and table of texts) receives their titles, summaries and bodies. A file
    ``<id>.<locale>.md`` is the body of story ``<id>`` in that language (:mod:`catalog.story_bodies`).

    Example:
        >>> load_stories([], {}, CatalogSettings(), [])
        {}
    """
    from catalog.story_bodies import add_bodies, split_files

    locales = texts[0] if texts else tuple(settings.locales)
    files, translated = split_files(files, locales)
    stories: dict[str, Story] = {}
    for file in files:
        story = _load_one(file, kpis, settings, problems, texts)
        if story is None:
            continue
        if story.id in stories:
            problems.append(
                (str(file), None, f"a second story named '{story.id}': give each file its own name")
            )
            continue
        stories[story.id] = story
    return add_bodies(stories, translated, kpis, settings, problems, texts)


def public_stories(catalog: Catalog, today: date) -> list[Story]:
    """The published stories dated on or before ``today``, newest first (then by id).

    Example:
        >>> from catalog.demo import DEMO_DIR
        >>> from catalog.loader import load_catalog
        >>> [s.id for s in public_stories(load_catalog(DEMO_DIR), date(2020, 3, 2))]
        ['2020-02-potholes']
    """
    shown = [s for s in catalog.stories.values() if s.public_on(today)]
    return sorted(shown, key=lambda s: (s.meta.date, s.id), reverse=True)


def story_kpis(catalog: Catalog, story: Story) -> list[Kpi]:
    """The public KPIs a story shows: its KPI blocks' and those under its goal summaries, each once."""
    from catalog.goals import goal_tree, goals_by_id

    public = [k for k in catalog.kpis.values() if k.public]
    nodes = goals_by_id(goal_tree(catalog.settings, public))
    ids: dict[str, None] = {}
    for block in story.blocks:
        if block.kind == "goal-summary":
            node = nodes.get(block.ref)
            ids.update(dict.fromkeys(node.all_kpi_ids() if node else []))
        else:
            ids[block.ref] = None
    return [catalog.kpis[k] for k in ids if k in catalog.kpis and catalog.kpis[k].public]
