"""Load a catalog folder and report every problem at once, each with its file, line and fix.

A catalog is a folder holding an optional ``catalog.yaml`` (site settings), one YAML file per
KPI, in any subfolders (hidden folders are skipped), and one file per Stat meeting under
``meetings/`` (checked by :mod:`catalog.meetings`), and the stories under ``stories/`` (Markdown,
checked by :mod:`catalog.stories`). :func:`load_catalog` reads them all, checks
them, and either returns a :class:`~catalog.models.Catalog` or raises one
:class:`~btvstat_open.errors.CatalogError` whose ``problems`` list every ``(file, line, message)``.
Given a store, it also checks that each dataset and column exists and that every ``where`` compiles.

Example:
    >>> from catalog.demo import DEMO_DIR
    >>> catalog = load_catalog(DEMO_DIR)
    >>> len(catalog.kpis) >= 12
    True
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from btvstat_open.errors import CatalogError
from btvstat_open.store import DatasetInfo, Store
from catalog.checks import Problems, check_against_store, check_kpi
from catalog.entries import ensure_entry_datasets
from catalog.filter_rows import empty_filter_warnings
from catalog.kpi_change import check_kpi_change_ids
from catalog.meetings import MEETINGS_DIR, load_meetings, meeting_files
from catalog.models import Catalog, CatalogSettings, Goal, Kpi, PortalSettings, content_version
from catalog.models.texts import TextEntry, Translations
from catalog.peer_checks import check_peer_ids
from catalog.program_checks import check_goal_dated_goals, check_goals
from catalog.pydantic_problems import translate
from catalog.stories import load_stories, story_files
from catalog.theme_checks import check_contrast, check_theme_files, theme_files
from catalog.translations import split_texts
from catalog.yamllines import YamlProblem, line_for, load_with_lines

__all__ = ["load_catalog"]

SETTINGS_FILE = "catalog.yaml"


def load_catalog(path: str | Path, store: Store | None = None) -> Catalog:
    """Load and validate the catalog in folder ``path``.

    Raises :class:`~btvstat_open.errors.CatalogError` listing every problem found (not just the
    first). With ``store``, datasets, columns and ``where`` filters are checked against it too.

    Example:
        >>> load_catalog("/no/such/folder")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.CatalogError: ...no catalog folder...
    """
    root = Path(path)
    if not root.is_dir():
        message = f"There is no catalog folder at {root}: pass the folder holding the KPI YAML files."
        raise CatalogError(
            message.replace("There is", "1 problem: there is"), problems=[(str(root), None, message)]
        )
    problems: Problems = []
    warnings: Problems = []
    texts: dict[str, TextEntry] = {}  # every text a reader sees, with its translations
    settings_path = root / SETTINGS_FILE
    settings = (
        _load_settings(settings_path, problems, texts) if settings_path.is_file() else CatalogSettings()
    )
    kpi_files = _kpi_files(root)
    kpis: dict[str, Kpi] = {}
    files: dict[str, Path] = {}
    known_datasets: dict[str, DatasetInfo | None] = {}
    peer_ids: dict[str, tuple[str, str, str]] = {}
    for file in kpi_files:
        # A KPI with problems still goes through the later checks (duplicate id, store), so that
        # one run lists everything; any problem makes the whole load fail below.
        loaded = _load_kpi(file, settings, problems, warnings, texts)
        if loaded is None:
            continue
        kpi, lines = loaded
        if kpi.id in kpis:
            problems.append(
                (
                    str(file),
                    line_for(lines, ("id",)),
                    f"duplicate KPI id '{kpi.id}' (also used in {files[kpi.id]}); every KPI needs its own id",
                )
            )
            continue
        if store is not None:
            if kpi.source.entry == "manual":  # its values are entered: start with an empty dataset
                ensure_entry_datasets(store, [kpi.id], public=kpi.public)
            before = len(problems)
            check_against_store(kpi, store, str(file), lines, problems, known_datasets)
            if len(problems) == before:  # a filter that fits the data but keeps no row: say why
                where_line = line_for(lines, ("source", "where"))
                warnings.extend((str(file), where_line, w) for w in empty_filter_warnings(kpi, store))
        check_peer_ids(kpi, str(file), lines, peer_ids, problems)  # one store copy per peer dataset
        kpis[kpi.id] = kpi
        files[kpi.id] = file
    if not kpi_files:
        problems.append((str(root), None, "no KPI files found: add one YAML file per KPI (see catalog/demo)"))
    if settings.theme is not None and (read := _read(settings_path, problems)):
        check_theme_files(settings.theme, root, str(settings_path), read[1], problems)  # catalog.theme_checks
        check_contrast(settings.theme, str(settings_path), read[1], problems)
    if any(g.dated_goal is not None for g in settings.goals) and (read := _read(settings_path, problems)):
        check_goal_dated_goals(settings, kpis, str(settings_path), read[1], problems)  # KPI under the goal
    if any(c.max_kpi_change for c in settings.checks.values()) and (read := _read(settings_path, problems)):
        check_kpi_change_ids(settings, kpis, str(settings_path), read[1], problems)  # KPIs of the dataset
    meeting_paths = meeting_files(root)
    meetings, meeting_file_of = load_meetings(meeting_paths, kpis, problems, (tuple(settings.locales), texts))
    story_paths = story_files(root)  # stories/*.md (catalog.stories)
    stories = load_stories(story_paths, kpis, settings, problems, (tuple(settings.locales), texts))
    if problems:
        raise _error(root, problems)
    version_files = [*kpi_files, *meeting_paths, *story_paths]
    if settings_path.is_file():
        version_files.append(settings_path)
    version_files.extend(_theme_version_files(root, settings))
    return Catalog(
        root=root,
        settings=settings,
        kpis=kpis,
        files=files,
        version=content_version(version_files, root),
        warnings=warnings,
        meetings=meetings,
        meeting_files=meeting_file_of,
        stories=stories,
        story_files={p.stem: p for p in story_paths if p.stem in stories},
        translations=Translations(tuple(settings.locales), texts),
        locale=settings.locales[0],
    )


def _error(root: Path, problems: Problems) -> CatalogError:
    def fmt(p: tuple[str, int | None, str]) -> str:
        return f"{p[0]}:{p[1]}: {p[2]}" if p[1] else f"{p[0]}: {p[2]}"

    shown = "; ".join(fmt(p) for p in problems[:3])
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    noun = "problem" if len(problems) == 1 else "problems"
    return CatalogError(
        f"{len(problems)} {noun} in the catalog at {root}: {shown}{more} "
        f"(`btvstat-open catalog validate {root}` lists them all)",
        problems=problems,
    )


def _theme_version_files(root: Path, settings: CatalogSettings) -> list[Path]:
    """The theme's files (logo, fonts, template overrides): a change to one changes the version."""
    if settings.theme is None:
        return []
    found = [root / relative for _, relative, _ in theme_files(settings.theme)]
    if settings.theme.templates is not None:
        found.extend(p for p in (root / settings.theme.templates).rglob("*") if p.is_file())
    return found


def _kpi_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if rel.parts[0] == MEETINGS_DIR:
            continue  # meeting files, not KPIs
        if path.suffix in (".yaml", ".yml") and rel.as_posix() != SETTINGS_FILE:
            found.append(path)
    return sorted(found)


def _read(file: Path, problems: Problems) -> tuple[Any, dict[tuple[str | int, ...], int]] | None:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append((str(file), None, f"cannot read the file: {exc}; save it as UTF-8 text"))
        return None
    try:
        return load_with_lines(text)
    except YamlProblem as exc:
        problems.append((str(file), exc.line, exc.message))
        return None


def _load_settings(file: Path, problems: Problems, texts: dict[str, TextEntry]) -> CatalogSettings:
    read = _read(file, problems)
    if read is None:
        return CatalogSettings()
    data, lines = read
    if data is None:
        return CatalogSettings()
    if not isinstance(data, dict):
        problems.append(
            (str(file), 1, "catalog.yaml must be a mapping of settings (title: ..., publisher: ...)")
        )
        return CatalogSettings()
    data = split_texts(data, "site", str(file), lines, _locales(data), texts, problems)
    try:
        settings = CatalogSettings.model_validate(data)
    except ValidationError as exc:
        problems.extend(translate(exc, CatalogSettings, str(file), lines))
        return _stand_in(data)
    check_goals(settings, str(file), lines, problems)
    return settings


def _stand_in(data: dict[str, Any]) -> CatalogSettings:
    """Settings that keep the portal and goal names of an invalid ``catalog.yaml``.

    The catalog is rejected anyway; the names spare the KPI files made-up problems (a portal or a
    goal they name is not unknown just because catalog.yaml has a typo elsewhere).
    """
    portals = data.get("portals")
    names = [str(name) for name in portals] if isinstance(portals, dict) else []
    stand_in = PortalSettings.model_construct(url="", app_token_env=None)
    goals = data.get("goals")
    goal_ids = (
        [str(g["id"]) for g in goals if isinstance(g, dict) and "id" in g] if isinstance(goals, list) else []
    )
    return CatalogSettings.model_construct(
        portals=dict.fromkeys(names, stand_in),
        goals=[Goal.model_construct(id=goal_id, title=goal_id) for goal_id in goal_ids],
        locales=list(_locales(data)),
    )


def _locales(data: dict[str, Any]) -> tuple[str, ...]:
    """The locales ``catalog.yaml`` lists (as written; the model checks them), else the default."""
    locales = data.get("locales")
    if isinstance(locales, list) and locales and all(isinstance(code, str) for code in locales):
        return tuple(locales)
    return tuple(CatalogSettings().locales)


def _load_kpi(
    file: Path, settings: CatalogSettings, problems: Problems, warnings: Problems, texts: dict[str, TextEntry]
) -> tuple[Kpi, dict[tuple[str | int, ...], int]] | None:
    """The KPI in ``file`` (``None`` when it cannot be built at all); problems are appended."""
    read = _read(file, problems)
    if read is None:
        return None
    data, lines = read
    if not isinstance(data, dict):
        problems.append(
            (
                str(file),
                1,
                "a KPI file must be a mapping of keys (id: ..., title: ..., source: ..., measure: ...)",
            )
        )
        return None
    data = split_texts(data, "kpi", str(file), lines, tuple(settings.locales), texts, problems)
    try:
        kpi = Kpi.model_validate(data)
    except ValidationError as exc:
        problems.extend(translate(exc, Kpi, str(file), lines))
        pruned = _without_harmless_errors(data, exc)
        if pruned is None:
            return None
        kpi = pruned
    check_kpi(kpi, settings, str(file), lines, problems, warnings)
    return kpi, lines


# Keys whose bad value can be dropped to check the rest of a KPI: their defaults feed no other rule
# (dropping a bad period.size or direction would make later checks report made-up problems).
_PRESENTATION_KEYS = {
    ("outcome_area",),
    ("description",),
    ("methodology",),
    ("analysis",),
    ("unit",),
    ("decimals",),
    ("chart",),
    ("tags",),
    ("public",),
    ("period", "start"),
    ("period", "include_current"),
}


def _without_harmless_errors(data: dict[str, Any], exc: ValidationError) -> Kpi | None:
    """The KPI without its unknown keys and bad presentation values, if that makes it valid.

    Lets one validation run also report the rule and store problems of a file that has a typo.
    """
    pruned = copy.deepcopy(data)
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] != "extra_forbidden":
            # Drop the whole presentation key (a bad tag drops the tags), or give up.
            prefixes = [loc[:n] for n in (1, 2) if loc[:n] in _PRESENTATION_KEYS]
            if not prefixes:
                return None
            loc = prefixes[0]
        parent: Any = pruned
        for part in loc[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(loc[-1], None)
    try:
        return Kpi.model_validate(pruned)
    except ValidationError:
        return None
