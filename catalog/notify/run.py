"""One notification run: observe, compare with the recorded states, queue, deliver.

1. Every event source (:data:`catalog.notify.events.SOURCES`) reports what it observes as of
   ``today``; the observations whose state changed since the last run fire their events.
2. The rules (:mod:`catalog.notify.rules`) route them: one e-mail digest per person, one post per
   webhook.
3. The new states and the messages are recorded in the store in one transaction
   (:mod:`catalog.notify.outbox`).
4. Every message due is delivered; a failure is recorded, retried on a later run with backoff and
   reported, and never stops the others (nor the sync that ran the notification).

A dry run does steps 1 and 2 only: it writes nothing and sends nothing.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     found = plan(catalog, store, date(2020, 3, 2))
    >>> sorted({e.kind for e in found.events})[:4]
    ['behind', 'late', 'near_target', 'off_track']
"""

from __future__ import annotations

import os
import smtplib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import requests

from btvstat_open.i18n import use_locale
from btvstat_open.store import Store
from catalog.models import Catalog
from catalog.notify.digest import digest, email_message
from catalog.notify.events import Event, EventSource, load_sources
from catalog.notify.outbox import OutboxItem, due_items, mark, record_run, recorded_states
from catalog.notify.rules import Directory, route
from catalog.notify.smtp import SmtpChannel, SmtpSettings
from catalog.notify.webhook import WebhookChannel, webhook_body

__all__ = ["Delivery", "Plan", "deliver", "notify", "notify_after_change", "plan"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass
class Plan:
    """What a run found: the events that fired, the states to record, the messages to queue."""

    events: list[Event]
    states: dict[str, str]
    items: list[OutboxItem]


@dataclass
class Delivery:
    """What a delivery pass did: ids delivered, failures (target and reason), and messages sent
    again after a run died while handing them over (``resent``)."""

    delivered: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)


def plan(
    catalog: Catalog,
    store: Store,
    today: date,
    *,
    base_url: str | None = None,
    sources: Sequence[EventSource] | None = None,
    directory: Directory | None = None,
) -> Plan:
    """Steps 1 and 2 (see the module docstring), as of ``today``; events and messages are in the
    site's default language (the first of its ``locales``)."""
    with use_locale(catalog.settings.locales[0]):
        return _plan(catalog, store, today, base_url=base_url, sources=sources, directory=directory)


def _plan(
    catalog: Catalog,
    store: Store,
    today: date,
    *,
    base_url: str | None,
    sources: Sequence[EventSource] | None,
    directory: Directory | None,
) -> Plan:
    every_source = load_sources() if sources is None else sources
    recorded = recorded_states(store)
    events: list[Event] = []
    states: dict[str, str] = {}
    for source in every_source:
        for seen in source.observe(catalog, store, today):
            previous = recorded.get(seen.key)
            if seen.fires(previous) and seen.event is not None:
                events.append(seen.event)
            if previous != seen.state:
                states[seen.key] = seen.state
    base = base_url or catalog.settings.site_url or DEFAULT_BASE_URL
    title = catalog.settings.title
    items = []
    for (channel, target), routed in route(events, catalog.settings, directory).items():
        if channel == "email":
            items.append(OutboxItem.new("email", target, digest(target, routed, title=title, base_url=base)))
        else:
            shape = catalog.settings.webhooks[target].shape
            body = webhook_body(shape, routed, title=title, base_url=base)
            items.append(OutboxItem.new("webhook", target, {"body": body, "events": len(routed)}))
    return Plan(events, states, items)


def notify(
    catalog: Catalog,
    store: Store,
    today: date,
    *,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tuple[Plan, Delivery]:
    """A whole run: plan, record, deliver (with ``env`` for SMTP and webhook settings)."""
    found = plan(catalog, store, today, base_url=base_url)
    record_run(store, found.states, found.items, now=now)
    return found, deliver(catalog, store, env=env, now=now)


def notify_after_change(catalog: Catalog, store: Store, today: date | None = None) -> Delivery | None:
    """A run after a change (a sync; a submission, a decision or a lock), for a catalog that sets
    ``notify:``, ``recipients:``, ``webhooks:`` or ``access:`` rules naming people, where a channel
    is set up (``BTVSTAT_SMTP_HOST``, or a webhook).

    Without a channel nothing is evaluated, so nothing piles up unsent: the first run once one is
    set up sends what is current then. It never fails the change: a problem is one ``note:`` line on
    stderr (the messages wait in the outbox for the next run).
    """
    s = catalog.settings
    has_people = any(rule.who for rule in s.access)  # access: rules naming people by e-mail
    if s.notify is None and not s.webhooks and not has_people and s.recipients == type(s.recipients)():
        return None
    if not s.webhooks and SmtpSettings.from_env(os.environ) is None:
        return None
    from catalog.asof import today_for

    try:
        _found, done = notify(catalog, store, today or today_for(s, None))
    except Exception as exc:  # the sync's data is already safe; tell, do not fail
        print(f"note: notifications were not evaluated after the sync: {_safe_error(exc)}", file=sys.stderr)
        return None
    if done.failed:
        print(
            f"note: {len(done.failed)} notifications were not delivered ({done.failed[0][1]}); "
            "`btvstat-open notify` retries them.",
            file=sys.stderr,
        )
    return done


def _safe_error(exc: BaseException) -> str:
    """What went wrong, without URLs (a Slack webhook's URL is its secret) or credentials."""
    if isinstance(exc, requests.RequestException):
        return f"could not reach the webhook ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"[:300]


def _channel_down(exc: BaseException) -> bool:
    """True unless the server refused this one message (a bad address), not the connection."""
    return not isinstance(exc, smtplib.SMTPResponseException) or exc.smtp_code in (421, 454, 530, 535)


class _Channels:
    """The open channels of one delivery pass, made on first use."""

    def __init__(self, catalog: Catalog, env: Mapping[str, str]) -> None:
        self.catalog, self.env = catalog, env
        self.smtp: SmtpChannel | None = None
        self.hooks: dict[str, WebhookChannel] = {}

    def send(self, item: OutboxItem, committing: Any) -> None:
        if item.channel == "email":
            if self.smtp is None:
                settings = SmtpSettings.from_env(self.env)
                if settings is None:
                    raise OSError(
                        "e-mail is not configured: set BTVSTAT_SMTP_HOST (see docs/notifications.md)"
                    )
                self.smtp = SmtpChannel(settings)
            message = email_message(item.payload, sender=self.smtp.settings.sender, message_id=item.id)
            self.smtp.send(message, committing)
            return
        hook = self.hooks.get(item.target) or self._hook(item.target)
        hook.send(item.payload["body"], item.id, committing)

    def _hook(self, name: str) -> WebhookChannel:
        spec = self.catalog.settings.webhooks.get(name)
        if spec is None:
            raise OSError(f"webhook {name!r} is no longer in catalog.yaml")
        url = spec.url or self.env.get(spec.url_env or "", "")
        if not url:
            raise OSError(f"webhook {name!r}: the variable {spec.url_env} holding its URL is not set")
        secret = self.env.get(spec.secret_env) if spec.secret_env else None
        self.hooks[name] = WebhookChannel(url, secret)
        return self.hooks[name]

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
        for hook in self.hooks.values():
            hook.close()


def deliver(
    catalog: Catalog, store: Store, *, env: Mapping[str, str] | None = None, now: datetime | None = None
) -> Delivery:
    """Step 4: deliver every message due at ``now`` (see :mod:`catalog.notify.outbox` for the states)."""
    now = now or datetime.now(UTC)
    channels = _Channels(catalog, os.environ if env is None else env)
    done = Delivery()
    broken: dict[str, str] = {}  # a channel that failed once is not tried again in this pass
    try:
        for item in due_items(store, now):
            if item.status == "committing":
                done.resent.append(item.id)
            route_key = "email" if item.channel == "email" else f"webhook:{item.target}"
            if route_key in broken:
                mark(store, item.id, "pending", error=broken[route_key], now=now)
                done.failed.append((item.target, broken[route_key]))
                continue
            try:
                channels.send(item, lambda item_id=item.id: mark(store, item_id, "committing"))
            except Exception as exc:
                reason = _safe_error(exc)
                if _channel_down(exc):
                    broken[route_key] = reason
                mark(store, item.id, "pending", error=reason, now=now)
                done.failed.append((item.target, reason))
            else:
                mark(store, item.id, "delivered")
                done.delivered.append(item.id)
    finally:
        channels.close()
    return done
