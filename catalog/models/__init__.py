"""The catalog's data model: site settings (``catalog.yaml``), one :class:`Kpi` per KPI file, and
one :class:`Meeting` per file under ``meetings/``.

Example:
    >>> kpi = Kpi.model_validate({
    ...     "id": "potholes", "title": "Pothole requests", "department": "Public Works",
    ...     "source": {"dataset": "kc-311-potholes", "date_column": "creation_date"},
    ...     "measure": {"calculation": "count"},
    ... })
    >>> (kpi.period.size, kpi.source.portal, kpi.chart)
    ('month', 'local', 'line')
"""

from __future__ import annotations

from catalog.models.base import CALCULATIONS, CHARTS, KPI_ID_PATTERN, KPI_KINDS, PERIOD_SIZES
from catalog.models.catalog_yaml import CatalogSettings, Contact, EmbedSettings, Goal, PortalSettings
from catalog.models.dated_goal import DatedGoal, DatedPoint, GoalDatedGoal
from catalog.models.kpi import Kpi, Measure, Period, RateTerm, Source, Target
from catalog.models.loaded import Catalog, content_version
from catalog.models.meeting import Meeting, NewItem
from catalog.models.peer import Peer, Peers
from catalog.models.story import Story, StoryBlock, StoryMeta
from catalog.models.tracking import Action, Breakdown, Freshness, Note, TargetEntry

__all__ = [
    "CALCULATIONS",
    "CHARTS",
    "KPI_ID_PATTERN",
    "KPI_KINDS",
    "PERIOD_SIZES",
    "Action",
    "Breakdown",
    "Catalog",
    "CatalogSettings",
    "Contact",
    "DatedGoal",
    "DatedPoint",
    "EmbedSettings",
    "Freshness",
    "Goal",
    "GoalDatedGoal",
    "Kpi",
    "Measure",
    "Meeting",
    "NewItem",
    "Note",
    "Peer",
    "Peers",
    "Period",
    "PortalSettings",
    "RateTerm",
    "Source",
    "Story",
    "StoryBlock",
    "StoryMeta",
    "Target",
    "TargetEntry",
    "content_version",
]
