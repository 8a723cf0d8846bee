"""The canonical layers of one analysis, as one object passed between the steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import pyproj
from shapely.geometry.base import BaseGeometry

__all__ = ["LayerSet"]


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
    """

    layers: dict[str, gpd.GeoDataFrame]
    crs: pyproj.CRS
    study_area: BaseGeometry
    context_area: BaseGeometry
    data_extent: BaseGeometry
    issues: pd.DataFrame
    sources: list[str] = field(default_factory=list)

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        return self.layers[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self.layers)

    @property
    def districts(self) -> gpd.GeoDataFrame:
        """The districts clipped to the data."""
        return self.layers["districts"]
