"""How big the meeting map would be as one file, and whether it becomes an index.

Kept apart from the map's drawing (folium, jinja2's templates: about a second to import) so
that :mod:`geoplan.pipeline` can ask before it draws, at no cost: a run whose map is one page
draws the map and the reports side by side (see :mod:`geoplan.report._map_index` for the
index map and its detail pages).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.results import CoverageResult

__all__ = ["BASE_MB", "BYTES_PER_ROAD_VERTEX", "DEFAULT_MAX_MB", "estimate_mb", "map_budget_mb",
           "needs_index"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_MB = 5.0
"""The largest single ``map.html`` (MB, 10⁶ bytes) before the index is written instead.

About 3.5× the default run's map (1.44 MB), whose first paint in headless Chromium already
took 2.1–2.6 s on this 2-core machine under load, against 5–8 s for the 2.9 MB 4-tile map
(2026-12-02): first paint grows with the number of drawn shapes, and the issue asks for 3 s."""

BASE_MB = 0.95
"""The estimate's fixed part: scripts, styles, controls, district outlines (MB)."""
BYTES_PER_ROAD_VERTEX = 41.7
"""The estimate's bytes per vertex of the roads layer, fitted on the default run (11,698
road vertices, 1.44 MB) and the 4-tile city (46,792, 2.90 MB); it gives 8.8 MB for the 16-tile
city (measured 9.0) and 32 MB for 64 tiles (measured 29.9)."""


def map_budget_mb(config: AnalysisConfig | None, max_mb: float | None = None) -> float:
    """The largest single ``map.html`` (MB): ``max_mb`` when given, else the config's
    ``map.max_mb``, else :data:`DEFAULT_MAX_MB`."""
    if max_mb is not None:
        return float(max_mb)
    return float(getattr(getattr(config, "map", None), "max_mb", DEFAULT_MAX_MB))


def _coords(gdf: Any) -> int:
    if not isinstance(gdf, gpd.GeoDataFrame) or not len(gdf):
        return 0
    return int(shapely.get_num_coordinates(gdf.geometry.to_numpy()).sum())


def estimate_mb(layerset: LayerSet, coverage: CoverageResult | None) -> float:
    """The single map's size (MB) estimated before drawing, from the roads' vertex count.

    The map's bytes follow the street network: the roads-and-water background, street
    names, walking reach, gaps and homes all grow with it, while facilities and districts
    are small. Measured (2026-12-02) on the embedded extract mirror-tiled: 1 tile 1.5 MB,
    4 tiles 2.9 MB, 16 tiles 9.0 MB, 64 tiles 29.9 MB (see :data:`BYTES_PER_ROAD_VERTEX`).
    """
    roads = _coords(layerset.layers.get("roads"))
    return BASE_MB + roads * BYTES_PER_ROAD_VERTEX / 1e6


def needs_index(layerset: LayerSet, coverage: CoverageResult | None, max_mb: float, *,
                say: bool = True) -> bool:
    """Whether the map is written as an index with detail pages; with ``say``, an index is
    logged with the estimate that called for it."""
    if len(layerset.districts) < 2:
        return False
    estimate = estimate_mb(layerset, coverage)
    if estimate <= max_mb:
        return False
    if say:
        logger.info("map: about %.0f MB as one file, over the %.0f MB budget: writing an index "
                    "map and %d district pages", estimate, max_mb, len(layerset.districts))
    return True
