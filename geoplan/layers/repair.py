"""Repair or reject geometries, counting every change with its reason (nothing dropped silently)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.vocab import GEOMETRY

logger = logging.getLogger(__name__)

_FAMILY_TYPES = {
    "point": (shapely.GeometryType.POINT,),
    "line": (shapely.GeometryType.LINESTRING,),
    "area": (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON),
    "point_or_area": (shapely.GeometryType.POINT, shapely.GeometryType.POLYGON,
                      shapely.GeometryType.MULTIPOLYGON),
}


@dataclass
class IssueLog:
    """Counts of repaired and rejected features, by layer, source and reason."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, layer: str, source: str, issue: str, count: int, action: str, *,
            say: bool = True) -> None:
        """Record ``count`` features of ``layer`` from ``source`` with ``issue``; ``say``: log
        it too (False when the caller has said it already)."""
        if count:
            self.rows.append(
                {"layer": layer, "source": source, "issue": issue, "count": int(count),
                 "action": action}
            )
            if say:
                log = logger.warning if action == "rejected" else logger.info
                log("%s (%s): %d feature(s) %s: %s", layer, source, count, action, issue)

    def frame(self) -> pd.DataFrame:
        """The log as a table (layer, source, issue, count, action)."""
        return pd.DataFrame(self.rows, columns=["layer", "source", "issue", "count", "action"])


def repair(gdf: gpd.GeoDataFrame, kind: str, issues: IssueLog) -> gpd.GeoDataFrame:
    """Make geometries of ``gdf`` valid and of the family ``kind`` needs.

    - missing or empty geometries are rejected;
    - invalid polygons and lines are repaired with ``shapely.make_valid`` and the parts of the
      right family kept;
    - multi-part lines are split into parts; areas given for a point layer become a point
      inside them; multi-points become their parts;
    - features of another family (a point in a parks layer) are rejected.
    """
    if len(gdf) == 0:
        return gdf
    family = GEOMETRY[kind]
    geoms = gdf.geometry.to_numpy()
    if _already_clean(geoms, family):
        # nothing to reject, repair or split (most layers): what the steps below give then,
        # without their copies of the frame (a batch's small jobs spent 7 ms a layer in them)
        return gdf.reset_index(drop=True)
    source = str(gdf["source"].iloc[0]) if "source" in gdf.columns else "input"
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    issues.add(kind, source, "missing or empty geometry", missing.sum(), "rejected")
    gdf = gdf.loc[~missing].copy()
    geoms = gdf.geometry.to_numpy()

    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        issues.add(kind, source, "invalid geometry (self-intersection etc.)", invalid.sum(), "repaired")
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))

    gdf = _to_family(gdf, kind, family, source, issues)
    empty = shapely.is_empty(gdf.geometry.to_numpy())
    issues.add(kind, source, "nothing of the right geometry left after repair", empty.sum(), "rejected")
    return gdf.loc[~empty].reset_index(drop=True)


_CLEAN_TYPE_IDS = {
    "point": (int(shapely.GeometryType.POINT),),
    "line": (int(shapely.GeometryType.LINESTRING),),
    "area": (int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON)),
    "point_or_area": (int(shapely.GeometryType.POINT), int(shapely.GeometryType.POLYGON),
                      int(shapely.GeometryType.MULTIPOLYGON)),
}
"""The geometry types :func:`repair` leaves in each family (a multi-point or a multi-line is
split, a collection reduced)."""


def _already_clean(geoms: np.ndarray, family: str) -> bool:
    """Whether :func:`repair` would keep every one of ``geoms`` as it is."""
    return bool(np.isin(shapely.get_type_id(geoms), _CLEAN_TYPE_IDS[family]).all()
                and not shapely.is_empty(geoms).any() and shapely.is_valid(geoms).all())


def _to_family(
    gdf: gpd.GeoDataFrame, kind: str, family: str, source: str, issues: IssueLog
) -> gpd.GeoDataFrame:
    geoms = gdf.geometry
    if family == "point_or_area":
        # a facility's outline stays (a school's grounds); a line or a collection becomes its
        # areas when it has any, else a point on it
        odd = ~geoms.geom_type.isin(["Point", "MultiPoint", "Polygon", "MultiPolygon"])
        if odd.any():
            fixed = [_keep_family(g, _FAMILY_TYPES["area"]) if is_odd else g
                     for g, is_odd in zip(geoms.to_numpy(), odd.to_numpy(), strict=True)]
            fixed = [g if not (o and g.is_empty) else shapely.point_on_surface(orig)
                     for g, o, orig in zip(fixed, odd.to_numpy(), geoms.to_numpy(), strict=True)]
            geoms = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
            issues.add(kind, source, "line or mixed geometry for a facility: its area, else a "
                       "point on it, used", int(odd.sum()), "repaired")
        return _split_multipoints(gdf.set_geometry(geoms), issues, kind, source)
    if family == "point":
        areas_or_lines = ~geoms.geom_type.isin(["Point", "MultiPoint"])
        if areas_or_lines.any():
            geoms = geoms.where(~areas_or_lines, geoms.representative_point())
            issues.add(kind, source, "area or line given for a point layer: point inside used",
                       areas_or_lines.sum(), "repaired")
        return _split_multipoints(gdf.set_geometry(geoms), issues, kind, source)

    # collections (from make_valid or mixed input): keep only the parts of the family
    wanted = _FAMILY_TYPES[family]
    collection = geoms.geom_type == "GeometryCollection"
    if collection.any():
        parts = [
            _keep_family(g, wanted) if is_coll else g
            for g, is_coll in zip(geoms.to_numpy(), collection.to_numpy(), strict=True)
        ]
        geoms = gpd.GeoSeries(parts, index=gdf.index, crs=gdf.crs)
        gdf = gdf.set_geometry(geoms)
    if family == "line":
        gdf = gdf.loc[~gdf.geometry.is_empty]
        multi = gdf.geom_type == "MultiLineString"
        if multi.any():
            gdf = gdf.explode(index_parts=False)
            issues.add(kind, source, "multi-line split into lines", int(multi.sum()), "repaired")
        wrong = ~gdf.geom_type.isin(["LineString"])
    else:
        wrong = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    article = "an" if family[:1] in "aeiou" else "a"
    issues.add(kind, source, f"not {article} {family} geometry", int(wrong.sum()), "rejected")
    return gdf.loc[~wrong]


def _split_multipoints(gdf: gpd.GeoDataFrame, issues: IssueLog, kind: str, source: str
                       ) -> gpd.GeoDataFrame:
    """Multi-points split into one row per point, counted in the issues log."""
    multi = gdf.geom_type == "MultiPoint"
    if multi.any():
        issues.add(kind, source, "multi-point split into points", multi.sum(), "repaired")
        gdf = gdf.explode(index_parts=False)
    return gdf


def _keep_family(geom: shapely.Geometry, wanted: tuple[shapely.GeometryType, ...]) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    keep = parts[np.isin(shapely.get_type_id(parts), [int(t) for t in wanted])]
    if len(keep) == 0:
        return shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    if wanted[0] == shapely.GeometryType.LINESTRING:
        return shapely.multilinestrings(keep) if len(keep) > 1 else keep[0]
    polys = shapely.get_parts(shapely.union_all(keep))
    return shapely.multipolygons(polys) if len(polys) > 1 else polys[0]
