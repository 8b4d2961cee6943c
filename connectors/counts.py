"""No pull finishes short: the rows a pull delivered, checked against what the source says it holds.

Every portal kind asks its source for the number of rows a pull should bring (ArcGIS
``returnCountOnly``, CKAN's ``total``, Opendatasoft's ``total_count``, Socrata's ``count(*)``)
and wraps its batches in :func:`checked`. When the last batch has passed and the numbers differ,
the source is asked again (rows may have been added or removed while the pages were read): a
re-count equal to the rows delivered is accepted, anything else raises
:class:`~btvstat_open.errors.CountMismatch` naming both numbers. The error comes out of the
iterator before it ends, so an atomic file write is abandoned and a sync keeps its last good copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

from btvstat_open.errors import CountMismatch

__all__ = ["checked"]


def checked(
    batches: Iterable[pa.RecordBatch],
    *,
    expected: int | Callable[[], int | None] | None,
    recount: Callable[[], int | None],
    what: str,
) -> Iterator[pa.RecordBatch]:
    """``batches`` passed through; at the end, their row count must equal ``expected`` or a re-count.

    ``expected`` is the count, or a function giving it once the batches have passed (a count that
    comes with the first page); None (the source gave no count) checks nothing. ``recount()`` asks
    the source again, once, only on a mismatch.

    Example:
        >>> b = pa.record_batch({"n": [1, 2]})
        >>> sum(x.num_rows for x in checked([b], expected=2, recount=lambda: 2, what="t"))
        2
        >>> sum(x.num_rows for x in checked([b], expected=3, recount=lambda: 2, what="t"))  # rows left
        2
        >>> list(checked([b], expected=3, recount=lambda: 3, what="layer 0"))
        Traceback (most recent call last):
        ...
        btvstat_open.errors.CountMismatch: layer 0: the source says it holds 3 rows, but the pull ...
    """
    delivered = 0
    for batch in batches:
        delivered += batch.num_rows
        yield batch
    if callable(expected):
        expected = expected()
    if expected is None or delivered == expected:
        return
    again = recount()
    if again is None or again == delivered:
        return
    raise CountMismatch(what, expected=again, delivered=delivered)
