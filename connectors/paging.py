"""Pagination as its own object: which page comes next, and when the last one has come.

A connector says how to fetch one page; a pager decides the order, how many pages are in
flight and where to stop. :class:`OffsetPager` numbers pages (``$offset``, ``resultOffset``,
``offset``...) and fetches up to ``concurrency`` at a time, handed out in order so memory
holds at most that many; :class:`KeysetPager` asks for rows after the last key seen, one
page after another, so rows that change while it reads cannot shift a page and be skipped.
Both stop at the first page shorter than the page size. Any portal kind can use them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from btvstat_open.errors import PortalResponseError, UsageError

__all__ = ["KeysetPager", "OffsetPager", "Page"]


@dataclass(frozen=True)
class Page:
    """One fetched page: its rows as batches, and how many rows it had.

    Example:
        >>> Page([pa.record_batch({"a": [1, 2]})], 2).rows
        2
    """

    batches: list[pa.RecordBatch]
    rows: int


def _same(a: Page, b: Page) -> bool:
    """Whether two pages hold the same rows in the same order."""
    if a.rows != b.rows or not a.batches or not b.batches:
        return False
    try:
        return bool(pa.Table.from_batches(a.batches).equals(pa.Table.from_batches(b.batches)))
    except pa.ArrowInvalid:  # different schemas
        return False


def _refuse_repeats(fetch: Callable[[int], Page], page0: Page) -> Callable[[int], Page]:
    """``fetch``, raising when a page equals the one before it (pages may arrive out of order)."""
    pages: dict[int, Page] = {0: page0}  # pages not yet compared with both neighbours
    fetched = {0}
    lock = threading.Lock()

    def checked(number: int) -> Page:
        page = fetch(number)
        with lock:
            pages[number] = page
            fetched.add(number)
            for low, high in ((number - 1, number), (number, number + 1)):
                if low in pages and high in pages and _same(pages[low], pages[high]):
                    raise PortalResponseError(
                        f"Page {high} of the pull held exactly the rows of page {low}: the portal (or a "
                        "caching proxy in front of it) ignores the page offset, so paging would never end. "
                        "Pull from the portal's own address, or ask its owner to fix paging.",
                        code="paging.repeat",
                    )
            for n in [n for n in pages if n + 1 in fetched and (n == 0 or n - 1 in fetched)]:
                del pages[n]  # compared with both neighbours: memory stays flat
        return page

    return checked


@dataclass(frozen=True)
class OffsetPager:
    """Pages 0, 1, 2 ... of ``page_size`` rows, up to ``concurrency`` in flight, yielded in order.

    Example:
        >>> pages = {0: Page([pa.record_batch({"a": [1, 2]})], 2), 1: Page([pa.record_batch({"a": [3]})], 1)}
        >>> [b.num_rows for b in OffsetPager(page_size=2, concurrency=2).batches(pages.__getitem__)]
        [2, 1]
        >>> OffsetPager(page_size=2).offset(3)
        6
    """

    page_size: int
    concurrency: int = 1

    def __post_init__(self) -> None:
        if self.page_size < 1 or self.concurrency < 1:
            raise UsageError("page_size and concurrency must be at least 1.")

    def offset(self, number: int) -> int:
        """The first row of page ``number`` (0-based)."""
        return number * self.page_size

    def batches(
        self, fetch: Callable[[int], Page], *, first_page: Page | None = None, distinct: bool = True
    ) -> Iterator[pa.RecordBatch]:
        """Batches of every page, in order; ``fetch(n)`` returns page ``n``.

        Page 0 is fetched alone (or taken from ``first_page``, which a caller fetched to learn
        whether a route exists); later pages ``concurrency`` at a time. With ``distinct`` (rows
        carry what tells them apart, so no two full pages can be equal), a full page equal to the
        page before is a :class:`PortalResponseError`: the portal ignores the offset, and paging
        on would never end.
        """
        # Page 0 alone first: most small datasets end there, and no request is wasted on page 1.
        page0 = first_page if first_page is not None else fetch(0)
        yield from page0.batches
        if page0.rows < self.page_size:
            return
        if distinct:
            fetch = _refuse_repeats(fetch, page0)
        if self.concurrency <= 1:
            yield from self._one_at_a_time(fetch)
            return
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="btvstat-page")
        pending: deque[Future[Page]] = deque()
        try:
            next_number = 1
            for _ in range(self.concurrency):
                pending.append(pool.submit(fetch, next_number))
                next_number += 1
            while pending:
                page = pending.popleft().result()
                yield from page.batches
                if page.rows < self.page_size:
                    return
                pending.append(pool.submit(fetch, next_number))
                next_number += 1
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def _one_at_a_time(self, fetch: Callable[[int], Page]) -> Iterator[pa.RecordBatch]:
        number = 1
        while True:
            page = fetch(number)
            yield from page.batches
            if page.rows < self.page_size:
                return
            number += 1


@dataclass(frozen=True)
class KeysetPager:
    """Pages of rows whose key is after the last key of the page before, one at a time.

    ``fetch(after)`` returns the page after key ``after`` (None: the first page), ordered by
    the key; ``last_key(page)`` reads the key of a page's last row.

    Example:
        >>> rows = list(range(5))
        >>> def fetch(after):
        ...     start = 0 if after is None else int(after) + 1
        ...     chunk = rows[start : start + 2]
        ...     return Page([pa.record_batch({"k": chunk})] if chunk else [], len(chunk))
        >>> pager = KeysetPager(page_size=2)
        >>> [b.num_rows for b in pager.batches(fetch, lambda p: str(p.batches[-1].column("k")[-1]))]
        [2, 2, 1]
    """

    page_size: int

    def batches(
        self, fetch: Callable[[str | None], Page], last_key: Callable[[Page], str]
    ) -> Iterator[pa.RecordBatch]:
        """Batches of every page, in key order."""
        after: str | None = None
        while True:
            page = fetch(after)
            yield from page.batches
            if page.rows < self.page_size:
                return
            key = last_key(page)
            if key == after:
                raise PortalResponseError(
                    f"A page after key {after!r} ended at key {key!r}: the portal ignores the key "
                    "condition, so paging would never end. Pull from the portal's own address.",
                    code="paging.repeat",
                )
            after = key
