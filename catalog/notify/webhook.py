"""Webhooks: a run's events as JSON posted to a URL, signed, in the shape the receiver expects.

* ``json``: ``{"type": "btvstat-open.events", "title", "events": [...]}``, each event with its
  ``url``.
* ``slack``: what a Slack incoming webhook takes (``text`` and ``blocks`` of mrkdwn).
* ``teams``: what a Microsoft Teams incoming webhook takes (a message with one Adaptive Card).

Every post carries ``X-Btvstat-Delivery`` (the outbox id: the same on a retry),
``X-Btvstat-Timestamp`` (Unix seconds) and ``X-Btvstat-Signature: v1=HEX``, the HMAC-SHA256 of
``TIMESTAMP.DELIVERY.BODY`` under the secret in the webhook's ``secret_env``. A receiver checks it
with :func:`verify`: an altered body, another delivery id, or a timestamp older than five minutes
(a replay) fails.

Example:
    >>> body = b'{"events": []}'
    >>> headers = sign(body, "s3cret", delivery="d1", now=1_600_000_000)
    >>> verify(body, headers, "s3cret", now=1_600_000_010)
    True
    >>> verify(body + b" ", headers, "s3cret", now=1_600_000_010)  # altered
    False
    >>> verify(body, headers, "s3cret", now=1_600_000_400)  # replayed six minutes later
    False
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from catalog.notify.events import Event

__all__ = ["TOLERANCE_SECONDS", "WebhookChannel", "sign", "verify", "webhook_body"]

TOLERANCE_SECONDS = 300
MAX_LISTED = 25  # events listed in a Slack or Teams message; the JSON shape lists every one


def webhook_body(shape: str, events: Sequence[Event], *, title: str, base_url: str) -> dict[str, Any]:
    """The JSON to post for ``events`` in ``shape`` (``json``, ``slack`` or ``teams``).

    Example:
        >>> from datetime import date
        >>> e = Event("off_track", "k", "Potholes", ("Public Works",), "turned off track", "/kpi/k",
        ...           date(2020, 3, 2))
        >>> webhook_body("slack", [e], title="Stat", base_url="https://s.example")["text"]
        'Stat: 1 event'
        >>> webhook_body("teams", [e], title="Stat", base_url="https://s.example")["type"]
        'message'
    """
    base = base_url.rstrip("/")
    head = f"{title}: {len(events)} event{'s' if len(events) != 1 else ''}"
    shown, rest = events[:MAX_LISTED], len(events) - MAX_LISTED  # chat messages have size limits
    if shape == "slack":
        lines = [f"• <{base}{e.path}|{_slack(e.title)}>: {_slack(e.summary)}" for e in shown]
        lines += [f"… and {rest} more: <{base}/|the dashboard>"] if rest > 0 else []
        return {
            "text": head,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}},
            ],
        }
    if shape == "teams":
        facts = [
            {"type": "TextBlock", "wrap": True, "text": f"[{_md(e.title)}]({base}{e.path}): {_md(e.summary)}"}
            for e in shown
        ]
        more = [{"type": "TextBlock", "wrap": True, "text": f"… and {rest} more"}] if rest > 0 else []
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": head},
                *facts,
                *more,
            ],
        }
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
    return {
        "type": "btvstat-open.events",
        "title": title,
        "events": [{**e.record(), "url": base + e.path} for e in events],
    }


def _slack(text: str) -> str:
    """Slack's three escapes, so catalog text cannot form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md(text: str) -> str:
    """Markdown's link and emphasis characters escaped for a Teams TextBlock."""
    return "".join("\\" + c if c in "\\[]()*_`<>" else c for c in text)


def _mac(secret: str, timestamp: str, delivery: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + delivery.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, *, delivery: str, now: float | None = None) -> dict[str, str]:
    """The signature headers of one post (see the module docstring)."""
    stamp = str(int(time.time() if now is None else now))
    return {
        "X-Btvstat-Delivery": delivery,
        "X-Btvstat-Timestamp": stamp,
        "X-Btvstat-Signature": "v1=" + _mac(secret, stamp, delivery, body),
    }


def verify(body: bytes, headers: Mapping[str, str], secret: str, *, now: float | None = None) -> bool:
    """True when ``headers`` sign exactly ``body`` with ``secret`` within :data:`TOLERANCE_SECONDS`.

    A receiver that also remembers the delivery ids it has seen rejects a replay inside the window.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    stamp, delivery = lower.get("x-btvstat-timestamp", ""), lower.get("x-btvstat-delivery", "")
    given = lower.get("x-btvstat-signature", "")
    if not stamp.isdigit() or not given.startswith("v1="):
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(given[3:], _mac(secret, stamp, delivery, body))


class WebhookChannel:
    """Posts to one webhook URL with one requests session."""

    def __init__(self, url: str, secret: str | None, timeout: float = 15.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, body: dict[str, Any], delivery: str, committing: Callable[[], None]) -> None:
        """Post ``body``; a status other than 2xx raises (the outbox retries it later)."""
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "btvstat-open-notify"}
        headers.update(
            sign(data, self.secret, delivery=delivery) if self.secret else {"X-Btvstat-Delivery": delivery}
        )
        committing()
        reply = self.session.post(
            self.url, data=data, headers=headers, timeout=self.timeout, allow_redirects=False
        )
        if not 200 <= reply.status_code < 300:
            raise OSError(f"the webhook answered HTTP {reply.status_code}")

    def close(self) -> None:
        """Close the session."""
        self.session.close()
