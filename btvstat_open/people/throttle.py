"""Sign-in throttling: failed attempts per account and per address, in a sliding window.

After ``limit`` failures within ``window`` for an account, or ``4 x limit`` from one address,
further attempts are refused (without checking the password) until the window has moved on.
A success clears the account's failures. Kept in memory: a restart forgets them, which only
gives an attacker one more window.

Example:
    >>> throttle = Throttle(limit=2, window=60.0, clock=lambda: 0.0)
    >>> throttle.allowed("a@x.gov", "10.0.0.1")
    True
    >>> throttle.failed("a@x.gov", "10.0.0.1"); throttle.failed("a@x.gov", "10.0.0.1")
    >>> throttle.allowed("a@x.gov", "10.0.0.1"), throttle.allowed("b@x.gov", "10.0.0.1")
    (False, True)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Throttle"]

_MAX_KEYS = 100_000


class Throttle:
    """Counts failures per account and per address."""

    def __init__(
        self, *, limit: int = 5, window: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and now - times[0] > self.window:
            times.popleft()
        return len(times)

    def allowed(self, account: str, address: str) -> bool:
        """Whether another attempt may be checked now."""
        now = self.clock()
        with self._lock:
            return (
                self._count("a:" + account.lower(), now) < self.limit
                and self._count("ip:" + address, now) < 4 * self.limit
            )

    def failed(self, account: str, address: str) -> None:
        """Count a failed attempt."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > _MAX_KEYS:
                self._failures.clear()  # bounded memory under a spray of made-up names
            for key in ("a:" + account.lower(), "ip:" + address):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account: str) -> None:
        """Forget an account's failures after a good sign-in."""
        with self._lock:
            self._failures.pop("a:" + account.lower(), None)
