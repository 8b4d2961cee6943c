"""The retry policy's former home: it is :mod:`connectors.retry` now, shared by every portal kind.

Kept so that code written against this path keeps working; import from :mod:`connectors.retry`.

Example:
    >>> from connectors.socrata.retry import RetryPolicy
    >>> RetryPolicy is __import__("connectors.retry", fromlist=["RetryPolicy"]).RetryPolicy
    True
"""

from __future__ import annotations

from connectors.retry import RetryPolicy, is_retryable_status, parse_retry_after

__all__ = ["RetryPolicy", "is_retryable_status", "parse_retry_after"]
