"""Commands that run inside the ``serve`` process that owns their store.

``serve`` holds its store open (DuckDB allows one writing process), so ``load``, ``sync``,
``measure``, ``catalog validate|export``, ``render`` and ``packet`` started while it runs hand
their parsed arguments to it instead: :func:`forward` sends them to the server's **control
endpoint**, and :class:`ControlServer` runs them there, on the server's open store, and sends
back what they print as they print it, then their exit code. The command line looks the same
either way.

The control endpoint is a separate listener on ``127.0.0.1`` (never the public address), and
every request carries the random token of the store's owner file
(:mod:`btvstat_open.store.owner`, readable by the server's user only). Relative paths in the
arguments are made absolute before they are sent, so they mean what they meant where the
command was typed. Commands run with the server's environment variables.

Example:
    >>> import argparse
    >>> args = argparse.Namespace(command="measure", store="s", catalog="c", format="table")
    >>> sent = portable(args)
    >>> sent["store"] == str(Path("s").resolve()), sent["format"]
    (True, 'table')
"""

from __future__ import annotations

import argparse
import hmac
import io
import json
import logging
import secrets
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

import requests

from btvstat_open.errors import StoreError
from btvstat_open.store.owner import Owner, claim, release

__all__ = ["ControlServer", "forward", "portable"]

log = logging.getLogger("btvstat_open.remote")

# Arguments that name files or folders (made absolute before they are sent).
_PATHS = ("store", "catalog", "dir", "file", "output", "portal_url")
Runner = Callable[[argparse.Namespace], int]


def _local_path(value: str) -> bool:
    return "://" not in value and value != "-"


def portable(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments as JSON, with every relative local path made absolute."""
    sent = dict(vars(args))
    for name in _PATHS:
        value = sent.get(name)
        if not isinstance(value, str) or not _local_path(value):
            continue
        if name == "portal_url" and not Path(value).exists():
            continue  # a bare host name, not a folder of files
        sent[name] = str(Path(value).resolve())
    return sent


def forward(owner: Owner, args: argparse.Namespace) -> int | None:
    """Run the command in the server that owns its store; print what it printed; its exit code.

    None when nothing listens at the owner's address (the server has gone; its file stayed).
    """
    try:
        answer = requests.post(
            f"{owner.url}/run",
            json=portable(args),
            headers={"Authorization": f"Bearer {owner.token}"},
            timeout=(5, None),  # a sync may run for a long time
            stream=True,  # its lines print as they come
        )
    except requests.ConnectionError as exc:
        if "refused" in str(exc).lower():
            return None  # nothing listens: the server is gone and the store is free
        raise _unreachable(owner, exc) from exc
    except requests.RequestException as exc:
        raise _unreachable(owner, exc) from exc
    if answer.status_code != 200:
        raise StoreError(
            f"The running `btvstat-open serve` (process {owner.pid}) refused the command "
            f"(HTTP {answer.status_code}: {answer.text[:200]}). Run it as the user who runs the server."
        )
    try:
        return _relay(answer)
    except KeyboardInterrupt:
        print(
            f"error: interrupted here; the command goes on inside the server (process {owner.pid}) "
            "and ends all or nothing.",
            file=sys.stderr,
        )
        return 130
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise _unreachable(owner, exc) from exc


def _relay(answer: requests.Response) -> int:
    """Print the command's output as it comes (one JSON object a line); its exit code."""
    for line in answer.iter_lines():
        if not line:
            continue
        message = json.loads(line)
        if "code" in message:
            return int(message["code"])
        stream = sys.stdout if "stdout" in message else sys.stderr
        stream.write(message.get("stdout", message.get("stderr", "")))
        stream.flush()
    raise ValueError("the server closed the connection before the command ended")


def _unreachable(owner: Owner, exc: Exception) -> StoreError:
    return StoreError(
        f"The store is owned by a running `btvstat-open serve` (process {owner.pid}), but its control "
        f"endpoint did not answer in full ({type(exc).__name__}). Check the server's log; the command may "
        "have run: look before running it again."
    )


class _Routed(io.TextIOBase):
    """A process stream that writes to the calling thread's capture buffer when it has one."""

    def __init__(self, original: TextIO, local: threading.local, name: str) -> None:
        self._original = original
        self._local = local
        self._name = name

    def _target(self) -> TextIO:
        target: TextIO | None = getattr(self._local, self._name, None)
        return target if target is not None else self._original

    def write(self, text: str) -> int:  # type: ignore[override]
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self._target().isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def fileno(self) -> int:
        return self._target().fileno()


class _Sink(io.TextIOBase):
    """A command's stdout or stderr inside the server: each write is sent to the client at once."""

    def __init__(self, name: str, send: Callable[[dict[str, Any]], None]) -> None:
        self._name = name
        self._send = send

    def write(self, text: str) -> int:  # type: ignore[override]
        if text:
            self._send({self._name: text})
        return len(text)

    def isatty(self) -> bool:
        return False


class ControlServer:
    """The owner's control endpoint: runs forwarded commands on this process's open store.

    ``runner`` runs one parsed command and returns its exit code (the command line's own
    dispatch, errors printed as one line). Commands run on the endpoint's threads, their output
    captured per thread, as many at a time as arrive (the store serialises writes).

    Example:
        >>> import tempfile
        >>> control = ControlServer(tempfile.mkdtemp(), lambda args: print(args.command) or 3)
        >>> control.start()
        >>> from btvstat_open.store.owner import find_owner
        >>> forward(find_owner(control.root), argparse.Namespace(command="measure"))
        measure
        3
        >>> control.stop()
    """

    def __init__(self, root: str | Path, runner: Runner) -> None:
        self.root = Path(root)
        self.token = secrets.token_urlsafe(32)
        self._runner = runner
        self._local = threading.local()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._streams: tuple[TextIO, TextIO] | None = None

    @property
    def url(self) -> str:
        """The endpoint's address (on 127.0.0.1)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> None:
        """Listen, route the process's stdout/stderr per thread, and write the owner file."""
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout = _Routed(sys.stdout, self._local, "stdout")
        sys.stderr = _Routed(sys.stderr, self._local, "stderr")
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="control", daemon=True)
        self._thread.start()
        claim(self.root, self.url, self.token)

    def stop(self) -> None:
        """Remove the owner file and stop listening."""
        release(self.root)
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._streams is not None:
            sys.stdout, sys.stderr = self._streams

    def run(self, sent: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> int:
        """Run one forwarded command, sending what it prints as it prints it; its exit code."""
        out, err = _Sink("stdout", send), _Sink("stderr", send)
        self._local.stdout, self._local.stderr = out, err
        try:
            code = self._runner(argparse.Namespace(**sent))
        except Exception:
            log.exception("forwarded command %s failed", sent.get("command"))
            print("error: the command failed inside the server; its log has the details.", file=err)
            code = 1
        finally:
            self._local.stdout = self._local.stderr = None
        return code

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        control = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                sent = self.headers.get("Authorization", "")
                expected = f"Bearer {control.token}"
                if self.path != "/run" or not hmac.compare_digest(sent.encode(), expected.encode()):
                    self._reply(403, {"error": "forbidden"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    self._reply(400, {"error": "not JSON"})
                    return
                # One JSON object a line as the command prints, its exit code last; the connection
                # closes at the end (HTTP/1.0), so no length is needed up front.
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                lock = threading.Lock()

                def send(message: dict[str, Any]) -> None:
                    with lock:
                        try:
                            self.wfile.write(json.dumps(message).encode() + b"\n")
                            self.wfile.flush()
                        except OSError:  # the client has gone (Ctrl+C): the command still ends whole
                            pass

                send({"code": control.run(body, send)})

            def _reply(self, status: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # no access log (and never the token)

        return Handler
