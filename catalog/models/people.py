"""Who may sign in and do what (``access:``), and when entered values are due (``entry:``).

Roles, from least to most: ``viewer`` (internal pages and private KPIs), ``updater`` (enters
values, commentary and action progress for the departments named), ``approver`` (the program
office: approves, sends back, locks, adds actions) and ``admin``. A rule names a person by e-mail
(``who``) or an identity-provider group (``group``); ``departments`` limits it (an updater
needs them; without them a viewer, approver or admin rule covers every department).

Example:
    >>> rule = AccessRule.model_validate(
    ...     {"group": "public-works-staff", "role": "updater", "departments": ["Public Works"]})
    >>> (rule.group, rule.role, rule.departments)
    ('public-works-staff', 'updater', ['Public Works'])
    >>> EntrySettings().due_days
    10
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from catalog.models.base import Strict

__all__ = ["ROLES", "AccessRule", "EntrySettings", "Role"]

Role = Literal["viewer", "updater", "approver", "admin"]
#: The roles, from least to most.
ROLES: tuple[Role, ...] = ("viewer", "updater", "approver", "admin")


class AccessRule(Strict):
    """One ``access:`` entry: a person (``who``, an e-mail) or a group, a role, departments."""

    who: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    group: str | None = Field(default=None, min_length=1)
    role: Role
    departments: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_subject(self) -> AccessRule:
        if (self.who is None) == (self.group is None):
            raise ValueError(
                "an access rule names either who: an e-mail or group: an identity-provider group "
                "(one of them, not both)"
            )
        if self.role == "updater" and not self.departments:
            raise ValueError(
                "an updater rule needs departments: [...] (the departments whose values they enter)"
            )
        return self


class EntrySettings(Strict):
    """When a manual KPI's period is due: ``due_days`` after it ends (catalog-wide or per KPI)."""

    due_days: int = Field(default=10, ge=0, le=366)
