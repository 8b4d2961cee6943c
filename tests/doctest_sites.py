"""The stand-in ArcGIS, CKAN and Opendatasoft sites the docstring examples run against.

Each is served once for the whole doctest session (uvicorn on 127.0.0.1, a free port) over
small tables of the contract columns (``case_id``, ``amount``, ``opened``, ``closed``), so the
connectors' examples show real answers instead of ``# doctest: +SKIP``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from arcgis_standin import ArcgisStandin, Service, layer_from_table
from ckan_standin import StandinCkan
from opendatasoft_standin import StandinOds
from servers import serve

from connectors.testing import source_table

ROWS = 120
CKAN_RESOURCE = "5b1c7a8e-0000-4000-8000-000000000001"


@contextmanager
def standin_sites() -> Iterator[dict[str, Any]]:
    """Serve the three stand-ins; yields the examples' globals naming them."""
    cases = source_table(ROWS)
    arcgis = ArcgisStandin(
        {
            "Cases": Service(
                {
                    0: layer_from_table(0, "Cases (map)", source_table(50), geometry=True),
                    1: layer_from_table(1, "Cases", cases, max_record_count=50),
                }
            )
        }
    )
    ckan = StandinCkan()
    ckan.add_table("cases", CKAN_RESOURCE, cases, "2024-01-02T03:04:05")
    ods = StandinOds()
    ods.put("cases", cases, "2024-01-02T03:04:05+00:00")
    with ExitStack() as stack:
        arcgis_url = stack.enter_context(serve(arcgis))
        ckan.url = stack.enter_context(serve(ckan.app()))
        ods_url = stack.enter_context(serve(ods.app()))
        yield {
            "arcgis_site": arcgis_url,  # also a Hub site: its DCAT feed lists the layers
            "arcgis_url": f"{arcgis_url}/arcgis/rest/services/Cases/FeatureServer",
            "ckan_url": ckan.url,
            "ckan_resource": CKAN_RESOURCE,
            "ods_url": ods_url,
        }
