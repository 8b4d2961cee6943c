"""The exceptions btvstat-open raises.

Every error is a :class:`BtvstatError`. Each class carries the HTTP status a server
answers with (``http_status``), the exit code the command line ends with
(``exit_code``) and, for portal errors, Socrata's error code. Errors from other
libraries are translated once, where they enter (``raise PortalError(...) from exc``).

::

    BtvstatError
    ├── UsageError                    bad input from the user (exit 2, HTTP 400)
    │   ├── InvalidDatasetId
    │   ├── LoadError                 a file that cannot be loaded (names row and column)
    │   ├── CatalogError              an invalid catalog (names file and line)
    │   ├── SoqlError                 a query that does not parse or type-check
    │   ├── BudgetExceeded            a read over the query budget (time, columns, bytes)
    │   └── BadRequestBody            a write body that cannot be read (bad rows, too large)
    │       ├── RequestTooLarge       a write body or row count over the server's limit (HTTP 413)
    │       └── UnsupportedMediaType  a write body that is not JSON or CSV (HTTP 415)
    ├── NotFound                      (HTTP 404)
    │   ├── DatasetNotFound
    │   ├── KpiNotFound
    │   └── MeetingNotFound
    ├── AuthenticationRequired        missing or wrong write token (HTTP 401)
    ├── ApiNotImplemented             a Socrata API this server does not offer (HTTP 501)
    ├── NotSupported                  a portal kind cannot do this (push to ArcGIS...; HTTP 501)
    ├── ServerBusy                    every worker of a heavy pool is taken (HTTP 503, Retry-After)
    ├── ClientGone                    the client hung up before its answer was ready (HTTP 499)
    ├── StoreError                    the local store failed
    ├── PortalError                   a remote portal answered with an error
    │   ├── PortalAuthError           401 / 403
    │   ├── PortalNotFound            404
    │   ├── PortalRequestError        other 4xx: never retried
    │   ├── PortalUnavailable         429, 5xx, 202 or dropped connections, retries used up
    │   │   └── TruncatedBody         a body cut off or unreadable (retried, then raised)
    │   ├── PortalResponseError       an answer that is not this API's (HTML, another kind's JSON)
    │   ├── CountMismatch             a pull brought other than the rows the source counts (exit 1)
    │   └── PushError                 a push batch reported Errors > 0
    ├── SyncError                     a sync could not complete (state left as it was)
    ├── OutputError                   a file could not be written (disk full, no permission)
    └── RenderError                   a chart could not be rendered
"""

from __future__ import annotations

import errno
import os
from typing import Any

__all__ = [
    "ApiNotImplemented",
    "AuthenticationRequired",
    "BadRequestBody",
    "BtvstatError",
    "BudgetExceeded",
    "CatalogError",
    "ClientGone",
    "CountMismatch",
    "DatasetNotFound",
    "InvalidDatasetId",
    "KpiNotFound",
    "LoadError",
    "MeetingNotFound",
    "NotFound",
    "NotSupported",
    "OutputError",
    "PortalAuthError",
    "PortalError",
    "PortalNotFound",
    "PortalRequestError",
    "PortalResponseError",
    "PortalUnavailable",
    "PushError",
    "RenderError",
    "RequestTooLarge",
    "ServerBusy",
    "SoqlError",
    "StoreError",
    "SyncError",
    "TruncatedBody",
    "UnsupportedMediaType",
    "UsageError",
    "output_failure",
]


class BtvstatError(Exception):
    """Base of every btvstat-open error.

    ``code`` is a Socrata-style error code (``query.soql.bad-parse``), ``data``
    extra detail that servers put in the error body.

    Example:
        >>> try:
        ...     raise DatasetNotFound("abcd-1234")
        ... except BtvstatError as exc:
        ...     (exc.http_status, exc.code)
        (404, 'dataset.missing')
    """

    http_status: int = 500
    exit_code: int = 1
    default_code: str = "internal.error"

    def __init__(self, message: str, *, code: str | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.data = data

    def to_socrata(self) -> dict[str, Any]:
        """The error as Socrata's body: ``{"code", "error", "message", "data"}``."""
        body: dict[str, Any] = {"code": self.code, "error": True, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body


class UsageError(BtvstatError):
    """The user asked for something that cannot be done as asked."""

    http_status = 400
    exit_code = 2
    default_code = "bad.request"


class InvalidDatasetId(UsageError):
    """A dataset id that is not ``[a-z0-9][a-z0-9_-]*`` (at most 64 characters)."""

    default_code = "dataset.invalid-id"


class LoadError(UsageError):
    """A file that cannot be loaded. ``row`` is 1-based (header = row 1), ``column`` a header."""

    default_code = "load.bad-file"

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code, data={"row": row, "column": column})
        self.row = row
        self.column = column


class CatalogError(UsageError):
    """An invalid catalog. ``problems`` lists every ``(file, line, message)`` found."""

    default_code = "catalog.invalid"

    def __init__(self, message: str, *, problems: list[tuple[str, int | None, str]] | None = None) -> None:
        super().__init__(message, data=problems)
        self.problems = problems or []


class SoqlError(UsageError):
    """A SoQL query that cannot run; ``code`` is Socrata's, e.g. ``query.soql.no-such-column``."""

    default_code = "query.soql.bad-parse"


class BudgetExceeded(UsageError):
    """A read that went over one limit of the query budget.

    ``limit`` names the setting that raises it (``query_timeout_seconds``, ``max_columns``,
    ``max_response_bytes``); the body's ``data`` carries it and its value.

    Example:
        >>> BudgetExceeded("Too wide.", limit="max_columns", value=200).to_socrata()["data"]
        {'limit': 'max_columns', 'setting': 'BTVSTAT_MAX_COLUMNS', 'value': 200}
    """

    default_code = "query.budget-exceeded"

    def __init__(self, message: str, *, limit: str, value: float) -> None:
        data = {"limit": limit, "setting": f"BTVSTAT_{limit.upper()}", "value": value}
        super().__init__(message, data=data)
        self.limit = limit


class BadRequestBody(UsageError):
    """A write request whose body cannot be read or whose rows do not fit the dataset."""

    default_code = "write.bad-body"


class NotFound(BtvstatError):
    """Something asked for by name does not exist."""

    http_status = 404
    exit_code = 2
    default_code = "not.found"


class DatasetNotFound(NotFound):
    """No dataset with this id."""

    default_code = "dataset.missing"

    def __init__(self, dataset_id: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"No dataset {dataset_id!r}. List the datasets at /api/catalog/v1 or load one with "
            "`btvstat-open load FILE --dataset ID`.",
            data={"id": dataset_id},
        )
        self.dataset_id = dataset_id


class KpiNotFound(NotFound):
    """No KPI with this id in the catalog."""

    default_code = "kpi.missing"


class MeetingNotFound(NotFound):
    """No meeting with this id in the catalog's ``meetings/`` folder."""

    default_code = "meeting.missing"


class AuthenticationRequired(BtvstatError):
    """A write without the right token."""

    http_status = 401
    exit_code = 2
    default_code = "authentication_required"


class NotSupported(BtvstatError):
    """A portal kind cannot do what was asked (push to an ArcGIS layer, create on CKAN...).

    ``capability`` names the missing capability (``push``, ``create``, ``changes``) and
    ``kind`` the portal kind; the message says why and what to do instead.

    Example:
        >>> err = NotSupported("ArcGIS layers are read-only here.", capability="push", kind="arcgis")
        >>> (err.http_status, err.exit_code, err.data)
        (501, 2, {'capability': 'push', 'kind': 'arcgis'})
    """

    http_status = 501
    exit_code = 2
    default_code = "connector.not-supported"

    def __init__(self, message: str, *, capability: str, kind: str) -> None:
        super().__init__(message, data={"capability": capability, "kind": kind})
        self.capability = capability
        self.kind = kind


class ApiNotImplemented(BtvstatError):
    """A Socrata API the local portal does not offer (the publishing API, non-data files)."""

    http_status = 501
    exit_code = 2
    default_code = "not_implemented"


class ServerBusy(BtvstatError):
    """Every worker of a heavy pool (queries, renders) is taken; ``retry_after`` is in seconds.

    Example:
        >>> ServerBusy("Busy.", pool="queries", retry_after=5).http_status
        503
    """

    http_status = 503
    default_code = "server.busy"

    def __init__(self, message: str, *, pool: str, retry_after: int) -> None:
        super().__init__(message, data={"pool": pool, "retry_after": retry_after})
        self.retry_after = retry_after


class ClientGone(BtvstatError):
    """The client closed the connection while its request was still being worked on.

    The work is interrupted; the 499 (nginx's "client closed request") is never seen by anyone.
    """

    http_status = 499
    default_code = "request.cancelled"


class StoreError(BtvstatError):
    """The local store failed."""

    default_code = "store.error"


class PortalError(BtvstatError):
    """A remote portal answered with an error.

    Carries the HTTP ``status``, Socrata's error ``code`` and ``message`` and the
    ``request_id`` from ``X-Socrata-RequestId`` (quote it to the portal's support).
    """

    http_status = 502
    default_code = "portal.error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message, code=code, data=data)
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        extra = [f"HTTP {self.status}" if self.status else "", self.code]
        if self.request_id:
            extra.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(e for e in extra if e)})"


class PortalAuthError(PortalError):
    """The portal refused the credentials (401/403)."""

    exit_code = 2


class PortalNotFound(PortalError):
    """The portal has no such dataset or route (404)."""

    exit_code = 2


class PortalRequestError(PortalError):
    """The portal rejected the request (4xx other than 401, 403, 404, 429)."""

    exit_code = 2


class PortalUnavailable(PortalError):
    """The portal kept failing (429, 5xx, 202 or dropped connections) after every retry."""


class TruncatedBody(PortalUnavailable):
    """A response body that ended early or does not parse; the request is sent again.

    Example:
        >>> TruncatedBody("GET /resource/x.csv: the body ended early").code
        'response.truncated'
    """

    default_code = "response.truncated"


class PortalResponseError(PortalError):
    """The server answered, but not as this portal kind's API does: an HTML page, a JSON
    list where an object belongs, another kind's JSON (an ArcGIS service). Not retried:
    asking again gets the same answer; the message says which URL or kind to use instead.

    Example:
        >>> PortalResponseError("GET /api/views/x.json: not a Socrata answer").exit_code
        1
    """

    default_code = "response.unexpected"


class CountMismatch(PortalError):
    """A pull delivered another number of rows than the source says it holds (and a re-count
    after the pull agreed with neither): nothing is written, a sync keeps its last good copy.

    Example:
        >>> exc = CountMismatch("layer 0", expected=13920, delivered=2000)
        >>> (exc.expected, exc.delivered, exc.exit_code, exc.code)
        (13920, 2000, 1, 'pull.count-mismatch')
    """

    default_code = "pull.count-mismatch"

    def __init__(self, what: str, *, expected: int, delivered: int, **kwargs: Any) -> None:
        super().__init__(
            f"{what}: the source says it holds {expected:,} rows, but the pull delivered {delivered:,}; "
            "nothing was written. Pull again; if the numbers stay apart, the server pages wrongly "
            "(narrow the pull with a where clause, or report it to the portal with this message).",
            data={"expected": expected, "delivered": delivered},
            **kwargs,
        )
        self.expected = expected
        self.delivered = delivered


class PushError(PortalError):
    """A push batch came back with ``Errors > 0``; ``batch`` is its 0-based number."""

    def __init__(self, message: str, *, batch: int, result: Any = None, **kwargs: Any) -> None:
        super().__init__(message, data=result, **kwargs)
        self.batch = batch
        self.result = result


class SyncError(BtvstatError):
    """A sync could not complete; the previous output and state are left as they were."""


class OutputError(BtvstatError):
    """A file could not be written: the disk is full, a size limit was hit, or no permission.

    Example:
        >>> import errno
        >>> print(output_failure(OSError(errno.ENOSPC, "No space left on device")))
        A file could not be written: No space left on device. Free some space (or choose another
        place to write) and run the command again; nothing was left half-written.
    """

    default_code = "output.failed"


# The operating system's answers to a write that the user can fix: disk full, quota, file size
# limit, read-only file system, no permission.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
_OUTPUT_ADVICE = {
    errno.EACCES: "Check the permissions of the place you write to",
    errno.EPERM: "Check the permissions of the place you write to",
    errno.EROFS: "Choose a place that can be written to",
}


def output_failure(exc: BaseException) -> OutputError | None:
    """The :class:`OutputError` for an operating-system write failure, or ``None`` for other errors.

    Used where commands are run, so a full disk is one line of advice, not a traceback.

    Example:
        >>> output_failure(ValueError("not an OS error")) is None
        True
        >>> import errno
        >>> print(output_failure(OSError(errno.EROFS, "Read-only file system")))
        A file could not be written: Read-only file system. Choose a place that can be written to
        and run the command again; nothing was left half-written.
    """
    if not isinstance(exc, OSError) or exc.errno not in _OUTPUT_ERRNOS:
        return None
    # The system's own words for the number: libraries (pyarrow) wrap them in longer text.
    reason = os.strerror(exc.errno)
    advice = _OUTPUT_ADVICE.get(exc.errno, "Free some space (or choose another place to write)")
    return OutputError(
        f"A file could not be written: {reason}. {advice} and run the command again; "
        "nothing was left half-written."
    )


class RenderError(BtvstatError):
    """A chart could not be rendered."""


class RequestTooLarge(BadRequestBody):
    """A write body (or its row count) over the server's limit."""

    http_status = 413
    default_code = "request.too-large"


class UnsupportedMediaType(BadRequestBody):
    """A write whose ``Content-Type`` is not one the route reads (JSON, or CSV for rows)."""

    http_status = 415
    default_code = "unsupported.media-type"
