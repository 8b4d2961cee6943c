"""Which events go to whom by which channel: the catalog's ``notify:`` rules, or the defaults.

Recipients come from a :class:`Directory`: who the addresses of a department, of an action's
owner and of the approvers are. :class:`CatalogDirectory` reads ``recipients:`` in
``catalog.yaml`` and the people its ``access:`` rules name by e-mail (``who:``): a department's
updaters, and the approvers (and admins) of a department.

An event that is not public (a private KPI, a pending value) goes only to the people its rule
reaches through their role (department, owner, approvers): never to a named address or a webhook.

Example:
    >>> from datetime import date
    >>> from catalog.models import CatalogSettings
    >>> from catalog.notify.events import Event
    >>> settings = CatalogSettings.model_validate(
    ...     {"recipients": {"departments": {"Public Works": "pw@example.gov"}}})
    >>> event = Event("off_track", "k", "Potholes", ("Public Works",), "turned off track", "/kpi/k",
    ...               date(2020, 3, 2))
    >>> route([event], settings)
    {('email', 'pw@example.gov'): [Event(kind='off_track', ...)]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from catalog.models import CatalogSettings
from catalog.models.notify import NotifyRule, Recipients
from catalog.models.people import AccessRule
from catalog.notify.events import Event

__all__ = ["DEFAULT_RULES", "CatalogDirectory", "Directory", "directory_for", "route", "rules_for"]

#: The rules of a catalog without ``notify:``.
DEFAULT_RULES: tuple[NotifyRule, ...] = (
    NotifyRule.model_validate(
        {
            "on": ["off_track", "near_target", "back_on_track", "stale", "behind", "unattended"],
            "to": "department",
        }
    ),
    NotifyRule.model_validate({"on": ["overdue", "action_due"], "to": "owner"}),
    NotifyRule.model_validate({"on": ["due", "late", "revised", "new_packet"], "to": "department"}),
    # the updater who submitted it (``owner`` of a sent-back event); else the department
    NotifyRule.model_validate({"on": ["sent_back"], "to": "owner"}),
    NotifyRule.model_validate({"on": ["pending"], "to": "approvers"}),
)


class Directory(Protocol):
    """Who the addresses behind a rule's ``to`` are."""

    def department(self, name: str) -> list[str]:
        """The addresses of a department's people (its updaters)."""
        ...

    def owner(self, name: str) -> list[str]:
        """The addresses of an action's owner (empty when unknown)."""
        ...

    def approvers(self, departments: Sequence[str]) -> list[str]:
        """The addresses of those who approve these departments' values."""
        ...


class CatalogDirectory:
    """The directory of ``recipients:`` in ``catalog.yaml``, and of the people its ``access:``
    rules name by e-mail (a group has no address: name its people in ``recipients:``).

    Example:
        >>> d = CatalogDirectory(Recipients.model_validate({"owners": {"Crew": "crew@example.gov"}}))
        >>> d.owner("Crew"), d.owner("lead@example.gov"), d.owner("Nobody")
        (['crew@example.gov'], ['lead@example.gov'], [])
        >>> d = CatalogDirectory(Recipients(), [AccessRule(who="Ann@example.gov", role="updater",
        ...     departments=["Fire"]), AccessRule(who="ops@example.gov", role="approver")])
        >>> d.department("Fire"), d.department("Parks"), d.approvers(["Parks"])
        (['ann@example.gov'], [], ['ops@example.gov'])
    """

    def __init__(self, recipients: Recipients, access: Sequence[AccessRule] = ()) -> None:
        self.recipients = recipients
        self.access = [rule for rule in access if rule.who is not None]

    def _people(self, roles: tuple[str, ...], department: str) -> list[str]:
        return [
            str(rule.who).lower()
            for rule in self.access
            if rule.role in roles and (rule.departments is None or department in rule.departments)
        ]

    def department(self, name: str) -> list[str]:
        return _unique([*self.recipients.departments.get(name, ()), *self._people(("updater",), name)])

    def owner(self, name: str) -> list[str]:
        if "@" in name and " " not in name.strip():
            return [name.strip()]
        return list(self.recipients.owners.get(name, ()))

    def approvers(self, departments: Sequence[str]) -> list[str]:
        found = list(self.recipients.approvers)
        for department in departments or [""]:
            found += self._people(("approver", "admin"), department)
        return _unique(found)


def _unique(addresses: Sequence[str]) -> list[str]:
    """Each address once (case-insensitive), in order."""
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def directory_for(settings: CatalogSettings) -> Directory:
    """The directory a run asks when none is given: ``recipients:`` in ``catalog.yaml`` and the
    people of its ``access:`` rules (this is the one place that chooses).

    Example:
        >>> directory_for(CatalogSettings()).approvers(["Fire"])
        []
        >>> s = CatalogSettings.model_validate({"access": [{"who": "ops@example.gov", "role": "admin"}]})
        >>> directory_for(s).approvers(["Fire"])
        ['ops@example.gov']
    """
    return CatalogDirectory(settings.recipients, settings.access)


def rules_for(settings: CatalogSettings) -> tuple[NotifyRule, ...]:
    """The catalog's rules, or :data:`DEFAULT_RULES` when it sets none.

    Example:
        >>> rules_for(CatalogSettings()) == DEFAULT_RULES
        True
    """
    return DEFAULT_RULES if settings.notify is None else tuple(settings.notify)


def _addresses(rule: NotifyRule, event: Event, directory: Directory) -> list[str]:
    found: list[str] = []
    for who in rule.to:
        if who == "department":
            found += [a for d in event.departments for a in directory.department(d)]
        elif who == "owner":
            owned = directory.owner(event.owner) if event.owner else []
            found += owned or [a for d in event.departments for a in directory.department(d)]
        elif who == "approvers":
            found += directory.approvers(event.departments)
        elif event.public:  # a named address: only what the public may see
            found.append(who)
    return found


def route(
    events: Sequence[Event], settings: CatalogSettings, directory: Directory | None = None
) -> dict[tuple[str, str], list[Event]]:
    """Each ``(channel, target)`` with its events, in event order, each event once per target.

    The target of ``email`` is an address (lowercased), of ``webhook`` the webhook's name.
    """
    directory = directory or directory_for(settings)
    routed: dict[tuple[str, str], dict[int, Event]] = {}  # by id(event): each event once per target
    for event in events:
        for rule in rules_for(settings):
            if event.kind not in rule.events:
                continue
            targets: list[tuple[str, str]] = []
            if "email" in rule.by:
                targets += [("email", a.lower()) for a in _addresses(rule, event, directory)]
            if "webhook" in rule.by and rule.webhook and event.public:
                targets.append(("webhook", rule.webhook))
            for target in targets:
                routed.setdefault(target, {}).setdefault(id(event), event)
    return {target: list(events_by_id.values()) for target, events_by_id in routed.items()}
