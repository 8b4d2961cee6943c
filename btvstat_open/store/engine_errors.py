"""DuckDB's errors as our own: a typed error (400 or 500 over HTTP), never the engine's text.

The SoQL compiler and the write decoders refuse bad input before DuckDB sees it; what still
reaches DuckDB and fails is translated here, once, where the store is entered: every write
(:meth:`Store.transaction`), the servers' error handlers and the command line's. The engine's
message (which names internal functions, casts and tables) goes to the log with a short
reference; the user gets a message of ours that says what to change, and the reference to
quote. Parameter values are never logged (they are the client's data), nor is anything from the
request's headers.

Example:
    >>> import duckdb
    >>> err = engine_error(duckdb.ConversionException("Conversion Error: x"), "the query")
    >>> (err.http_status, err.code, "Conversion Error" in err.message)
    (400, 'query.soql.type-mismatch', False)
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from btvstat_open.errors import BtvstatError, SoqlError, StoreError

__all__ = ["engine_error", "engine_failure", "translated"]

log = logging.getLogger("btvstat_open.store.engine_errors")

# Errors a value in the data or the query causes at run time (a cast that fails, a number out
# of range): the client can fix them by changing the query.
_VALUE_ERRORS = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException)
# Errors in binding or planning compiled SQL: a SoQL combination the compiler let through but
# DuckDB will not run. The client can rephrase; the log keeps the SQL for a fix here.
_QUERY_ERRORS = (duckdb.BinderException, duckdb.ParserException, duckdb.NotImplementedException)


def engine_error(exc: duckdb.Error, what: str, sql: str | None = None) -> BtvstatError:
    """The error to raise (``raise engine_error(exc, ...) from exc``) for a DuckDB failure.

    ``what`` names the work for the log ("the query", "the write to 'x'"); ``sql`` is logged
    (it holds placeholders, not values) when given.

    Example:
        >>> engine_error(duckdb.IOException("IO Error: disk"), "the write").http_status
        500
    """
    ref = secrets.token_hex(4)
    engine_text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, _VALUE_ERRORS):
        log.info("%s failed on a value [ref %s]: %s", what, ref, engine_text)
        return SoqlError(
            "The query could not run on this data: a value could not be converted or is out of range "
            "(text that is not a number or a timestamp, a number too large, a date out of range). "
            f"Check the values and types in the query, or convert with ::number / ::text (reference {ref}).",
            code="query.soql.type-mismatch",
            data={"reference": ref},
        )
    if isinstance(exc, _QUERY_ERRORS) and sql is not None:
        log.warning("%s could not be planned [ref %s]: %s; SQL: %s", what, ref, engine_text, sql)
        return SoqlError(
            "This server cannot run this combination of SoQL clauses. Simplify the query: select the "
            "expressions you group or order by and refer to them by alias, or drop constant terms "
            f"(reference {ref}).",
            code="query.soql.unsupported",
            data={"reference": ref},
        )
    log.error("%s failed in the store [ref %s]: %s: %s", what, ref, type(exc).__name__, engine_text)
    return StoreError(
        f"The store could not complete {what}. The log has the details (reference {ref}).",
        data={"reference": ref},
    )


def engine_failure(exc: BaseException, what: str) -> BtvstatError | None:
    """:func:`engine_error` for an exception that is DuckDB's; None for any other.

    Example:
        >>> engine_failure(duckdb.IOException("IO Error: disk"), "the load").code
        'store.error'
        >>> engine_failure(ValueError("x"), "the load") is None
        True
    """
    return engine_error(exc, what) if isinstance(exc, duckdb.Error) else None


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Raise a DuckDB failure inside the block as :func:`engine_error`'s error for ``what``.

    Example:
        >>> try:
        ...     with translated("the read"):
        ...         raise duckdb.CatalogException("Catalog Error: Table ds_x does not exist!")
        ... except StoreError as exc:
        ...     "Catalog" in exc.message
        False
    """
    try:
        yield
    except duckdb.Error as exc:
        raise engine_error(exc, what) from exc
