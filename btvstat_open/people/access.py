"""Who a signed-in person is and what they may do, from the catalog's ``access:`` rules.

A :class:`Person` is an e-mail, a name and the identity provider's groups (local accounts have
groups too). :func:`grants_for` matches the rules (by ``who`` or ``group``); :class:`Grants`
answers "may this person do X for department D?" on every request, so a rule taken out of the
catalog takes effect on the next request, without signing anyone out.

Example:
    >>> from catalog.models.people import AccessRule
    >>> rules = [AccessRule(who="ops@example.gov", role="approver"),
    ...          AccessRule(group="pw", role="updater", departments=["Public Works"])]
    >>> grants = grants_for(Person("ann@example.gov", "Ann", ("pw",)), rules)
    >>> grants.can("updater", "Public Works"), grants.can("updater", "Fire")
    (True, False)
    >>> grants.can("approver", "Public Works")
    False
    >>> grants_for(Person("ops@example.gov", "Ops", ()), rules).can("approver", "Fire")
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from catalog.models.people import ROLES, AccessRule, Role

__all__ = ["Grants", "Person", "grants_for"]


@dataclass(frozen=True)
class Person:
    """A signed-in person: e-mail (lower case), display name, identity-provider groups."""

    email: str
    name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grants:
    """A person's roles: each role with the departments it covers (None: every department)."""

    person: Person
    roles: tuple[tuple[Role, frozenset[str] | None], ...]

    def can(self, role: Role, department: str | None = None) -> bool:
        """Whether the person holds ``role`` (or a higher one) for ``department`` (any, when None)."""
        need = ROLES.index(role)
        for held, departments in self.roles:
            if ROLES.index(held) < need:
                continue
            if department is None or departments is None or department in departments:
                return True
        return False

    def departments(self, role: Role) -> frozenset[str] | None:
        """The departments the person holds ``role`` (or higher) for; None means every one."""
        found: set[str] = set()
        for held, departments in self.roles:
            if ROLES.index(held) < ROLES.index(role):
                continue
            if departments is None:
                return None
            found |= departments
        return frozenset(found)

    @property
    def any_role(self) -> bool:
        """Whether any rule names the person (else they may not see internal pages)."""
        return bool(self.roles)

    @property
    def highest(self) -> Role | None:
        """The highest role held, for the page header."""
        return max((r for r, _ in self.roles), key=ROLES.index, default=None)


def grants_for(person: Person, rules: Iterable[AccessRule]) -> Grants:
    """The roles the rules give ``person`` (by e-mail, case-insensitive, or by group)."""
    email = person.email.lower()
    groups = set(person.groups)
    held: list[tuple[Role, frozenset[str] | None]] = []
    for rule in rules:
        if (rule.who is not None and rule.who.lower() == email) or (rule.group in groups):
            held.append((rule.role, frozenset(rule.departments) if rule.departments else None))
    return Grants(person, tuple(held))


def needs_totp(grants: Grants, roles: Sequence[Role] = ("approver", "admin")) -> bool:
    """Whether the person holds a role that settings may require a second factor for."""
    return any(grants.can(role) for role in roles)
