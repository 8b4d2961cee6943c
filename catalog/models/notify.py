"""The catalog's notification keys (``catalog.yaml``): ``notify`` rules, ``recipients``,
``webhooks``, ``holidays`` and ``site_url``.

A rule sends some **events** to some recipients by some channels::

    notify:
      - {on: [off_track, overdue], to: department, by: email}
      - {on: [action_due], to: owner, days: 3}              # 3 business days before the due date
      - {on: [overdue], to: owner, after: [5, 10]}          # and again 5 and 10 business days late
      - {on: [off_track], by: webhook, webhook: ops-slack}

``to`` is ``department`` (the KPI's department's addresses), ``owner`` (the action's owner),
``approvers``, or e-mail addresses; ``by`` is ``email`` or ``webhook`` (or both). Without any rule
the defaults of :data:`catalog.notify.rules.DEFAULT_RULES` apply.

Example:
    >>> rule = NotifyRule.model_validate({"on": "off_track", "to": "department", "by": "email"})
    >>> rule.events, rule.to, rule.by
    (('off_track',), ('department',), ('email',))
    >>> NotifyRule.model_validate({"on": ["late"], "to": "ops@example.gov"}).to
    ('ops@example.gov',)
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from catalog.models.base import HttpUrl, Strict

__all__ = [
    "EVENT_KINDS",
    "RECIPIENT_ROLES",
    "NotifyRule",
    "Recipients",
    "Webhook",
]

#: Every event the rules can name. :mod:`catalog.notify.sources` computes the first nine; ``due``,
#: ``late``, ``pending`` and ``sent_back`` come from the department cycle
#: (``btvstat_open.people.notices``), ``revised`` from the ledger (:mod:`catalog.revisions`).
EVENT_KINDS: tuple[str, ...] = (
    "off_track",
    "near_target",
    "back_on_track",
    "stale",
    "behind",
    "overdue",
    "unattended",
    "new_packet",
    "action_due",
    "due",
    "late",
    "pending",
    "sent_back",
    "revised",
)
#: Who a rule's ``to`` may name besides e-mail addresses.
RECIPIENT_ROLES: tuple[str, ...] = ("department", "owner", "approvers")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_ENV = r"^[A-Z_][A-Z0-9_]*$"


def _as_tuple(value: Any) -> Any:
    """A single name is a list of one (``on: off_track`` is ``on: [off_track]``)."""
    return (value,) if isinstance(value, str) else value


Names = Annotated[tuple[str, ...], BeforeValidator(_as_tuple)]


def check_email(value: str) -> str:
    """The address if it looks like one (name@host.tld), else a ValueError naming the fix.

    Example:
        >>> check_email("ops@example.gov")
        'ops@example.gov'
    """
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address: write it as name@example.gov")
    return value


class NotifyRule(Strict):
    """One rule: these events, to these recipients, by these channels."""

    events: Names = Field(alias="on", min_length=1)
    to: Names = ("department",)
    by: Names = ("email",)
    webhook: str | None = None
    days: int = Field(default=3, ge=0, le=60)
    after: tuple[int, ...] = ()

    @field_validator("after", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> Any:
        """``after: [5, 10]``: remind again 5 and 10 business days after the due date."""
        value = (value,) if isinstance(value, int) else value
        if isinstance(value, list | tuple) and any(
            not isinstance(v, int) or not 1 <= v <= 250 for v in value
        ):
            raise ValueError("after: lists business days after the due date, whole numbers from 1 to 250")
        return tuple(sorted(set(value))) if isinstance(value, list | tuple) else value

    model_config = Strict.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads a bare ``on:`` key as the boolean true (``True`` once the catalog's
        reader makes keys text); it means ``on`` here."""
        if isinstance(data, dict) and (True in data or "True" in data):
            data = {("on" if k is True or k == "True" else k): v for k, v in data.items()}
        return data

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [e for e in events if e not in EVENT_KINDS]
        if unknown:
            raise ValueError(f"unknown event {unknown[0]!r}: use one of {', '.join(EVENT_KINDS)}")
        return events

    @field_validator("to")
    @classmethod
    def _known_recipients(cls, to: tuple[str, ...]) -> tuple[str, ...]:
        for who in to:
            if who not in RECIPIENT_ROLES:
                try:
                    check_email(who)
                except ValueError:
                    roles = ", ".join(RECIPIENT_ROLES)
                    raise ValueError(f"to: {who!r} is neither {roles} nor an e-mail address") from None
        return to

    @field_validator("by")
    @classmethod
    def _known_channels(cls, by: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [b for b in by if b not in ("email", "webhook")]
        if unknown:
            raise ValueError(f"by: {unknown[0]!r} is not a channel: use email or webhook")
        return by

    @model_validator(mode="after")
    def _webhook_named(self) -> NotifyRule:
        if "webhook" in self.by and not self.webhook:
            raise ValueError("by: webhook needs webhook: NAME (a key of webhooks: in catalog.yaml)")
        return self


class Webhook(Strict):
    """A webhook: where to post (the URL itself, or the variable holding it), in which shape,
    signed with the secret in ``secret_env`` (HMAC-SHA256 over timestamp and body)."""

    url: HttpUrl | None = None
    url_env: str | None = Field(default=None, pattern=_ENV)
    secret_env: str | None = Field(default=None, pattern=_ENV)
    shape: Literal["json", "slack", "teams"] = "json"

    @model_validator(mode="after")
    def _one_url(self) -> Webhook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook needs exactly one of url: or url_env: (the variable holding its URL)")
        return self


class Recipients(Strict):
    """Who receives what, by e-mail: each department's addresses, each action owner's, the approvers'.

    An action owner that is itself an e-mail address needs no entry; an owner without one is
    reached through the KPI's department.
    """

    departments: dict[str, list[Annotated[str, BeforeValidator(check_email)]]] = Field(default_factory=dict)
    owners: dict[str, list[Annotated[str, BeforeValidator(check_email)]]] = Field(default_factory=dict)
    approvers: list[Annotated[str, BeforeValidator(check_email)]] = Field(default_factory=list)

    @field_validator("departments", "owners", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value
