"""The data's lon/lat box keeps its edges on the parallels when projected (worked on paper).

A parallel is curved in UTM: the straight chord between two corners 0.4° apart at 30.6° N
sags about 7 m (zone 48N) from it. The midpoint of the south edge, projected on its own, must
therefore lie on the projected extent's boundary (to well under a metre), and not 7 m off it.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from geoplan.layers.load import project_extent

UTM48N = "EPSG:32648"


def _projected(lon: float, lat: float) -> shapely.Point:
    return gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(UTM48N).iloc[0]


def test_edge_midpoint_stays_on_the_boundary() -> None:
    extent = shapely.box(104.0, 30.6, 104.4, 30.95)
    dense = project_extent(extent, UTM48N)
    chord = gpd.GeoSeries([extent], crs="EPSG:4326").to_crs(UTM48N).iloc[0]
    mid_south = _projected(104.2, 30.6)
    assert dense.boundary.distance(mid_south) < 0.05
    assert chord.boundary.distance(mid_south) > 3.0  # what four corners alone would give


def test_a_tile_of_the_extent_lies_wholly_inside() -> None:
    # a district cut along the extract's edge is wholly inside the data, not 99.9 %
    extent = shapely.box(104.0, 30.6, 104.4, 30.95)
    tile = shapely.segmentize(shapely.box(104.1, 30.6, 104.2, 30.7), 0.0001)
    dense = project_extent(extent, UTM48N)
    tile_m = gpd.GeoSeries([tile], crs="EPSG:4326").to_crs(UTM48N).iloc[0]
    assert shapely.intersection(tile_m, dense).area / tile_m.area > 0.99999
