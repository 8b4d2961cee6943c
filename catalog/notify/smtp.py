"""Sending digests by SMTP, with the settings from the environment.

===========================  ===================================================
``BTVSTAT_SMTP_HOST``        the server (no host: e-mail is not configured)
``BTVSTAT_SMTP_PORT``        default 587 with ``starttls``, 465 with ``tls``, else 25
``BTVSTAT_SMTP_SECURITY``    ``starttls`` (default), ``tls`` or ``none`` (local relays only)
``BTVSTAT_SMTP_USER``        with ``BTVSTAT_SMTP_PASSWORD``: sign in (never logged)
``BTVSTAT_SMTP_FROM``        the sender address (default ``notify@`` the host)
``BTVSTAT_SMTP_CA_FILE``     a PEM file of the CA that signed the server's certificate, when it
                             is not one the system trusts (a city's own CA)
===========================  ===================================================

Each message is sent in its own SMTP transaction. Just before the final ``.`` of ``DATA`` (the
point after which the server may have accepted it) the outbox is told, so a crash before it is
known to have delivered nothing (see :mod:`catalog.notify.outbox`).

Example:
    >>> settings = SmtpSettings.from_env({"BTVSTAT_SMTP_HOST": "mail.example.gov",
    ...                                   "BTVSTAT_SMTP_PASSWORD": "s3cret"})
    >>> settings.port, settings.security, "s3cret" in repr(settings)
    (587, 'starttls', False)
"""

from __future__ import annotations

import email.policy
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from btvstat_open.errors import UsageError

__all__ = ["SmtpChannel", "SmtpSettings"]

_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send e-mail (see the module docstring)."""

    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "notify@localhost"
    timeout: float = 30.0
    ca_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings | None:
        """The settings in ``env`` (e.g. ``os.environ``); None without ``BTVSTAT_SMTP_HOST``."""
        host = env.get("BTVSTAT_SMTP_HOST", "").strip()
        if not host:
            return None
        security = env.get("BTVSTAT_SMTP_SECURITY", "starttls").strip().lower()
        if security not in _PORTS:
            raise UsageError(f"BTVSTAT_SMTP_SECURITY={security!r}: use starttls, tls or none.")
        port_text = env.get("BTVSTAT_SMTP_PORT", "").strip()
        if port_text and not port_text.isdigit():
            raise UsageError(f"BTVSTAT_SMTP_PORT={port_text!r} is not a port number.")
        return cls(
            host=host,
            port=int(port_text) if port_text else _PORTS[security],
            security=security,
            user=env.get("BTVSTAT_SMTP_USER") or None,
            password=env.get("BTVSTAT_SMTP_PASSWORD") or None,
            sender=env.get("BTVSTAT_SMTP_FROM") or f"notify@{host}",
            ca_file=env.get("BTVSTAT_SMTP_CA_FILE") or None,
        )


class SmtpChannel:
    """One SMTP connection for a run's messages (opened on the first message)."""

    def __init__(self, settings: SmtpSettings, context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.context = context or ssl.create_default_context(cafile=settings.ca_file)
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                smtp.starttls(context=self.context)
        if s.user:
            smtp.login(s.user, s.password or "")
        # Each message ends with a short write (the final dot): without this, Nagle's algorithm
        # and the server's delayed ACK hold it back some 40 ms per message.
        if smtp.sock is not None:
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    def send(self, message: EmailMessage, committing: Callable[[], None]) -> None:
        """Send one message; ``committing`` runs just before the final ``.`` of ``DATA``."""
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        try:
            _transaction(smtp, message, committing)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Say QUIT (or just drop a broken connection)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _check(reply: tuple[int, Any], expected: int, what: str) -> None:
    code, text = reply
    if code != expected:
        detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        raise smtplib.SMTPResponseException(code, f"{what}: {detail}")


def _transaction(smtp: smtplib.SMTP, message: EmailMessage, committing: Callable[[], None]) -> None:
    recipients = [a.strip() for a in str(message["To"]).split(",")]
    smtp.ehlo_or_helo_if_needed()
    _check(smtp.mail(str(message["From"])), 250, "MAIL FROM")
    for rcpt in recipients:
        code, text = smtp.rcpt(rcpt)
        if code not in (250, 251):
            smtp.rset()
            _check((code, text), 250, f"RCPT TO {rcpt}")
    smtp.putcmd("data")
    _check(smtp.getreply(), 354, "DATA")
    body = smtplib._quote_periods(message.as_bytes(policy=email.policy.SMTP))  # type: ignore[attr-defined]
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body)
    committing()
    smtp.send(b".\r\n")
    _check(smtp.getreply(), 250, "end of DATA")
