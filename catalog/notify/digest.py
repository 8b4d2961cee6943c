"""The e-mail digest: one message per person per run, listing only that person's items.

Each message has a plain-text part and an HTML part (``multipart/alternative``). The HTML is a
small accessible document: a language, a title, one heading per kind of event, a list of items,
each item a link whose text names the KPI or action, and nothing but escaped catalog text.
Links start with the catalog's ``site_url`` (``--base-url`` overrides it).

Example:
    >>> from datetime import date
    >>> from catalog.notify.events import Event
    >>> e = Event("overdue", "crew", "Potholes <fast>", ("Public Works",), "action was due 2020-02-28",
    ...           "/kpi/potholes", date(2020, 3, 2))
    >>> mail = digest("pw@example.gov", [e], title="City dashboard", base_url="https://stat.example.gov")
    >>> mail["subject"]
    'City dashboard: 1 item for you (2020-03-02)'
    >>> "https://stat.example.gov/kpi/potholes" in mail["text"], "Potholes &lt;fast&gt;" in mail["html"]
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape
from typing import Any

from btvstat_open.i18n import _, current_locale, direction, lazy, ngettext
from catalog.notify.events import Event

__all__ = ["HEADINGS", "digest", "email_message"]

#: The heading of each kind of event in a digest, in the order they are listed.
HEADINGS: dict[str, str] = {
    "late": lazy("Late values"),
    "due": lazy("Values due soon"),
    "sent_back": lazy("Values sent back to you"),
    "pending": lazy("Submissions waiting for your approval"),
    "overdue": lazy("Overdue actions"),
    "action_due": lazy("Actions due soon"),
    "off_track": lazy("Turned off track"),
    "unattended": lazy("Off track with no open action"),
    "near_target": lazy("Near target"),
    "stale": lazy("Stale data"),
    "behind": lazy("Data behind schedule"),
    "back_on_track": lazy("Back on track"),
    "revised": lazy("Revised values"),
    "new_packet": lazy("New meeting packets"),
}


def _grouped(events: Sequence[Event]) -> list[tuple[str, list[Event]]]:
    order = list(HEADINGS)
    kinds = sorted({e.kind for e in events}, key=lambda k: order.index(k) if k in order else len(order))
    return [(_(HEADINGS[k]) if k in HEADINGS else k, [e for e in events if e.kind == k]) for k in kinds]


def digest(address: str, events: Sequence[Event], *, title: str, base_url: str) -> dict[str, Any]:
    """The digest for ``address``: ``{"to", "subject", "text", "html"}`` (see the module docstring)."""
    base = base_url.rstrip("/")
    title = " ".join(title.split())  # one line: a header may hold no line break
    day = max(e.day for e in events).isoformat() if events else ""
    count = len(events)
    subject = ngettext(
        "%(title)s: %(num)d item for you (%(day)s)", "%(title)s: %(num)d items for you (%(day)s)", count
    ) % {"title": title, "num": count, "day": day}
    to_address = ngettext(
        "%(num)d item for %(address)s on %(day)s.", "%(num)d items for %(address)s on %(day)s.", count
    )
    to_you = ngettext("%(num)d item for you on %(day)s.", "%(num)d items for you on %(day)s.", count)
    text = [f"{title}", to_address % {"num": count, "address": address, "day": day}, ""]
    html = [
        f'<!DOCTYPE html><html lang="{escape(current_locale())}" dir="{direction()}">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(subject)}</title></head><body>",
        f"<h1>{escape(title)}</h1><p>{escape(to_you % {'num': count, 'day': day})}</p>",
    ]
    for heading, items in _grouped(events):
        text += [heading, "-" * len(heading)]
        html.append(f"<h2>{escape(heading)}</h2><ul>")
        for e in items:
            url = base + e.path
            text.append(f"* {e.title}: {e.summary}\n  {url}")
            html.append(f'<li><a href="{escape(url)}">{escape(e.title)}</a>: {escape(e.summary)}</li>')
        text.append("")
        html.append("</ul>")
    why = _("You receive this because %(title)s lists you for these items.")
    text.append(why % {"title": title})
    html.append(f"<p>{escape(why % {'title': title})}</p></body></html>")
    return {"to": address, "subject": subject, "text": "\n".join(text) + "\n", "html": "".join(html)}


def email_message(payload: dict[str, Any], *, sender: str, message_id: str) -> EmailMessage:
    """The digest as a MIME message with both parts; ``message_id`` is the outbox id, so a message
    sent again after a crash carries the same Message-ID.

    Example:
        >>> m = email_message({"to": "a@example.gov", "subject": "s", "text": "t", "html": "<p>t</p>"},
        ...                   sender="stat@example.gov", message_id="abc")
        >>> m["Message-ID"], [p.get_content_type() for p in m.iter_parts()]
        ('<abc@btvstat-open>', ['text/plain', 'text/html'])
    """

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = payload["to"]
    msg["Subject"] = payload["subject"]
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<{message_id}@btvstat-open>" if message_id else make_msgid()
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps every line 7-bit, whatever the catalog's language, for any server.
    msg.set_content(payload["text"], cte="quoted-printable")
    msg.add_alternative(payload["html"], subtype="html", cte="quoted-printable")
    return msg
