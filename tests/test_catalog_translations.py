"""Catalog text in several languages: the loader's split, validate's report, stamps, the localized view."""

from __future__ import annotations

from pathlib import Path

import pytest

from btvstat_open.cli import main
from btvstat_open.errors import UsageError
from catalog import load_catalog
from catalog.localized import Fallback, LocalText, default_text, localized
from catalog.translation_report import STAMPS_FILE, completeness, read_stamps
from tests.catalog_files import problems, write

SETTINGS = """\
    title: {en: City dashboard, es: Tablero de la ciudad, fr: Tableau de bord de la ville}
    publisher: City of Example
    locales: [en, es, fr]
    goals:
      - id: streets
        title: {en: Streets in good repair, es: Calles en buen estado}
        owner: Public Works
    """

TRANSLATED = """\
    id: potholes
    title:
      en: Pothole requests
      es: Solicitudes de baches
      fr: Demandes de nids-de-poule
    department: {en: Public Works, es: Obras Públicas, fr: Travaux publics}
    description: {en: Requests opened each month., es: Solicitudes abiertas cada mes.}
    unit: "%"
    source: {dataset: kc-311-potholes, date_column: creation_date}
    measure: {calculation: count}
    goals: [streets]
    notes:
      - {date: 2020-02-03, text: {en: Second crew added, es: Segunda cuadrilla, fr: Deuxième équipe}}
    """

PLAIN = """\
    id: trees
    title: Trees planted
    department: Public Works
    source: {dataset: trees, date_column: planted}
    measure: {calculation: count}
    """


def _catalog(tmp_path: Path, **extra: str) -> Path:
    return write(
        tmp_path,
        {"catalog.yaml": SETTINGS, "pw/potholes.yaml": TRANSLATED, "pw/trees.yaml": PLAIN, **extra},
    )


def test_mappings_become_default_text_and_a_translations_table(tmp_path: Path) -> None:
    catalog = load_catalog(_catalog(tmp_path))
    kpi = catalog.kpis["potholes"]
    assert (kpi.title, kpi.department, kpi.notes[0].text) == (
        "Pothole requests",
        "Public Works",
        "Second crew added",
    )
    assert catalog.settings.title == "City dashboard" and catalog.settings.locales == ["en", "es", "fr"]
    table = catalog.translations
    title = table.entries["kpi:potholes:title"]
    assert (Path(title.file).name, title.line, title.translations["fr"].line) == ("potholes.yaml", 2, 5)
    assert table.text("kpi:potholes:notes.0.text", "es") == "Segunda cuadrilla"
    assert table.text("site:goals.streets.title", "es") == "Calles en buen estado"
    # a department is one text, whichever KPI files name it
    assert table.entries["department:Public Works"].translations["fr"].text == "Travaux publics"
    assert table.text("kpi:trees:title", "es") is None


@pytest.mark.parametrize(
    ("title", "line", "expected"),
    [
        ("{es: Solicitudes, fr: Demandes}", 2, "'title' has no en text"),
        ("{en: Requests, de: Anfragen}", 2, "'title': 'de' is not one of the catalog's locales (en, es, fr)"),
        ("\n      en: Requests\n      es: [a, list]", 4, "'title.es': write the es text as a string"),
    ],
)
def test_bad_mappings_are_problems_at_their_line(
    tmp_path: Path, title: str, line: int, expected: str
) -> None:
    root = _catalog(tmp_path, **{"pw/trees.yaml": PLAIN.replace("title: Trees planted", f"title: {title}")})
    found = problems(root)
    assert len(found) == 1, found
    name, at, message = found[0]
    assert (name, at) == ("trees.yaml", line) and message.startswith(expected), found


def test_a_story_title_and_summary_take_translations(tmp_path: Path) -> None:
    story = (
        "---\ntitle:\n  en: Potholes\n  fr: Nids-de-poule\n"
        "date: 2020-02-19\nauthor: A\nstatus: published\n---\nText.\n"
    )
    catalog = load_catalog(_catalog(tmp_path, **{"stories/s.md": story}))
    assert catalog.stories["s"].meta.title == "Potholes"
    assert catalog.translations.entries["story:s:title"].translations["fr"].line == 4
    assert localized(catalog, "fr").stories["s"].meta.title == "Nids-de-poule"
    bad = story.replace("  en: Potholes\n", "")
    (tmp_path / "stories/s.md").write_text(bad)
    [(name, line, message)] = problems(tmp_path)
    assert (name, line) == ("s.md", 2) and message.startswith("'title' has no en text")


def test_a_translation_needs_the_locale_listed(tmp_path: Path) -> None:
    write(tmp_path, {"k.yaml": PLAIN.replace("title: Trees planted", "title: {en: Trees, es: Árboles}")})
    [(name, line, message)] = problems(tmp_path)
    assert (name, line) == ("k.yaml", 2) and "add locales: [en, es] to catalog.yaml" in message


def test_locales_are_babel_locales_and_departments_agree(tmp_path: Path) -> None:
    root = _catalog(
        tmp_path,
        **{
            "catalog.yaml": SETTINGS.replace("[en, es, fr]", "[en, es, fr, klingon]"),
            "pw/trees.yaml": PLAIN.replace(
                "department: Public Works", "department: {en: Public Works, es: Obras}"
            ),
        },
    )
    found = problems(root)
    assert found[0][:2] == ("catalog.yaml", 3) and "'klingon' is not a locale" in found[0][2]
    dept = [p for p in found if p[0] == "trees.yaml"]
    assert (
        dept and dept[0][1] == 3 and "translated to es as 'Obras' here and as 'Obras Públicas'" in dept[0][2]
    )


def test_validate_reports_completeness_missing_and_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _catalog(tmp_path)
    catalog = load_catalog(root)
    # 8 texts: site title and publisher, the goal's title, the department (once), the potholes
    # title, description and note, the trees title; the unit "%" needs no translation
    [es, fr] = completeness(catalog.translations)
    assert (es.translated, es.total, fr.translated, fr.total) == (6, 8, 4, 8)
    assert main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "languages: en (default); es: 6 of 8 texts (75%), fr: 4 of 8 texts (50%)" in out
    assert f"{root}/pw/trees.yaml:2: es: not translated: title ('Trees planted')" in out
    assert f"{root}/catalog.yaml:2: es: not translated: publisher ('City of Example')" in out
    assert "stale" not in out

    assert main(["catalog", "translations", "stamp", str(root)]) == 0
    assert f"{STAMPS_FILE}: stamped 10 translations" in capsys.readouterr().out
    assert read_stamps(root)["kpi:potholes:title"].keys() == {"es", "fr"}

    # The source text changes; its translations do not: both are stale, at their own lines.
    kpi_file = root / "pw/potholes.yaml"
    kpi_file.write_text(kpi_file.read_text().replace("en: Pothole requests", "en: Pothole requests made"))
    assert main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    stale = [line for line in out.splitlines() if "stale" in line]
    assert [line.split(": ")[0:2] for line in stale] == [[f"{kpi_file}:4", "es"], [f"{kpi_file}:5", "fr"]]
    assert "title ('Pothole requests made')" in stale[0]

    # Editing a translation clears its flag; stamping clears the rest.
    kpi_file.write_text(kpi_file.read_text().replace("es: Solicitudes de baches", "es: Solicitudes hechas"))
    main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")])
    stale = [line for line in capsys.readouterr().out.splitlines() if "stale" in line]
    assert len(stale) == 1 and ": fr: stale" in stale[0]
    assert main(["catalog", "translations", "stamp", str(root), "--locale", "fr"]) == 0
    main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")])
    assert "stale" not in capsys.readouterr().out


def test_validate_lists_the_first_missing_texts_and_missing_lists_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = {f"more/k{i:02}.yaml": PLAIN.replace("id: trees", f"id: k{i:02}") for i in range(12)}
    root = _catalog(tmp_path, **extra)
    main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")])
    out = capsys.readouterr().out.splitlines()
    es = [line for line in out if ": es: not translated: " in line]
    assert len(es) == 10  # 14 missing: the first 10, then a line saying how to list them all
    assert f"{root}: es: and 4 more texts not translated" in "\n".join(out)
    assert main(["catalog", "translations", "missing", str(root), "--locale", "es"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 14 and all(": es: not translated: " in line for line in listed)
    assert listed[-1].startswith(f"{root}/pw/trees.yaml:2: es: not translated: title ('Trees planted')")


def test_stamp_refuses_a_locale_the_catalog_lacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _catalog(tmp_path)
    assert main(["catalog", "translations", "stamp", str(root), "--locale", "de"]) == 2
    assert "--locale de is not one of the catalog's other locales (es, fr)" in capsys.readouterr().err
    assert not (root / STAMPS_FILE).exists()


def test_localized_view_falls_back_marked(tmp_path: Path) -> None:
    catalog = load_catalog(_catalog(tmp_path))
    fr = localized(catalog, "fr")
    assert localized(catalog, "fr") is fr and localized(catalog, "en") is catalog
    assert fr.version != catalog.version and fr.locale == "fr"
    potholes, trees = fr.kpis["potholes"], fr.kpis["trees"]
    assert potholes.title == "Demandes de nids-de-poule" and isinstance(potholes.title, LocalText)
    assert not isinstance(potholes.title, Fallback)
    assert potholes.notes[0].text == "Deuxième équipe"
    # the department's name is translated on every KPI of it, and keeps its default for URLs
    assert trees.department == "Travaux publics" and default_text(trees.department) == "Public Works"
    assert fr.settings.goals[0].owner == "Travaux publics"
    # missing: the default text, marked with its language
    assert (
        isinstance(trees.title, Fallback)
        and trees.title.__html__() == '<span lang="en" dir="ltr">Trees planted</span>'
    )
    assert (
        isinstance(potholes.description, Fallback) and fr.settings.goals[0].title == "Streets in good repair"
    )
    assert potholes.unit == "%" and not isinstance(potholes.unit, Fallback)  # nothing to translate
    assert fr.fallbacks == {
        "kpi:trees:title",
        "kpi:potholes:description",
        "site:publisher",
        "site:goals.streets.title",
    }
    # the loaded catalog is untouched
    assert catalog.kpis["potholes"].title == "Pothole requests" and not catalog.fallbacks
    with pytest.raises(UsageError, match="not one of the catalog's languages: use one of en, es, fr"):
        localized(catalog, "de")


def test_localized_texts_survive_pickling(tmp_path: Path) -> None:
    import pickle

    fr = localized(load_catalog(_catalog(tmp_path)), "fr")
    kpi = pickle.loads(pickle.dumps(fr.kpis["trees"]))
    assert kpi.title.__html__() == '<span lang="en" dir="ltr">Trees planted</span>'
    assert default_text(kpi.department) == "Public Works"
