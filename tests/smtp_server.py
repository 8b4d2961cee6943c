"""A real SMTP server for the notification tests: aiosmtpd on 127.0.0.1, counting what it accepts.

``Inbox.kill_at`` makes the server SIGKILL a client process when that process's message number N
(counting from 0 since the kill was armed) reaches ``RCPT TO``: a crash in the middle of a send;
with ``in_data=True``, once the server has accepted message N and before the client hears so.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from servers import free_port


@dataclass
class Inbox:
    """What the server accepted: each message's envelope recipients and its parsed content."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    kill: tuple[int, int] | None = None  # (pid, how many more messages to accept first)
    kill_in_data: bool = False  # kill after accepting the message, before the client hears 250
    host: str = "127.0.0.1"
    port: int = 0

    def kill_at(self, pid: int, after: int, *, in_data: bool = False) -> None:
        with self.lock:
            self.kill = (pid, after)
            self.kill_in_data = in_data

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.kill = None

    def env(self) -> dict[str, str]:
        return {
            "BTVSTAT_SMTP_HOST": self.host,
            "BTVSTAT_SMTP_PORT": str(self.port),
            "BTVSTAT_SMTP_SECURITY": "none",
            "BTVSTAT_SMTP_FROM": "stat@example.gov",
        }

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.lock:
            if self.kill is not None and not self.kill_in_data:
                pid, after = self.kill
                if after == 0:
                    self.kill = None
                    os.kill(pid, signal.SIGKILL)
                    return "451 the client is gone"
                self.kill = (pid, after - 1)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
            if self.kill is not None and self.kill_in_data:
                pid, after = self.kill
                self.kill = None if after == 0 else (pid, after - 1)
                if after == 0:  # the message is the server's now; the client never hears so
                    os.kill(pid, signal.SIGKILL)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_inbox() -> Iterator[Inbox]:
    """One aiosmtpd server for the session; tests clear its inbox."""
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    try:
        controller.start()
    except Exception as exc:  # pragma: no cover - the server is part of the test set-up
        pytest.fail(f"aiosmtpd could not start on 127.0.0.1:{inbox.port}: {exc} (pip install aiosmtpd)")
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class SecureInbox:
    """An SMTP server that needs TLS (STARTTLS on one port, implicit TLS on another) and a sign-in."""

    inbox: Inbox
    starttls_port: int
    tls_port: int
    ca_file: str
    user: str = "notify"
    password: str = "correct horse battery staple"

    def env(self, security: str, password: str | None = None) -> dict[str, str]:
        return {
            **self.inbox.env(),
            "BTVSTAT_SMTP_SECURITY": security,
            "BTVSTAT_SMTP_PORT": str(self.starttls_port if security == "starttls" else self.tls_port),
            "BTVSTAT_SMTP_USER": self.user,
            "BTVSTAT_SMTP_PASSWORD": self.password if password is None else password,
            "BTVSTAT_SMTP_CA_FILE": self.ca_file,
        }


@pytest.fixture(scope="session")
def secure_smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureInbox]:
    """aiosmtpd behind a certificate from a local CA (trustme), with AUTH LOGIN/PLAIN."""
    import ssl

    import trustme
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("smtp-tls")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    secure = SecureInbox(Inbox(), free_port(), free_port(), str(ca_file))

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            secure.user.encode(),
            secure.password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    common: dict[str, Any] = {"hostname": "127.0.0.1", "authenticator": authenticator}
    starttls = Controller(
        secure.inbox, port=secure.starttls_port, tls_context=context, require_starttls=True, **common
    )
    # The whole connection is TLS here, which aiosmtpd's own check (made for STARTTLS) cannot see.
    implicit = Controller(
        secure.inbox, port=secure.tls_port, ssl_context=context, auth_require_tls=False, **common
    )
    try:
        starttls.start()
        implicit.start()
    except Exception as exc:  # pragma: no cover
        pytest.fail(f"aiosmtpd with TLS could not start: {exc}")
    try:
        yield secure
    finally:
        starttls.stop()
        implicit.stop()
