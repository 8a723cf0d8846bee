"""Small walkway networks in UTM 48N for the network tests: hand-drawn ways and random streets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import Delaunay

CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0


def line(*pts: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])


def ways(*lines: shapely.Geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"w{i}" for i in range(len(lines))]}, geometry=list(lines),
                            crs=CRS)


def pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.array([(X0 + x, Y0 + y) for x, y in xy], dtype=float)


def random_planar_ways(n: int, seed: int, *, extent: float = 2000.0, drop: float = 0.3,
                       bend: float = 5.0) -> gpd.GeoDataFrame:
    """Delaunay streets between ``n`` random points, a share ``drop`` of them left out (dead
    ends and small islands appear), each way bent by one vertex off its middle (``bend`` m sd),
    so that lengths are not straight lines."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent, size=(n, 2)).round(2)
    tri = Delaunay(xy)
    e = np.concatenate([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]],
                        tri.simplices[:, [2, 0]]])
    e = np.unique(np.sort(e, axis=1), axis=0)
    e = e[rng.random(len(e)) > drop]
    return ways(*[line(tuple(xy[a]), tuple((xy[a] + xy[b]) / 2 + rng.normal(0, bend, 2)),
                       tuple(xy[b])) for a, b in e])
