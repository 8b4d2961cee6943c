"""A throttling TCP proxy: every connection gets its own link of ``rate`` bytes/s and ``rtt`` round trip.

Test equipment (and the benchmark's): it stands for a city's slow link to a far portal, where one
connection is limited by bandwidth per connection and by latency, so that N connections really are
faster than one. Each direction of each connection delivers a chunk ``rtt / 2`` seconds after it
arrived and no faster than ``rate`` bytes per second; a bounded queue (about one bandwidth-delay
product) pushes back on the sender, as a real link does, so the proxy never holds a whole response.

Example:
    >>> with ThrottlingProxy("127.0.0.1", 8000, rate=20e6, rtt=0.05) as proxy:  # doctest: +SKIP
    ...     requests.get(proxy.url + "/api/views/abcd-1234.json")
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

__all__ = ["ThrottlingProxy"]

CHUNK = 64 * 1024


class ThrottlingProxy:
    """Forward ``127.0.0.1:<port>`` to ``host:port`` through a throttled link per connection.

    ``connections`` counts connections accepted; ``max_open`` the most open at once.
    """

    def __init__(self, host: str, port: int, *, rate: float, rtt: float) -> None:
        self.upstream = (host, port)
        self.rate = rate
        self.delay = rtt / 2
        self.connections = 0
        self.open = 0
        self.max_open = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="throttle")
        self._depth = max(2, int(rate * self.delay / CHUNK) + 2)
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThrottlingProxy:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = started.result(timeout=10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()
        await asyncio.sleep(0)  # let the transports finish closing before the loop stops

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        self._writers.add(client_w)
        try:
            up_r, up_w = await asyncio.open_connection(*self.upstream)
        except (OSError, asyncio.CancelledError):
            self.open -= 1
            self._writers.discard(client_w)
            client_w.close()
            return
        self._writers.add(up_w)
        try:
            # A client or the server going away ends its direction; the other then ends too.
            await asyncio.gather(
                self._pipe(client_r, up_w), self._pipe(up_r, client_w), return_exceptions=True
            )
        except asyncio.CancelledError:
            pass  # the proxy is stopping: end quietly (asyncio reports a cancelled handler as an error)
        finally:
            self.open -= 1
            for writer in (client_w, up_w):
                self._writers.discard(writer)
                with contextlib.suppress(Exception):
                    writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction: each chunk delayed by ``rtt / 2`` and paced to ``rate``."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=self._depth)

        async def receive() -> None:
            while True:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    data = b""  # the sender went away: pass on the end
                await queue.put((loop.time() + self.delay, data))
                if not data:
                    return

        receiving = asyncio.ensure_future(receive())
        free_at = loop.time()
        try:
            while True:
                due, data = await queue.get()
                if not data:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                start = max(due, free_at)
                free_at = start + len(data) / self.rate
                if start > loop.time():
                    await asyncio.sleep(start - loop.time())
                writer.write(data)
                try:
                    await writer.drain()
                except OSError:
                    return
                if free_at > loop.time():
                    await asyncio.sleep(free_at - loop.time())
        finally:
            receiving.cancel()  # receive() ends on errors itself, so a cancelled one has nothing to report


def main(argv: list[str] | None = None) -> None:
    """``python tests/throttle.py HOST:PORT --rate BYTES_PER_S --rtt SECONDS``: serve until killed.

    Prints the proxy's port on the first line (the benchmark runs the proxy in a process of its own,
    so that it never shares a GIL with the client it measures).
    """
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", help="HOST:PORT to forward to")
    parser.add_argument("--rate", type=float, required=True, help="bytes per second per connection")
    parser.add_argument("--rtt", type=float, required=True, help="round trip added, in seconds")
    args = parser.parse_args(argv)
    host, port = args.upstream.rsplit(":", 1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with ThrottlingProxy(host, int(port), rate=args.rate, rtt=args.rtt) as proxy:
        sys.stdout.write(f"{proxy.port}\n")
        sys.stdout.flush()
        stop.wait()


if __name__ == "__main__":
    main()
