"""``python -m http.server`` that also answers with a ``LinkChecker`` header.

linkchecker sleeps 0.1 to 0.6 s between two requests to one host unless the host's answers carry a
``LinkChecker`` header, its documented way for a site to allow checking at full speed (with
``maxrequestspersecond`` raised in its configuration). Without it, checking the demo's ~860 URLs is
five minutes of sleeping. Everything else is the standard library's static file server, unchanged.

Run as ``python static_host.py PORT FOLDER``; it serves FOLDER on 127.0.0.1:PORT until stopped.
"""

from __future__ import annotations

import functools
import http.server
import sys


class LinkCheckedHandler(http.server.SimpleHTTPRequestHandler):
    """The standard handler, plus the one header that lifts linkchecker's politeness delay."""

    def end_headers(self) -> None:
        self.send_header("LinkChecker", "allowed")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # as `python -m http.server` run with its output thrown away


def main(port: int, folder: str) -> None:
    handler = functools.partial(LinkCheckedHandler, directory=folder)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
