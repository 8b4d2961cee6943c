"""What never reaches the static site: a private KPI (its title, id and values) and a pending value,
each with a marker found nowhere else; and the mistakes ``build-site`` refuses, each one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from people_site import APPROVER, OTHER, Site, csrf_of, pending_ids, sign_in, submit
from people_site import people as people  # the fixture
from site_build_fixtures import BASE

from btvstat_open.cli import main
from btvstat_open.errors import UsageError
from btvstat_open.server.site_command import PUBLIC_ROUTES
from widgets.sitebuild import build_site
from widgets.sitebuild.build import prepare_folder

PRIVATE = "parks-staff-injuries"
PRIVATE_TITLE = "Staff injuries reported"
PENDING = "48213.5"  # a pending value of a public KPI nobody else would print
PENDING_FORMS = (b"48213", b"48,213")


def _values(people: Site) -> None:
    """An approved value of the private KPI, and a pending one of a public KPI."""
    bo, ops = people.new_client(), people.new_client()
    sign_in(bo, OTHER)
    sign_in(ops, APPROVER)
    assert submit(bo, f"{PRIVATE}|2020-01-01", value="4").status_code == 303
    assert submit(bo, "playground-inspections|2020-01-01", numerator="3", denominator="4").status_code == 303
    token = csrf_of(ops.get("/approvals").text)
    for number in pending_ids(ops):
        assert ops.post(f"/approvals/{number}/approve", data={"csrf": token}).status_code == 200
    made = submit(bo, "playground-inspections|2020-02-01", numerator=PENDING, denominator="100000")
    assert made.status_code == 303 and pending_ids(ops)


def test_no_file_holds_a_private_kpi_or_a_pending_value(people: Site, tmp_path: Path) -> None:
    _values(people)
    report = build_site(people.client.app, tmp_path / "site", base_url=BASE, public=PUBLIC_ROUTES)
    files = [path for path in (tmp_path / "site").rglob("*") if path.is_file()]
    assert report.broken == [] and len(files) > 30
    assert (tmp_path / "site/kpi/playground-inspections/index.html").is_file()
    for path in files:
        body = path.read_bytes()
        assert PRIVATE.encode() not in body and PRIVATE_TITLE.encode() not in body, path
        assert not any(form in body for form in PENDING_FORMS), path


def test_the_folder_must_be_writable_and_empty_or_a_previous_build(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(UsageError, match=r"Cannot write the site to .*Choose a folder you can write to"):
        prepare_folder(afile / "site")
    with pytest.raises(UsageError, match="is a file"):
        prepare_folder(afile)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty and is not a previous site build"):
        prepare_folder(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert prepare_folder(tmp_path / "new") is None and (tmp_path / "new").is_dir()


def test_the_command_line_says_what_is_wrong_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    argv = [
        "build-site",
        "-o",
        str(tmp_path / "mine"),
        "--catalog",
        "catalog/demo",
        "--store",
        str(tmp_path / "s"),
    ]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and error.startswith("error: ") and "not a previous site build" in error
    assert main([*argv[:-4], "--catalog", "catalog/demo", "--as-of", "soon"]) == 2
    assert "--as-of" in capsys.readouterr().err
