"""Catalog validation: every kind of mistake is reported with its file, its line and a fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from catalog_files import problems, write

from btvstat_open.errors import CatalogError, KpiNotFound
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog
from catalog.demo import DEMO_DIR

GOOD = """\
id: good-kpi
title: Good KPI
department: Public Works
source:
  portal: local
  dataset: reqs
  date_column: opened
measure:
  calculation: median
  column: days
period:
  size: month
direction: lower_is_better
target: {value: 7, tolerance: 2}
tags: [streets, 311]
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store") as s:
        columns = [
            Column("opened", "Opened", "floating_timestamp"),
            Column("days", "Days", "number"),
            Column("kind", "Kind", "text"),
            Column("fy", "FY", "number"),
        ]
        s.create("reqs", "Requests", columns)
        s.replace("reqs", pa.table({"days": [1.0]}))
        yield s


def test_a_good_catalog_loads(tmp_path: Path, store: Store) -> None:
    root = write(tmp_path / "c", {"catalog.yaml": "title: T\nfiscal_year_start: 10\n", "pw/good.yaml": GOOD})
    catalog = load_catalog(root, store=store)
    assert list(catalog.kpis) == ["good-kpi"]
    kpi = catalog.kpis["good-kpi"]
    assert kpi.tags == ["streets", "311"]
    assert catalog.settings.fiscal_year_start == 10
    assert catalog.files["good-kpi"] == root / "pw" / "good.yaml"
    assert catalog.root == root and len(catalog.version) == 16
    with pytest.raises(KpiNotFound):
        catalog.get("nope")


def test_version_changes_with_any_file(tmp_path: Path) -> None:
    root = write(tmp_path / "c", {"good.yaml": GOOD})
    before = load_catalog(root).version
    assert load_catalog(root).version == before
    (root / "good.yaml").write_text(GOOD.replace("Good KPI", "Better KPI"))
    assert load_catalog(root).version != before


def test_unknown_key_names_the_line_and_suggests(tmp_path: Path) -> None:
    text = GOOD.replace("title: Good KPI", "titel: Good KPI\ntitle: Good KPI").replace(
        "  column: days", "  colum: days"
    )
    found = problems(write(tmp_path, {"k.yaml": text}))
    assert ("k.yaml", 2, "unknown key 'titel': did you mean 'title'?") in found
    assert any(
        line == 11 and "unknown key 'measure.colum': did you mean 'column'?" in m for _, line, m in found
    )


def test_wrong_types_and_values(tmp_path: Path) -> None:
    text = GOOD.replace("size: month", "size: fortnight").replace(
        "direction: lower_is_better", "decimals: many"
    )
    found = problems(write(tmp_path, {"k.yaml": text}))
    assert any(line == 12 and "period.size" in m and "'week'" in m for _, line, m in found)
    assert any(line == 13 and "decimals" in m and "integer" in m for _, line, m in found)


def test_missing_required_key(tmp_path: Path) -> None:
    found = problems(write(tmp_path, {"k.yaml": GOOD.replace("department: Public Works\n", "")}))
    assert found == [("k.yaml", 1, "missing required key 'department': add it")]
    found = problems(write(tmp_path, {"k.yaml": GOOD.replace("  date_column: opened\n", "")}))
    assert found == [("k.yaml", 4, "missing required key 'date_column' under 'source': add it")]


def test_bad_id_pattern(tmp_path: Path) -> None:
    found = problems(write(tmp_path, {"k.yaml": GOOD.replace("id: good-kpi", "id: Good_KPI")}))
    assert found[0][:2] == ("k.yaml", 1)
    assert "lowercase letters, digits and dashes" in found[0][2]


def test_duplicate_ids(tmp_path: Path) -> None:
    found = problems(write(tmp_path, {"a.yaml": GOOD, "b/other.yaml": "# same id\n" + GOOD}))
    assert len(found) == 1
    name, line, message = found[0]
    assert (name, line) == ("other.yaml", 2)
    assert "duplicate KPI id 'good-kpi'" in message and "a.yaml" in message


def test_rate_without_numerator_or_denominator(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  calculation: median\n  column: days\n", "  calculation: rate\n  as_percent: true\n"
    )
    found = problems(write(tmp_path, {"k.yaml": text}))
    assert (
        "k.yaml",
        8,
        "calculation 'rate' needs measure.numerator, e.g. numerator: {calculation: count}",
    ) in found
    assert any(line == 8 and "measure.denominator" in m for _, line, m in found)


def test_rate_sum_term_without_column(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  calculation: median\n  column: days\n",
        "  calculation: rate\n  numerator:\n    calculation: sum\n  denominator: {calculation: count}\n",
    )
    found = problems(write(tmp_path, {"k.yaml": text}))
    assert found == [("k.yaml", 10, "measure.numerator sums a column: add column: <number column>")]


def test_percentile_without_percentile(tmp_path: Path) -> None:
    found = problems(
        write(tmp_path, {"k.yaml": GOOD.replace("calculation: median", "calculation: percentile")})
    )
    assert found == [
        ("k.yaml", 9, "calculation 'percentile' needs measure.percentile, e.g. percentile: 90"),
    ]


def test_cumulative_with_recent(tmp_path: Path) -> None:
    text = GOOD.replace("calculation: median", "calculation: recent\n  cumulative: true")
    found = problems(write(tmp_path, {"k.yaml": text}))
    assert len(found) == 1 and found[0][1] == 10
    assert "cumulative running totals work with count, sum and rate, not 'recent'" in found[0][2]


def test_column_required_and_unused(tmp_path: Path) -> None:
    found = problems(write(tmp_path, {"k.yaml": GOOD.replace("  column: days\n", "")}))
    assert found == [("k.yaml", 9, "calculation 'median' needs measure.column: the number column to use")]
    # A key the calculation does not read is a warning, not an error (the format's full example has them).
    catalog = load_catalog(
        write(tmp_path, {"k.yaml": GOOD.replace("calculation: median", "calculation: count")})
    )
    assert [(Path(f).name, line, m) for f, line, m in catalog.warnings] == [
        ("k.yaml", 10, "calculation 'count' does not use measure.column; it is ignored")
    ]


def test_above_below_needs_a_direction(tmp_path: Path) -> None:
    found = problems(
        write(tmp_path, {"k.yaml": GOOD.replace("direction: lower_is_better", "direction: none")})
    )
    assert found[0][:2] == ("k.yaml", 14) and "needs direction" in found[0][2]


def test_unknown_portal_key(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "catalog.yaml": "portals:\n  city: {url: https://data.example.gov, app_token_env: CITY_TOKEN}\n",
            "k.yaml": GOOD.replace("portal: local", "portal: cty"),
        },
    )
    found = problems(root)
    assert found == [("k.yaml", 5, "unknown portal 'cty': use one of local, city (portals: in catalog.yaml)")]


def test_settings_file_errors(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"catalog.yaml": "title: T\nfiscal_year_start: 13\nembed:\n  allowed_origin: [x]\n", "k.yaml": GOOD},
    )
    found = problems(root)
    assert any(n == "catalog.yaml" and line == 2 and "fiscal_year_start" in m for n, line, m in found)
    assert ("catalog.yaml", 4, "unknown key 'embed.allowed_origin': did you mean 'allowed_origins'?") in found


def test_a_bad_settings_file_does_not_make_named_portals_unknown(tmp_path: Path) -> None:
    settings = "fiscal_year_start: 13\nportals:\n  city: {url: https://data.example.gov, app_tokn: X}\n"
    kpis = {
        "k.yaml": GOOD.replace("portal: local", "portal: city"),
        "j.yaml": GOOD.replace("id: good-kpi", "id: j").replace("portal: local", "portal: cty"),
    }
    found = problems(write(tmp_path, {"catalog.yaml": settings, **kpis}))
    assert [(name, line) for name, line, _ in found] == [
        ("catalog.yaml", 1),
        ("catalog.yaml", 3),
        ("j.yaml", 5),
    ]
    assert found[2][2] == "unknown portal 'cty': use one of local, city (portals: in catalog.yaml)"


def test_local_cannot_name_a_portal(tmp_path: Path) -> None:
    settings = "title: T\nportals:\n  local: {url: https://data.example.gov}\n"
    found = problems(write(tmp_path, {"catalog.yaml": settings, "k.yaml": GOOD}))
    assert found == [
        (
            "catalog.yaml",
            2,
            "'portals': 'local' is the built-in store and cannot name a portal; pick another name "
            "(got {'local': {'url': 'https://data.example.gov'}})",
        )
    ]


def test_portal_urls_and_embed_origins_are_checked(tmp_path: Path) -> None:
    settings = (
        "portals:\n  city: {url: data.example.gov}\nembed:\n  allowed_origins:\n"
        '    - https://www.example.gov\n    - "https://x.gov; script-src *"\n    - https://x.gov/path\n'
        "    - http://localhost:8080\n    - https://*.example.gov\n"
    )
    found = problems(write(tmp_path, {"catalog.yaml": settings, "k.yaml": GOOD}))
    assert [(name, line) for name, line, _ in found] == [
        ("catalog.yaml", 2),
        ("catalog.yaml", 6),
        ("catalog.yaml", 7),
    ]
    assert found[0][2].startswith("'portals.city.url': a portal url starts with https:// or http://")
    assert found[1][2].startswith("'embed.allowed_origins.1': not an origin: write scheme://host[:port]")
    ok = "embed: {allowed_origins: ['*']}\n"
    assert load_catalog(write(tmp_path, {"catalog.yaml": ok})).settings.embed.allowed_origins == ["*"]


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    found = problems(
        write(
            tmp_path,
            {
                "a.yaml": GOOD.replace("  size: month", "  size: [month"),
                "b.yaml": GOOD.replace("department: Public Works", "title: Again"),
            },
        )
    )
    assert found[0][0] == "a.yaml" and found[0][1] is not None and "not valid YAML" in found[0][2]
    assert found[1] == ("b.yaml", 3, "key 'title' appears twice in the same block; keep one")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.yaml": GOOD.replace("titl", "x"),
            "b.yaml": GOOD.replace("id: good-kpi", "id: b").replace(
                "calculation: median", "calculation: rate"
            ),
            "c.yaml": "just text",
            "d.yaml": GOOD.replace("id: good-kpi", "id: d"),
        },
    )
    found = problems(root)
    assert {name for name, _, _ in found} == {"a.yaml", "b.yaml", "c.yaml"}
    assert len(found) >= 4


def test_store_checks_dataset_columns_types_and_where(tmp_path: Path, store: Store) -> None:
    root = write(
        tmp_path / "c",
        {
            "a.yaml": GOOD.replace("dataset: reqs", "dataset: nothing-here"),
            "b.yaml": GOOD.replace("id: good-kpi", "id: b").replace("column: days", "column: dayz"),
            "c.yaml": GOOD.replace("id: good-kpi", "id: c").replace(
                "date_column: opened", "date_column: kind"
            ),
            "d.yaml": GOOD.replace("id: good-kpi", "id: d").replace(
                "  date_column: opened\n", '  date_column: opened\n  where: "days >>> 3"\n'
            ),
            "e.yaml": GOOD.replace("id: good-kpi", "id: e").replace("date_column: opened", "date_column: fy"),
            "f.yaml": GOOD.replace("id: good-kpi", "id: f").replace("column: days", "column: kind"),
        },
    )
    found = {name: (line, message) for name, line, message in problems(root, store)}
    assert found["a.yaml"][0] == 6 and "dataset 'nothing-here' is not in the store" in found["a.yaml"][1]
    assert "btvstat-open load FILE --dataset nothing-here" in found["a.yaml"][1]
    assert found["b.yaml"] == (10, "dataset 'reqs' has no column 'dayz': did you mean 'days'?")
    assert found["c.yaml"][0] == 7 and "column 'kind' is text" in found["c.yaml"][1]
    assert found["d.yaml"][0] == 8 and "where 'days >>> 3' does not parse" in found["d.yaml"][1]
    assert found["e.yaml"][0] == 12 and "period.size must be year or fiscal_year" in found["e.yaml"][1]
    assert found["f.yaml"][0] == 10 and "column 'kind' is text" in found["f.yaml"][1]


def test_rate_term_where_is_compiled(tmp_path: Path, store: Store) -> None:
    text = GOOD.replace(
        "  calculation: median\n  column: days\n",
        '  calculation: rate\n  numerator: {calculation: count, where: "nosuch = 1"}\n'
        "  denominator: {calculation: sum, column: days}\n",
    )
    found = problems(write(tmp_path / "c", {"k.yaml": text}), store)
    assert len(found) == 1 and found[0][1] == 10 and "does not compile" in found[0][2]


def test_where_that_does_not_parse_is_reported_without_a_store(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  calculation: median\n  column: days\n",
        '  calculation: rate\n  numerator: {calculation: count, where: "days <= "}\n'
        '  denominator: {calculation: count, where: "kind = \'a"}\n',
    ).replace("  date_column: opened\n", '  date_column: opened\n  where: "(days > 1"\n')
    found = problems(write(tmp_path, {"k.yaml": text}))
    assert [(line, m.split(" does not parse: ")[0]) for _, line, m in found] == [
        (8, "where '(days > 1'"),
        (11, "where 'days <= '"),
        (12, 'where "kind = \'a"'),
    ]
    # A filter that parses but names no column of the dataset needs the store to be found.
    fine = GOOD.replace("  date_column: opened\n", '  date_column: opened\n  where: "nosuch > 1"\n')
    assert list(load_catalog(write(tmp_path, {"k.yaml": fine})).kpis) == ["good-kpi"]


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalog folder"):
        load_catalog(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert problems(tmp_path / "empty")[0][2].startswith("no KPI files found")


def test_the_demo_catalog_is_valid() -> None:
    catalog = load_catalog(DEMO_DIR)
    assert catalog.settings.fiscal_year_start == 7
    assert len(catalog.kpis) >= 12


def test_kpi_files_in_any_subfolder_yml_too_hidden_folders_skipped(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a/b/c/deep.yml": GOOD.replace("id: good-kpi", "id: deep"),
            "top.yaml": GOOD,
            ".git/ignored.yaml": "not: a kpi\n",
            "notes.txt": "id: nope\n",
        },
    )
    catalog = load_catalog(root)
    assert sorted(catalog.kpis) == ["deep", "good-kpi"]
    assert catalog.files["deep"] == root / "a" / "b" / "c" / "deep.yml"


def test_portal_kinds_are_checked_and_a_file_portal_takes_a_folder(tmp_path: Path) -> None:
    settings = (
        "portals:\n"
        "  city: {kind: gis, url: 'https://gis.example.gov'}\n"
        "  files: {kind: file, url: exports}\n"
        "  wrong: {kind: ckan, url: exports}\n"
    )
    found = problems(write(tmp_path, {"catalog.yaml": settings, "k.yaml": GOOD}))
    assert [(name, line) for name, line, _ in found] == [("catalog.yaml", 2), ("catalog.yaml", 4)]
    assert found[0][2].startswith("'portals.city.kind': ") and "'socrata'" in found[0][2]
    assert "'file'" in found[0][2] and "'opendatasoft'" in found[0][2]
    assert "(a folder or fsspec URL needs kind: file)" in found[1][2]
    ok = "portals:\n  files: {kind: file, url: exports, title: Department exports}\n"
    portal = load_catalog(write(tmp_path, {"catalog.yaml": ok})).settings.portals["files"]
    assert (portal.kind, portal.url, portal.title) == ("file", "exports", "Department exports")
