"""Rows: 100 signed-in updaters submitting at once (p99 <= 300 ms), and a 500-row workbook
validated and previewed (<= 2 s).

The server runs in its own process (:func:`bench.serve.running_server`) over a catalog of 42
manual KPIs (12 open periods each: 504 workbook rows). The updaters are local accounts; each signs
in through the form, then all post a value at the same moment (a barrier), for several rounds.
The workbook row downloads the approver's workbook, fills every value, and times the upload
that checks every cell and answers the preview.

Example:
    >>> people_rows(workdir, updaters=100, rounds=3)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import re
import statistics
import textwrap
import threading
import time
from pathlib import Path

import requests

from bench.harness import Goal, Result, percentile
from bench.serve import running_server

__all__ = ["people_rows"]

PASSWORD = "bench passphrase not secret"
KPIS = 42
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_COOKIE = "__Host-btvstat-session"


def _catalog(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text(
        textwrap.dedent(
            """\
            title: Bench city
            as_of: 2024-01-15
            access:
              - {group: bench-updaters, role: updater, departments: [Public Works]}
              - {who: approver@bench.example, role: approver}
            """
        )
    )
    for n in range(KPIS):
        lines = [f"id: manual-{n}", f"title: Entered measure {n}", "department: Public Works"]
        (root / f"manual-{n}.yaml").write_text("\n".join([*lines, "source: {entry: manual}", ""]))
    return root


def _store(root: Path, catalog: Path, updaters: int) -> Path:
    from btvstat_open.people.accounts import Accounts
    from btvstat_open.store import Store
    from catalog import load_catalog

    with Store(root) as store:
        load_catalog(catalog, store)
        accounts = Accounts(store)
        for n in range(updaters):
            accounts.add(f"updater{n}@bench.example", PASSWORD, groups=["bench-updaters"])
        accounts.add("approver@bench.example", PASSWORD)
    return root


class _Browser:
    """One signed-in person: the session cookie (Secure, so sent by hand over plain HTTP) and CSRF."""

    def __init__(self, url: str, email: str) -> None:
        self.url = url
        self.http = requests.Session()
        form = self.http.get(f"{url}/login", timeout=30)
        token = _CSRF.search(form.text)
        assert token is not None
        login_cookie = form.cookies.get("__Host-btvstat-signin") or ""
        answer = self.http.post(
            f"{url}/login",
            data={"email": email, "password": PASSWORD, "csrf": token.group(1), "next": "/updates"},
            headers={"cookie": f"__Host-btvstat-signin={login_cookie}"},
            allow_redirects=False,
            timeout=30,
        )
        self.cookie = f"{_COOKIE}={answer.cookies[_COOKIE]}"
        page = self.get("/updates")
        found = _CSRF.search(page.text)
        assert found is not None
        self.csrf = found.group(1)

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.url + path, headers={"cookie": self.cookie}, timeout=60)

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.post(
            self.url + path, headers={"cookie": self.cookie}, allow_redirects=False, timeout=60, **kwargs
        )


def _submit_round(browsers: list[_Browser], round_no: int) -> list[float]:
    barrier = threading.Barrier(len(browsers))
    latencies: list[float] = [0.0] * len(browsers)

    def one(i: int) -> None:
        browser = browsers[i]
        item = f"manual-{i % KPIS}|2023-{12 - round_no % 12:02d}-01"
        data = {"item": item, "value": str(i + round_no), "csrf": browser.csrf}
        barrier.wait()
        start = time.perf_counter()
        answer = browser.post("/updates/value", data=data)
        latencies[i] = (time.perf_counter() - start) * 1000
        if answer.status_code != 303:
            raise RuntimeError(f"submission answered {answer.status_code}: {answer.text[:200]}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _workbook_upload(approver: _Browser, reps: int) -> tuple[list[float], int]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(approver.get("/updates/sheet.xlsx").content))
    sheet = book["Entries"]
    rows = sheet.max_row - 1
    for row in range(2, sheet.max_row + 1):
        sheet[f"H{row}"] = row * 1.5
        sheet[f"K{row}"] = "Entered for the benchmark"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        answer = approver.post(
            "/updates/sheet",
            data={"csrf": approver.csrf},
            files={"file": ("updates.xlsx", data, "application/octet-stream")},
        )
        times.append(time.perf_counter() - start)
        if answer.status_code != 200 or f"{rows} values" not in answer.text:
            raise RuntimeError(f"the workbook upload answered {answer.status_code}: {answer.text[:300]}")
    return times, rows


def people_rows(workdir: Path, *, updaters: int = 100, rounds: int = 3, reps: int = 5) -> list[Result]:
    """Both rows; the store and catalog are made under ``workdir``."""
    catalog = _catalog(workdir / "people-catalog")
    store = _store(workdir / "people-store", catalog, updaters)
    with running_server("widgets", store=store, catalog=catalog) as url:
        browsers = [_Browser(url, f"updater{n}@bench.example") for n in range(updaters)]
        _submit_round(browsers[:10], 99)  # warm up
        latencies = [ms for r in range(rounds) for ms in _submit_round(browsers, r)]
        approver = _Browser(url, "approver@bench.example")
        times, rows = _workbook_upload(approver, reps)
    return [
        Result(
            group="people",
            work=f"{updaters} signed-in updaters submitting at once: p99",
            unit="ms",
            ours=percentile(latencies, 99),
            higher_is_better=False,
            goal=Goal("max", 300, "ms"),
            samples={"ours": latencies},
            notes=f"{rounds} rounds of {updaters} form posts released together; each is a pending value",
        ),
        Result(
            group="people",
            work=f"a {rows}-row workbook validated and previewed",
            unit="s",
            ours=statistics.median(times),
            higher_is_better=False,
            goal=Goal("max", 2, "s"),
            samples={"ours": times},
            notes=f"median of {reps} uploads; every cell checked, nothing written",
        ),
    ]
