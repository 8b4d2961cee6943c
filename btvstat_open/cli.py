"""The ``btvstat-open`` command line.

This module only parses arguments and hands each command to the function that
does the work; every user mistake ends as one line on stderr and exit code 2,
every failure as one line and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from btvstat_open.errors import BtvstatError, output_failure
from connectors.kinds import KINDS

__all__ = ["build_parser", "main"]

# command -> "module:function"; each function takes the parsed arguments and returns an exit code.
HANDLERS = {
    "serve": "btvstat_open.server.command:run_serve",
    "load": "btvstat_open.load:run_load",
    "pull": "connectors.commands:run_pull",
    "push": "connectors.commands:run_push",
    "sync": "catalog.commands:run_sync",
    "catalog validate": "catalog.commands:run_validate",
    "catalog export": "catalog.commands:run_export",
    "measure": "catalog.commands:run_measure",
    "render": "widgets.commands:run_render",
    "packet": "widgets.packets.commands:run_packet",
    # people: local accounts
    "user": "btvstat_open.people.commands:run_user",
    "entries import": "btvstat_open.people.commands:run_entries_import",
    "datasets": "btvstat_open.store.commands:run_datasets",
    "notify": "catalog.notify.commands:run_notify",
}
# The store's history (btvstat_open.store.history).
HANDLERS["store compact"] = "btvstat_open.store.commands:run_compact"
# Catalog text in several languages: `catalog translations stamp` (catalog.translation_report).
HANDLERS["catalog translations"] = "catalog.commands:run_translations"
# Data checks (catalog.data_checks).
HANDLERS["checks"] = "catalog.commands:run_checks_command"
# A load runs the loaded dataset's data checks (catalog.checked_load).
HANDLERS["load"] = "catalog.checked_load:run_load_checked"
# The site build: the public site as files (widgets.sitebuild).
HANDLERS["build-site"] = "btvstat_open.server.site_command:run_build_site"

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

# Library errors speak of parameters (``row_id='x'``); on the command line they are flags.
FLAGS = {
    "row_id": "--row-id",
    "kind": "--kind",
    "column_types": "--column-type",
    "date_formats": "--date-format",
    "page_size": "--page-size",
    "retries": "--retries",
    "where": "--where",
    "as_of": "--as-of",
}
_PARAMETER = re.compile(
    r"(?<![\w$&?/.:-])(" + "|".join(FLAGS) + r")=(?:\{'([^']*)': '([^']*)'\}|'([^']*)'|(?=[\s.,;)]|$))"
)

DEFAULT_STORE = os.environ.get("BTVSTAT_STORE", ".btvstat/store")
AS_OF_HELP = "compute as if today were DATE (YYYY-MM-DD); overrides as_of: in catalog.yaml"
# The portal kinds of the registry (connectors.kinds), and `auto`: ask the server.
KIND_CHOICES = ("auto", *KINDS)
KIND_HELP = (
    "the portal kind (default: from the URL's shape; a bare http(s) site is socrata; auto asks the server)"
)


def add_as_of(parser: argparse.ArgumentParser) -> None:
    """Add ``--as-of DATE`` (checked by the handler, so a bad date is one clear line and exit 2)."""
    parser.add_argument("--as-of", metavar="DATE", help=AS_OF_HELP)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command.

    Example:
        >>> build_parser().parse_args(["load", "f.csv", "--dataset", "x"]).dataset
        'x'
    """
    parser = argparse.ArgumentParser(
        prog="btvstat-open",
        description="Pull, publish, measure and chart city performance data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = (_add_serve, _add_load, _add_pull, _add_push, _add_sync, _add_catalog, _add_measure)
    for add in (*commands, _add_render, _add_packet, _add_datasets, _add_store, _add_checks, _add_notify):
        add(sub)
    _add_people(sub)
    _add_build_site(sub)
    return parser


def _add_people(sub: Subparsers) -> None:
    """``user add|remove|reset|list``: local accounts, for sign-in without an identity provider."""
    user = sub.add_parser("user", help="add, remove, reset or list local accounts (sign-in without SSO)")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    for name, text in (
        ("add", "create an account"),
        ("reset", "set a new password"),
        ("remove", "delete one"),
    ):
        one = actions.add_parser(name, help=text)
        one.add_argument("email")
        one.add_argument("--store", default=DEFAULT_STORE)
        if name != "remove":
            one.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
            one.add_argument(
                "--totp", action="store_true", help="require a one-time code (authenticator app)"
            )
        if name == "add":
            one.add_argument("--name", default="", help="the name shown on pages (default: the e-mail)")
            one.add_argument(
                "--group", action="append", default=[], help="a group access rules name (repeatable)"
            )
    listing = actions.add_parser("list", help="list the accounts")
    listing.add_argument("--store", default=DEFAULT_STORE)
    entries = sub.add_parser("entries", help="import entered values from a filled-in workbook")
    entries_sub = entries.add_subparsers(dest="entries_command", required=True, metavar="ACTION")
    imports = entries_sub.add_parser("import", help="submit a workbook's values as the program office")
    imports.add_argument("file", help="the filled-in workbook (.xlsx) from /updates/sheet.xlsx")
    imports.add_argument("--catalog", required=True)
    imports.add_argument("--store", default=DEFAULT_STORE)
    imports.add_argument(
        "--as", dest="as_person", required=True, metavar="EMAIL", help="the approver importing"
    )
    imports.add_argument("--approve", action="store_true", help="approve the values at once (audited)")


def _add_serve(sub: Subparsers) -> None:
    """``serve``: the dashboard, embeds and the SODA API."""
    serve = sub.add_parser("serve", help="serve the dashboard, embeds and the SODA API")
    serve.add_argument("--demo", action="store_true", help="load and serve the bundled demo catalog")
    serve.add_argument("--catalog", help="catalog folder of KPI YAML files")
    serve.add_argument("--store", default=DEFAULT_STORE, help="store folder (default: %(default)s)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    add_as_of(serve)


def _add_load(sub: Subparsers) -> None:
    """``load FILE --dataset ID``: a CSV or Parquet file into the store."""
    load = sub.add_parser("load", help="load a CSV, Excel (.xlsx) or Parquet file into the store")
    load.add_argument("file")
    load.add_argument("--dataset", required=True, help="dataset id, e.g. kc-311-potholes")
    load.add_argument("--store", default=DEFAULT_STORE)
    load.add_argument("--name", help="display name (default: kept on a reload, else the file name)")
    load.add_argument("--description", help="description (default: kept on a reload, else empty)")
    load.add_argument("--row-id", help="column whose values identify rows (for upserts)")
    load.add_argument(
        "--column-type",
        action="append",
        default=[],
        metavar="FIELD=TYPE",
        help="override an inferred type, e.g. zip_code=text (repeatable)",
    )
    load.add_argument(
        "--date-format",
        action="append",
        default=[],
        metavar="FIELD=PATTERN",
        help="read a column's dates with a strftime pattern, e.g. date=%%d.%%m.%%Y (repeatable)",
    )
    load.add_argument("--sheet", metavar="NAME", help="the sheet of an .xlsx workbook (default: the first)")
    # The dataset's Socrata-style id (every route takes it beside --dataset); kept by later loads.
    load.add_argument(
        "--four-by-four",
        metavar="XXXX-XXXX",
        help="the dataset's Socrata-style id, e.g. abcd-1234 (default: the one it has, else a derived one)",
    )
    _add_dataset_metadata(load)
    # Data checks at load (catalog.checked_load).
    load.add_argument(
        "--catalog",
        metavar="DIR",
        help="check the loaded dataset against this catalog's checks: (default: the checks last run on it)",
    )


def _add_dataset_metadata(load: argparse.ArgumentParser) -> None:
    """``load``'s dataset metadata: kept on a reload unless given anew."""
    load.add_argument("--license", help="an SPDX id (ODC-By-1.0, CC-BY-4.0, CC0-1.0) or the license's URL")
    load.add_argument("--attribution", help="who the data comes from, e.g. 'City of Santa Monica'")
    load.add_argument("--source-url", help="the source's own page for the data")
    load.add_argument("--tag", action="append", help="a keyword (repeatable)")
    load.add_argument("--source-updated", metavar="DATE", help="the day the source last updated the data")


def _add_pull(sub: Subparsers) -> None:
    """``pull PORTAL DATASET -o OUT``: a portal's dataset to a file."""
    pull = sub.add_parser("pull", help="pull a dataset from a portal or a file to Parquet or CSV")
    pull.add_argument("portal_url", help="a portal URL, or a folder or fsspec URL (file://, s3://) of files")
    pull.add_argument("dataset_id", help="the dataset id (for files: the file name, or its stem)")
    pull.add_argument("--kind", choices=KIND_CHOICES, help=KIND_HELP)
    pull.add_argument("--sheet", metavar="NAME", help="for an .xlsx file: the sheet (default: the first)")
    pull.add_argument(
        "-o", "--output", required=True, help="OUT.parquet or OUT.csv; a folder or URL with --partition-by"
    )
    pull.add_argument("--select")
    pull.add_argument("--where")
    pull.add_argument("--order")
    pull.add_argument("--since", help="only rows updated at or after this timestamp")
    pull.add_argument("--app-token", default=os.environ.get("BTVSTAT_APP_TOKEN"))
    pull.add_argument("--page-size", type=int)
    pull.add_argument("--retries", type=int, help="retries per request (default 6)")
    pull.add_argument(
        "--partition-by",
        metavar="FIELD[:year|:month]",
        help="write hive-partitioned Parquet (FIELD=VALUE/part-*.parquet) to the folder or URL -o names",
    )
    pull.add_argument("--parallel", type=int, help="with --partition-by: connections at once (default 4)")


def _add_push(sub: Subparsers) -> None:
    """``push FILE PORTAL DATASET``: a file to a portal's dataset."""
    push = sub.add_parser("push", help="publish a CSV or Parquet file to a portal dataset")
    push.add_argument("file")
    push.add_argument("portal_url")
    push.add_argument("dataset_id")
    push.add_argument("--kind", choices=KIND_CHOICES, help=KIND_HELP)
    push.add_argument("--mode", choices=["upsert", "replace"], default="upsert")
    push.add_argument("--row-id")
    push.add_argument("--app-token", default=os.environ.get("BTVSTAT_APP_TOKEN"))


def _add_sync(sub: Subparsers) -> None:
    """``sync --catalog DIR``: every dataset a catalog uses, up to date."""
    sync = sub.add_parser("sync", help="bring every dataset a catalog uses (or one dataset) up to date")
    sync.add_argument("portal_url", nargs="?", help="sync one dataset from here (instead of --catalog)")
    sync.add_argument("dataset_id", nargs="?", help="the dataset to sync from PORTAL_URL")
    sync.add_argument("--catalog", help="sync every dataset this catalog's KPIs use")
    sync.add_argument("--dataset", help="the local id for PORTAL_URL DATASET_ID (default: DATASET_ID)")
    sync.add_argument("--kind", choices=KIND_CHOICES, help=KIND_HELP)
    sync.add_argument("--app-token", default=os.environ.get("BTVSTAT_APP_TOKEN"))
    sync.add_argument("--store", default=DEFAULT_STORE)
    sync.add_argument(
        "--parallel", type=int, default=4, metavar="N", help="datasets synced at once (default: %(default)s)"
    )


def _add_catalog(sub: Subparsers) -> None:
    """``catalog validate|export DIR``."""
    catalog = sub.add_parser("catalog", help="validate or export a KPI catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    validate = catalog_sub.add_parser("validate", help="check every KPI file, report all problems")
    validate.add_argument("dir")
    validate.add_argument("--store", default=DEFAULT_STORE)
    export = catalog_sub.add_parser(
        "export", help="write DCAT-US data.json, datapackage.json or the program document"
    )
    export.add_argument("dir")
    export.add_argument("--format", choices=["dcat-us", "datapackage", "program"], required=True)
    export.add_argument("-o", "--output", help="file to write (default: stdout)")
    export.add_argument("--store", default=DEFAULT_STORE)
    export.add_argument("--base-url", default="http://127.0.0.1:8000")
    add_as_of(export)
    # Catalog text in several languages (docs/languages.md): what each translation was made from,
    # and which texts are not translated yet.
    translations = catalog_sub.add_parser("translations", help="stamp or list the catalog's translations")
    actions = translations.add_subparsers(dest="translations_command", required=True, metavar="ACTION")
    stamp = actions.add_parser(
        "stamp", help="record the source text of every translation (translations.lock)"
    )
    missing = actions.add_parser("missing", help="list every text not yet translated, by file and line")
    for action in (stamp, missing):
        action.add_argument("dir")
        action.add_argument("--locale", action="append", metavar="L", help="only this locale (repeatable)")


def _add_measure(sub: Subparsers) -> None:
    """``measure KPI --catalog DIR``: a KPI's series."""
    measure = sub.add_parser("measure", help="compute a KPI's series")
    measure.add_argument("kpi_id")
    measure.add_argument("--catalog", required=True)
    measure.add_argument("--store", default=DEFAULT_STORE)
    measure.add_argument("--format", choices=["table", "csv", "json"], default="table")
    measure.add_argument(
        "--breakdown",
        action="store_true",
        help="the measure per group of the KPI's breakdown column (small groups suppressed)",
    )
    add_as_of(measure)


def _add_render(sub: Subparsers) -> None:
    """``render KPI --catalog DIR -o FILE``: a KPI's chart."""
    render = sub.add_parser("render", help="render a KPI chart to SVG, PNG or HTML")
    render.add_argument("kpi_id")
    render.add_argument("--catalog", required=True)
    render.add_argument("--store", default=DEFAULT_STORE)
    render.add_argument("-o", "--output", required=True, help="FILE.svg, FILE.png or FILE.html")
    add_as_of(render)


def _add_packet(sub: Subparsers) -> None:
    """``packet MEETING --catalog DIR -o FILE``: a meeting's packet."""
    packet = sub.add_parser("packet", help="write a meeting's packet as PDF or self-contained HTML")
    packet.add_argument("meeting_id", help="a meeting id (a file under the catalog's meetings/)")
    packet.add_argument("--catalog", required=True)
    packet.add_argument("--store", default=DEFAULT_STORE)
    packet.add_argument(
        "--as-of", metavar="DATE", help="compute as of DATE (YYYY-MM-DD) instead of the meeting's own day"
    )
    packet.add_argument("-o", "--output", required=True, help="FILE.pdf or FILE.html")
    packet.add_argument(
        "--refresh",
        action="store_true",
        help="compute the kept packet again (as known on the meeting day) and keep it as a new revision",
    )


def _add_store(sub: Subparsers) -> None:
    """``store compact``: bound the store's history."""
    store = sub.add_parser("store", help="look after the store (compact its history)")
    store_sub = store.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    compact = store_sub.add_parser(
        "compact", help="forget row versions that ended more than --keep-days ago, and shrink the file"
    )
    compact.add_argument("--store", default=DEFAULT_STORE)
    compact.add_argument(
        "--keep-days",
        type=int,
        default=int(os.environ.get("BTVSTAT_HISTORY_KEEP_DAYS", "730")),
        metavar="N",
        help="history kept, in days (default: BTVSTAT_HISTORY_KEEP_DAYS or %(default)s)",
    )


def _add_checks(sub: Subparsers) -> None:
    """``checks [accept DATASET]``: the data checks of catalog.yaml."""
    checks = sub.add_parser("checks", help="run the catalog's data checks, or accept a held dataset")
    checks.add_argument("action", nargs="?", choices=["run", "accept"], default="run")
    checks.add_argument("dataset", nargs="?", help="with accept: the dataset to publish")
    checks.add_argument("--catalog", required=True)
    checks.add_argument("--store", default=DEFAULT_STORE)


def _add_datasets(sub: Subparsers) -> None:
    """``datasets [ID]``: what the store holds."""
    datasets = sub.add_parser(
        "datasets", help="list the store's datasets, or one dataset's columns and types"
    )
    datasets.add_argument("dataset_id", nargs="?", help="a dataset id: show its columns, types and metadata")
    datasets.add_argument("--store", default=DEFAULT_STORE)


def _add_notify(sub: Subparsers) -> None:
    """``notify --catalog DIR``: send what changed (e-mail digests, webhooks)."""
    notify = sub.add_parser(
        "notify", help="send the events of the catalog's rules (e-mail digests, webhooks)"
    )
    notify.add_argument("--catalog", required=True)
    notify.add_argument("--store", default=DEFAULT_STORE)
    notify.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; record and send nothing"
    )
    notify.add_argument(
        "--base-url", help="the public address links start with (default: site_url: or local)"
    )
    add_as_of(notify)


def _add_build_site(sub: Subparsers) -> None:
    """``build-site -o DIR --catalog DIR``: the public site as files, for any static host."""
    site = sub.add_parser("build-site", help="write the public site as files (for a static host or CDN)")
    site.add_argument(
        "-o", "--output", required=True, help="the folder to write (new, empty, or a previous build)"
    )
    site.add_argument("--catalog", required=True)
    site.add_argument("--store", default=DEFAULT_STORE)
    site.add_argument(
        "--base-url", help="the address the site will be served at (default: site_url: or local)"
    )
    site.add_argument("--no-pdf", action="store_true", help="leave out the meeting packets' PDFs")
    add_as_of(site)


def flag_words(text: str) -> str:
    """A library message in command-line words: each parameter named as its flag.

    Example:
        >>> flag_words("row_id='nope' is not a column; push without row_id=.")
        '--row-id nope is not a column; push without --row-id.'
        >>> flag_words("connect with kind='arcgis'"), flag_words("column_types={'zip': 'nope'}: unknown")
        ('connect with --kind arcgis', '--column-type zip=nope: unknown')
        >>> flag_words("GET /resource/x.json?$where= failed")  # SoQL and URLs are left alone
        'GET /resource/x.json?$where= failed'
    """

    def flag(match: re.Match[str]) -> str:
        name, key, value, quoted = match.group(1, 2, 3, 4)
        if key is not None:
            return f"{FLAGS[name]} {key}={value}"
        return f"{FLAGS[name]} {quoted}" if quoted is not None else FLAGS[name]

    return _PARAMETER.sub(flag, text)


def error_line(exc: BtvstatError) -> str:
    """The one line the command line prints for an error: its message, then any notes.

    Example:
        >>> err = BtvstatError("The portal failed.")
        >>> err.add_note("Sync of 'x' stopped; the local copy is unchanged.")
        >>> error_line(err)
        "error: The portal failed. Sync of 'x' stopped; the local copy is unchanged."
    """
    parts = [str(exc), *getattr(exc, "__notes__", ())]
    return "error: " + flag_words(" ".join(parts))


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    module_name, func = HANDLERS[name].split(":")
    module = importlib.import_module(module_name)
    return cast(Callable[[argparse.Namespace], int], getattr(module, func))


# Commands that open the store: while `serve` owns it, they run inside the server (btvstat_open.remote).
FORWARDED = (
    "load",
    "sync",
    "catalog validate",
    "catalog export",
    "measure",
    "render",
    "packet",
    "datasets",
    "store compact",
    "checks",
    "notify",
    # people: local accounts and workbook imports (a password is read here first)
    "user",
    "entries import",
)


def _name(args: argparse.Namespace) -> str:
    if args.command in ("catalog", "entries", "store"):  # commands with subcommands
        return f"{args.command} {getattr(args, args.command + '_command')}"
    return str(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    When a running ``serve`` owns the command's store, the command runs inside that server
    (:mod:`btvstat_open.remote`) and prints the same.

    Example:
        >>> main(["load", "missing.csv", "--dataset", "x", "--store", str(scratch / "s")])  # and on stderr:
        2

        ``error: No file 'missing.csv'. Check the path (it is relative to ...).``
    """
    args = build_parser().parse_args(argv)
    if _name(args) in FORWARDED and getattr(args, "store", None):
        from btvstat_open.store import find_owner

        owner = find_owner(args.store)
        if owner is not None:
            from btvstat_open.remote import forward

            code = _guarded(lambda: forward(owner, _read_locally(args)))
            if code is not None:
                return code
    return dispatch(args)


# What a forwarded command must read in the caller's terminal first (a new account's password),
# wired by "module:function" like HANDLERS.
READ_LOCALLY = {"user": "btvstat_open.people.commands:read_password"}


def _read_locally(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with what the command reads here added (see READ_LOCALLY), before it is forwarded."""
    wired = READ_LOCALLY.get(_name(args))
    if wired is None:
        return args
    module_name, func = wired.split(":")
    read = getattr(importlib.import_module(module_name), func)
    return cast(argparse.Namespace, read(args))


def dispatch(args: argparse.Namespace) -> int:
    """Run one parsed command here, in this process; returns the exit code (errors as one line)."""
    return _guarded(lambda: _handler(_name(args))(args)) or 0


def _guarded(run: Callable[[], int | None]) -> int | None:
    try:
        return run()
    except BtvstatError as exc:
        print(error_line(exc), file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        from btvstat_open.store.engine_errors import engine_failure

        # A DuckDB failure no command translated (a measure's or a check's query), or a write the
        # operating system refused (disk full, no permission): our own line.
        translated = output_failure(exc) or engine_failure(exc, "the command")
        if translated is None:
            raise
        print(error_line(translated), file=sys.stderr)
        return translated.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing was left half-written.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
