"""When to retry an HTTP request, and how long to wait: jittered exponential backoff (every portal kind).

429, 5xx, 202 ("still working on it") and dropped or cut-off connections are retried;
other 4xx answers never are, since asking again cannot change them. A ``Retry-After``
header (seconds or an HTTP date) is honoured as the least wait, capped by ``max_wait``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "is_retryable_status", "parse_retry_after"]


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth asking again for.

    Example:
        >>> [is_retryable_status(s) for s in (200, 202, 400, 404, 429, 500, 503)]
        [False, True, False, False, True, True, True]
    """
    return status in (202, 429) or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable.

    Example:
        >>> parse_retry_after("3")
        3.0
        >>> moment = datetime(2015, 10, 21, 7, 27, 58, tzinfo=UTC)
        >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=moment)
        2.0
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait before each retry.

    The wait before retry ``n`` (0-based) is a random value in ``[0, base * 2**n]``
    ("full jitter", so many clients do not retry in step), capped at ``max_wait``, and
    never less than the server's ``Retry-After``.

    Example:
        >>> policy = RetryPolicy(retries=3, base=0.5, max_wait=10)
        >>> 0 <= policy.delay(2) <= 2.0
        True
        >>> policy.delay(0, retry_after=4)
        4.0
    """

    retries: int = 6
    base: float = 0.25
    max_wait: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``attempt`` (0-based)."""
        backoff = random.uniform(0, min(self.max_wait, self.base * (2**attempt)))
        if retry_after is not None:
            return float(min(self.max_wait, max(backoff, retry_after)))
        return backoff
