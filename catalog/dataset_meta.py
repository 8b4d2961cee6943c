"""The catalog's ``datasets:`` block written to the store: license, attribution, source and more.

``sync --catalog`` and ``serve`` (at start and on each catalog reload) call
:func:`apply_dataset_metadata`; a dataset whose metadata already says so is left alone (its
version, and so every cached page over it, stays as it is).

Example:
    >>> import tempfile
    >>> from catalog.models import CatalogSettings
    >>> from btvstat_open.types import Column
    >>> store = Store(tempfile.mkdtemp())
    >>> _ = store.create("wellbeing", "data", [Column("n", "N", "number")])
    >>> settings = CatalogSettings.model_validate({"datasets": {"wellbeing": {"license": "ODC-By-1.0"}}})
    >>> apply_dataset_metadata(settings, store), store.info("wellbeing").license
    (['wellbeing'], 'ODC-By-1.0')
    >>> apply_dataset_metadata(settings, store)  # already so: nothing written
    []
"""

from __future__ import annotations

from btvstat_open.store import DatasetInfo, MetadataChange, Store
from catalog.models import CatalogSettings
from catalog.models.catalog_yaml import DatasetMetadata

__all__ = ["apply_dataset_metadata"]


def _change(meta: DatasetMetadata, info: DatasetInfo) -> MetadataChange | None:
    """What differs between the catalog's word and the store's record, or None."""
    wanted = {
        "name": meta.name,
        "description": meta.description,
        "license": meta.license,
        "attribution": meta.attribution,
        "source_url": meta.source_url,
        "tags": tuple(meta.tags) if meta.tags is not None else None,
        "source_updated": meta.source_updated.isoformat() if meta.source_updated else None,
    }
    differs = {k: v for k, v in wanted.items() if v is not None and getattr(info, k) != v}
    return MetadataChange(**differs) if differs else None  # type: ignore[arg-type]


def apply_dataset_metadata(settings: CatalogSettings, store: Store) -> list[str]:
    """Write each ``datasets:`` entry to its dataset in the store; the ids that changed.

    Datasets not in the store (yet) are skipped: the next sync or serve start writes them.
    """
    changed = []
    for dataset_id, meta in settings.datasets.items():
        if not store.exists(dataset_id):
            continue
        change = _change(meta, store.info(dataset_id))
        if change is not None:
            store.update_metadata(dataset_id, change)
            changed.append(dataset_id)
    return changed
