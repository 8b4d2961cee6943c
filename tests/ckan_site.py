"""A real CKAN 2.12 with the DataStore, started once per test session on 127.0.0.1.

Test equipment. CKAN comes from PyPI (``ckan[requirements]``) in a side virtual environment
that this module builds the first time (``~/.cache/btvstat-open/ckan-2.12.0-venv``: CKAN pins
its own Flask, SQLAlchemy ... which differ from the project's); PostgreSQL and Redis are Debian's, started on
free ports in a temporary folder; ckanext-harvest and ckanext-dcat (PyPI, :data:`EXTENSIONS`) are
enabled, so a test can harvest a DCAT-JSON catalog; Solr, in neither registry, is :mod:`solr_standin`. The
``ckan_site`` fixture yields the site's URL and a sysadmin API token; anything missing fails
the test saying what to install.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import free_port, serve
from solr_standin import SolrStandin

CKAN = "ckan[requirements]==2.12.0"
#: ckanext-dcat's DCAT-JSON harvester (``dcat_json_harvester``) runs inside ckanext-harvest, whose
#: ``ckan harvester run-test`` (a harvest without queue consumers) imports CKAN's test helpers
#: (factory_boy, pytest).
EXTENSIONS = ("ckanext-harvest==1.6.3", "ckanext-dcat==2.4.4", "factory-boy==3.3.3", "pytest==9.2.0")
#: Outside the repository (its files would be linted, collected and scanned there); kept between runs.
VENV = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "btvstat-open" / "ckan-2.12.0-venv"


@dataclass(frozen=True)
class CkanSite:
    url: str
    token: str
    ini: Path  # the site's configuration, for ``ckan -c INI ...`` commands

    def cli(self, *args: str) -> str:
        """Run one ``ckan`` command against this site; its output, or the test fails."""
        return _run(ckan_bin(), self.ini, *args)

    def action(self, action: str, /, **body: Any) -> dict[str, Any]:
        """POST one Action API call as the sysadmin; the ``result``, or the test fails."""
        resp = requests.post(
            f"{self.url}/api/3/action/{action}", json=body, headers={"Authorization": self.token}, timeout=120
        )
        answer = resp.json()
        assert answer.get("success"), f"{action}: {answer.get('error')}"
        result: dict[str, Any] = answer["result"]
        return result


def ckan_bin() -> Path:
    """The side environment's ``ckan`` command, built (pip from PyPI) when missing, with the
    harvesting extensions (:data:`EXTENSIONS`) added to an environment built without them."""
    ckan = VENV / "bin" / "ckan"
    if not ckan.exists():
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        _pip(CKAN)
        if not ckan.exists():
            shutil.rmtree(VENV, ignore_errors=True)
            pytest.fail(f"could not install {CKAN} into {VENV}")
    marker = VENV / ".extensions"
    if not marker.exists() or marker.read_text() != " ".join(EXTENSIONS):
        _pip(*EXTENSIONS)
        marker.write_text(" ".join(EXTENSIONS))
    return ckan


def _pip(*packages: str) -> None:
    done = subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "-q", *packages], capture_output=True, text=True, timeout=1200
    )
    if done.returncode != 0:
        pytest.fail(f"could not install {' '.join(packages)} into {VENV}: {done.stderr[-2000:]}")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.fail(f"PostgreSQL's {name} is missing: apt-get install postgresql (Debian).")
    return found[-1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user there."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres() -> Iterator[int]:
    """A PostgreSQL cluster in a temporary folder on a free port (trust auth, 127.0.0.1 only).

    The folder is made under the system's temporary folder, which the postgres user can reach
    (pytest's own are private to the user running the tests).
    """
    folder = Path(tempfile.mkdtemp(prefix="btvstat-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    subprocess.run(
        _as_postgres([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = _pg_bin("pg_ctl")
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield port
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def _psql(port: int, *sql: str, database: str = "postgres", file: Path | None = None) -> None:
    cmd = [
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        "postgres",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        database,
    ]
    for statement in sql:
        cmd += ["-c", statement]
    if file is not None:
        cmd += ["-f", str(file)]
    subprocess.run(cmd, check=True, capture_output=True)


@contextmanager
def _process(cmd: list[str], **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, **kwargs)  # type: ignore[call-overload]
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _configure(ckan: Path, ini: Path, pg: int, redis: int, solr: str, port: int) -> None:
    subprocess.run([str(ckan), "generate", "config", str(ini)], check=True, capture_output=True)
    db = f"127.0.0.1:{pg}"
    settings = {
        "sqlalchemy.url": f"postgresql://ckan_default:pass@{db}/ckan_test",
        "ckan.datastore.write_url": f"postgresql://ckan_default:pass@{db}/datastore_test",
        "ckan.datastore.read_url": f"postgresql://datastore_default:pass@{db}/datastore_test",
        "ckan.site_url": f"http://127.0.0.1:{port}",
        "ckan.redis.url": f"redis://127.0.0.1:{redis}/0",
        "solr_url": f"{solr}/solr/ckan",
        "ckan.plugins": "datastore harvest dcat dcat_json_harvester",
        "ckan.harvest.mq.type": "redis",  # on ckan.redis.url; `ckan harvester run-test` needs no queue
        "ckan.datastore.sqlsearch.enabled": "true",  # off by default; many sites turn it on
        "ckan.auth.create_unowned_dataset": "true",
        "ckan.storage_path": str(ini.parent / "storage"),
    }
    subprocess.run(
        [str(ckan), "config-tool", str(ini), *(f"{k} = {v}" for k, v in settings.items())],
        check=True,
        capture_output=True,
    )


def _run(ckan: Path, ini: Path, *args: str) -> str:
    done = subprocess.run([str(ckan), "-c", str(ini), *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"ckan {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


@contextmanager
def ckan_server(folder: Path) -> Iterator[CkanSite]:
    """Every part started, CKAN's database made, a sysadmin and its token: the running site."""
    ckan = ckan_bin()
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (Debian).")
    with ExitStack() as stack:
        pg = stack.enter_context(postgres())
        _psql(
            pg,
            "CREATE ROLE ckan_default LOGIN PASSWORD 'pass'",
            "CREATE ROLE datastore_default LOGIN PASSWORD 'pass'",
            "CREATE DATABASE ckan_test OWNER ckan_default",
            "CREATE DATABASE datastore_test OWNER ckan_default",
        )
        redis = free_port()
        stack.enter_context(
            _process(
                [
                    "redis-server",
                    "--port",
                    str(redis),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        solr = stack.enter_context(serve(SolrStandin()))
        ini, port = folder / "ckan.ini", free_port()
        (folder / "storage").mkdir()
        _configure(ckan, ini, pg, redis, solr, port)
        _run(ckan, ini, "db", "init")
        _run(ckan, ini, "db", "upgrade", "-p", "harvest")
        (folder / "permissions.sql").write_text(_run(ckan, ini, "datastore", "set-permissions"))
        _psql(pg, database="datastore_test", file=folder / "permissions.sql")
        _run(ckan, ini, "user", "add", "admin", "email=admin@example.org", "password=Password-12345")
        _run(ckan, ini, "sysadmin", "add", "admin")
        token = _run(ckan, ini, "user", "token", "add", "admin", "tests").strip().splitlines()[-1].strip()
        log = (folder / "ckan.log").open("wb")
        stack.callback(log.close)
        stack.enter_context(
            _process(
                [str(ckan), "-c", str(ini), "run", "-H", "127.0.0.1", "-p", str(port), "-r", "-D", "-t"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        url = f"http://127.0.0.1:{port}"
        _wait(url, folder / "ckan.log")
        yield CkanSite(url, token, ini)


def _wait(url: str, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/3/action/status_show", timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"CKAN did not start at {url}: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def ckan_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CkanSite]:
    """A real CKAN 2.12 with the DataStore (see the module doc)."""
    with ckan_server(tmp_path_factory.mktemp("ckan")) as site:
        yield site
