"""SoQL, Socrata's query language, parsed into a tree and compiled to safe DuckDB SQL.

Every value from a query becomes a ``?`` parameter; every name is resolved against the
dataset before it is quoted; only allow-listed functions compile (see
:mod:`.functions`). Errors are :class:`btvstat_open.errors.SoqlError` with Socrata's codes
(``query.soql.bad-parse``, ``query.soql.no-such-column``, ``query.soql.no-such-function``,
``query.soql.type-mismatch``, ...).

Example:
    >>> from btvstat_open.soql import QueryParams, compile_soql
    >>> params = QueryParams.from_request([("$select", "type, count(*)"), ("$group", "type")])
    >>> compiled = compile_soql(params, store.info("kc-311-potholes"))
    >>> store.cursor().sql(compiled.sql, params=compiled.params).to_arrow_table().to_pylist()
    [{'type': 'Pothole', 'count': 4493.0}]
"""

from btvstat_open.soql.functions import FUNCTIONS
from btvstat_open.soql.params import SOQL_PARAMS, QueryParams
from btvstat_open.soql.query import CompiledQuery, OutputColumn, compile_soql, compile_where

__all__ = [
    "FUNCTIONS",
    "SOQL_PARAMS",
    "CompiledQuery",
    "OutputColumn",
    "QueryParams",
    "compile_soql",
    "compile_where",
]
