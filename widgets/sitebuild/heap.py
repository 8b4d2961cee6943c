"""Python's collections of cyclic garbage during a build: a build makes its long-lived objects
first (the app, its catalog, the last build's manifest: a million of them), and a collection that
goes over them again and again found nothing to free (a sixth of a rebuild's time).

Example:
    >>> import gc
    >>> with collections_paused():
    ...     gc.isenabled()
    False
    >>> with long_lived():
    ...     gc.get_freeze_count() > 0
    True
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collections_paused", "long_lived"]


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No collection within it (while many objects that are not garbage are made at once)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Within it, the objects made so far are left out of every collection (``gc.freeze``)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
