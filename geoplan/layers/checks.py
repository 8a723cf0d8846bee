"""Checks that loaded layers can answer the analysis, with the file, the cause and the fix.

Each raises :class:`~geoplan._errors.InputDataError` (exit code 1) before the work that would
otherwise give silent zeros.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputDataError

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet

logger = logging.getLogger(__name__)


def check_file_sources_inside(config: AnalysisConfig, wgs_layers: Mapping[str, gpd.GeoDataFrame],
                              context: BaseGeometry, crs: Any) -> None:
    """Every planner's file must have features near the districts.

    A file whose features all lie outside the study area (plus its margin) is an error: the
    coordinates or the declared CRS are wrong, and ignoring it would report "no change". A file
    with some features outside is logged.
    """
    if not config.layers:
        return
    context_wgs = gpd.GeoSeries([context], crs=crs).to_crs("EPSG:4326").iloc[0]
    shapely.prepare(context_wgs)
    for kind, sources in config.layers.items():
        frame = wgs_layers.get(kind)
        if frame is None or "source" not in frame.columns:
            continue
        for src in sources:
            mine = frame.loc[frame["source"] == src.path.name]
            if len(mine) == 0:
                continue
            near = shapely.intersects(context_wgs, mine.geometry.to_numpy())
            if near.any():
                if not near.all():
                    logger.warning("%s: %d of %d features lie outside the districts (and their "
                                   "%s margin) and are ignored", src.path, int((~near).sum()),
                                   len(mine), "1 km")
                continue
            x0, y0, x1, y1 = mine.total_bounds
            hint = CRS_HINT.format(crs=src.crs or "none: the file's own, else WGS 84")
            bx0, by0, bx1, by1 = context_wgs.bounds
            raise InputDataError(
                f"{src.path} ({kind}): none of its {len(mine)} features lies within the districts "
                f"or 1 km of them: they span lon {x0:.4f}…{x1:.4f}, lat {y0:.4f}…{y1:.4f}, the "
                f"study area lon {bx0:.4f}…{bx1:.4f}, lat {by0:.4f}…{by1:.4f}. Check the "
                f"coordinates and {hint}."
            )


CRS_HINT = "the declared crs ({crs}; AMap/Tencent exports are gcj02, Baidu bd09)"
"""What a file far from the districts is told to check besides its coordinates."""


def require_walkways(layerset: LayerSet, config: AnalysisConfig | None = None) -> None:
    """The walking-network shares need walkable roads in the study area."""
    walkways = layerset.layers.get("walkways")
    if walkways is not None and len(walkways) > 0:
        return
    where = ""
    if config is not None and config.osm.path is not None:
        where = f" in {config.osm.path}"
    raise InputDataError(
        f"no walkable roads{where} within the districts: the walking-network shares cannot be "
        "measured (they would all be 0%). Check that the extract covers the districts and holds "
        "the streets (highway=residential, footway, …), not only motorways; or add a roads file "
        "under layers: roads."
    )
