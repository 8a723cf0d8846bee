"""The canonical layers of one analysis, as one object passed between the steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry.base import BaseGeometry

from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from geoplan.layers.osm import OsmData

__all__ = ["CONTEXT_MARGIN_M", "LayerSet"]

CONTEXT_MARGIN_M = 1000.0
"""Context margin (m) when no standard gives a radius: facilities and walkways are kept this far
beyond the districts."""


@dataclass
class LayerSet:
    """The canonical layers of one analysis, all in ``crs`` (metres).

    Attributes
    ----------
    layers
        Layer kind -> GeoDataFrame following :mod:`geoplan.layers.schema`; ``districts`` first.
    crs
        The analysis CRS.
    study_area
        Union of the districts' parts inside the data.
    context_area
        The study area buffered by the context margin, within the data extent: layers are
        clipped to it.
    data_extent
        Where the data ends (the OSM extract's bounds): roads cut there are not dead ends.
    issues
        Every repaired or rejected feature, counted by layer, source and reason.
    sources
        Human-readable data sources (for reports).
    cut_points
        Points (analysis CRS) where the data's cut left a way's end: the present node next
        to a node missing from the file. Ends there are never dead ends.
    margin_m
        The context margin used (see :func:`context_margin`).
    datum
        The datum check of the district boundaries (:func:`geoplan.data_checks.check_datum`).
    reached_from
        From the layer catalog: where a facility drawn as an area is buffered and walked to
        from, ``'outline'`` or ``'point'``, by facility layer (``'schools'``) and by services
        kind (``'services:kindergarten'``). Empty: facilities are used as the layers give them.
    overview
        Every district of the city (``district``, geometry) when this layer set is one
        district's part of it (an index map's page): the page's locator shows where it lies.
    overlaps
        The whole city's districts that overlap (:func:`geoplan.layers.overlaps.district_overlaps`)
        when a batch job is told them; None: the data checks find them among :attr:`districts`.
    unit
        What the districts are called in Chinese (``districts.unit``: 区县, 街道, 社区, 网格…):
        the reports, maps and workbook name them so.
    in_data
        Per facility layer, the attributes (no geometry) of all its features in the input
        files, before they were kept to the context area: whether a kind of facility is in the
        data at all, or only absent near these districts (a gap, not missing data).
    """

    layers: dict[str, gpd.GeoDataFrame]
    crs: pyproj.CRS
    study_area: BaseGeometry
    context_area: BaseGeometry
    data_extent: BaseGeometry
    issues: pd.DataFrame
    sources: list[str] = field(default_factory=list)
    cut_points: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    margin_m: float = CONTEXT_MARGIN_M
    datum: dict[str, Any] | None = None
    reached_from: dict[str, str] = field(default_factory=dict)
    osm_context: OsmData | None = None
    overview: gpd.GeoDataFrame | None = None
    unit: str = DEFAULT_UNIT
    overlaps: pd.DataFrame | None = None
    in_data: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        return self.layers[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self.layers)

    @property
    def districts(self) -> gpd.GeoDataFrame:
        """The districts clipped to the data."""
        return self.layers["districts"]
