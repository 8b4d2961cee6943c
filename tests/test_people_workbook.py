"""The spreadsheet round trip: download what is due, upload it back with a bad cell (its row and
column named, nothing written), fix, preview, submit; the published values match pandas'
reading of the same workbook."""

from __future__ import annotations

import io
import re

import httpx
import pandas as pd
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from people_site import APPROVER, OTHER, UPDATER, Site, csrf_of, pending_ids, sign_in


def _download(client: TestClient) -> bytes:
    response = client.get("/updates/sheet.xlsx")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store, private"
    return response.content


def _filled(data: bytes, cells: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    for ref, value in cells.items():
        book["Entries"][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, data: bytes) -> httpx.Response:
    token = csrf_of(client.get("/updates").text)
    files = {"file": ("updates.xlsx", data, "application/octet-stream")}
    return client.post("/updates/sheet", data={"csrf": token}, files=files)


def test_the_workbook_lists_what_is_due_with_instructions_and_validation(people: Site) -> None:
    ann = people.new_client()
    sign_in(ann, UPDATER)
    book = load_workbook(io.BytesIO(_download(ann)))
    sheet = book["Entries"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [f"sidewalk-repairs|2020-0{m}-01" for m in (2, 1)] + [
        f"sidewalk-repairs|2019-{m}-01" for m in (12, 11, 10)
    ]
    assert {r[2] for r in rows} == {"Public Works"} and rows[0][6] == "late"
    assert sheet.column_dimensions["A"].hidden
    assert any("H2:J6" in str(v.sqref) for v in sheet.data_validations.dataValidation)
    assert "Instructions" in book.sheetnames


def test_a_bad_cell_is_named_by_row_and_column_and_nothing_is_written(people: Site) -> None:
    ann, ops = people.new_client(), people.new_client()
    sign_in(ann, UPDATER)
    sign_in(ops, APPROVER)
    blank = _download(ann)
    bad = _upload(ann, _filled(blank, {"H2": "about 40", "H3": 41, "K3": "Normal month"}))
    assert bad.status_code == 400
    table = re.sub(r"\s+", " ", bad.text)
    assert "<td>2</td><td>H (Value)</td><td>value: &#39;about 40&#39; is not a number" in table
    assert "Nothing was saved" in table
    assert pending_ids(ops) == []
    good_book = _filled(blank, {"H2": 40.5, "H3": 41, "K3": "Normal month", "H6": "1,200"})
    preview = _upload(ann, good_book)
    assert preview.status_code == 200
    assert "3 values" in preview.text and pending_ids(ops) == []
    key = re.search(r'name="preview" value="([^"]+)"', preview.text)
    assert key is not None
    token = csrf_of(ann.get("/updates").text)
    done = ann.post(
        "/updates/sheet/submit", data={"csrf": token, "preview": key.group(1)}, follow_redirects=False
    )
    assert done.status_code == 303
    again = ann.post("/updates/sheet/submit", data={"csrf": token, "preview": key.group(1)})
    assert again.status_code == 400  # a preview is submitted once
    ids = pending_ids(ops)
    assert len(ids) == 3
    ops_token = csrf_of(ops.get("/approvals").text)
    for submission in ids:
        ops.post(f"/approvals/{submission}/approve", data={"csrf": ops_token})

    sheet = pd.read_excel(io.BytesIO(good_book), sheet_name="Entries")
    sheet = sheet[sheet["Value"].notna()]
    expected = {
        row["Period start"].date().isoformat(): float(str(row["Value"]).replace(",", ""))
        for _, row in sheet.iterrows()
    }
    series = pd.read_csv(io.StringIO(people.client.get("/kpi/sidewalk-repairs.csv").text)).set_index(
        "period_start"
    )
    assert {start: series.loc[start, "value"] for start in expected} == expected
    audit = ops.get("/audit.csv").text
    assert audit.count("(workbook)") == 3


def test_an_upload_into_another_department_is_refused_cell_by_cell(people: Site) -> None:
    ann, bo, ops = people.new_client(), people.new_client(), people.new_client()
    sign_in(ann, UPDATER)
    sign_in(bo, OTHER)
    sign_in(ops, APPROVER)
    foreign = _filled(_download(ann), {"H2": 5, "H3": 6})
    refused = _upload(bo, foreign)
    assert refused.status_code == 400
    assert refused.text.count("You do not enter values for Public Works") == 2
    assert pending_ids(ops) == []


def test_an_upload_that_is_not_a_workbook_is_one_clear_error(people: Site) -> None:
    ann = people.new_client()
    sign_in(ann, UPDATER)
    answer = _upload(ann, b"id,value\n1,2\n")
    assert answer.status_code == 400 and "not an .xlsx workbook" in answer.text
