"""Small synthetic analysis results for the map and report tests.

Two 1 km districts in UTM 48N (central Chengdu), one with a name full of characters that are
unsafe in file names; coverage and dead-end results built to the documented contracts of
``geoplan.coverage.CoverageResult`` and ``geoplan.deadends.DeadEndResult``.
"""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, Point, box

from geoplan.coverage.reach import reach_areas
from geoplan.layers.load import LayerSet
from geoplan.layers.schema import conform, empty_layer
from geoplan.results import CoverageResult, SiteResult

CRS = "EPSG:32648"
X0, Y0 = 404_000.0, 3_392_000.0
UNSAFE_NAME = '青羊/区:*?"<>|..'
DISTRICTS = ["锦江区", UNSAFE_NAME]
STANDARDS = [
    ("park_500", "公园绿地500米服务半径覆盖率", "Parks within 500 m", 500.0, 0.9),
    ("toilet_300", "公厕300米服务半径覆盖率", "Public toilets within 300 m", 300.0, 0.8),
]


def _layer(kind: str, rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    if not rows:
        return empty_layer(kind, CRS)
    return conform(gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS), kind)


def make_layerset(names: list[str] | None = None) -> LayerSet:
    """A LayerSet with two districts and a few facilities of every kind."""
    names = names or DISTRICTS
    d_geoms = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(len(names))]
    districts = _layer("districts", [
        {"district": n, "code": "510104" if i == 0 else "", "area_m2": 1e6, "full_area_m2": 2e6,
         "inside_share": 0.5, "name": n} for i, n in enumerate(names)], d_geoms)
    layers = {"districts": districts}
    layers["parks"] = _layer("parks", [{"name": "望江楼公园", "kind": "park", "area_m2": 40000.0}],
                             [box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)])
    layers["green_space"] = _layer("green_space", [{"name": "", "kind": "garden",
                                                    "area_m2": 2500.0}],
                                   [box(X0 + 1500, Y0 + 600, X0 + 1550, Y0 + 650)])
    layers["toilets"] = _layer("toilets", [{"name": "公厕一"}, {"name": ""}],
                               [Point(X0 + 400, Y0 + 400), Point(X0 + 1400, Y0 + 200)])
    layers["schools"] = _layer("schools", [
        {"name": "锦江小学", "levels": "primary", "primary": True},
        {"name": "第七中学", "levels": "junior;senior", "junior": True, "senior": True}],
        [Point(X0 + 700, Y0 + 700), Point(X0 + 1700, Y0 + 300)])
    layers["bus_stops"] = _layer("bus_stops", [{"name": "春熙路站"}, {"name": "东门站"}],
                                 [Point(X0 + 500, Y0 + 100), Point(X0 + 1200, Y0 + 800)])
    layers["services"] = _layer("services", [{"name": "菜市场", "kind": "market"}],
                                [Point(X0 + 900, Y0 + 500)])
    layers["roads"] = _layer("roads", [
        {"name": "人民南路", "highway": "primary", "road_class": "main"},
        {"name": "", "highway": "residential", "road_class": "general"}],
        [LineString([(X0, Y0 + 500), (X0 + 2000, Y0 + 500)]),
         LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 1000)])])
    layers["water"] = _layer("water", [{"name": "府河", "kind": "river", "area_m2": 20000.0}],
                             [box(X0 + 1800, Y0, X0 + 1900, Y0 + 1000)])
    study = shapely.union_all(d_geoms)
    return LayerSet(layers, pyproj.CRS(CRS), study, study.buffer(500), study.buffer(2000),
                    pd.DataFrame(), ["OpenStreetMap extract test.osm.pbf, data of 2018-06 "
                                     "(© OpenStreetMap contributors, ODbL)"])


def make_coverage(names: list[str] | None = None) -> CoverageResult:
    """A coverage result: one district passes park_500, the other fails both standards."""
    names = names or DISTRICTS
    rows = []
    for i, name in enumerate(names):
        for sid, zh, en, radius, target in STANDARDS:
            share = 0.95 if (i == 0 and sid == "park_500") else 0.42 + 0.1 * i
            rows.append({
                "district": name, "standard": sid, "name_zh": zh, "name_en": en,
                "radius_m": radius, "target": target, "demand_kind": "residential",
                "demand_total": 1e6, "demand_unit": "m2", "n_facilities": 3 + i,
                "share_buffer": share, "share_network": share - 0.1,
                "share_population_buffer": share - 0.02, "share_population_network": share - 0.12,
                "meets_target": share >= target, "uncovered_area_m2": (1 - share) * 1e6,
                "uncovered_population": int((1 - share) * 12000), "unreachable_points": 2,
                "population_source": "census",
            })
    table = pd.DataFrame(rows)
    gap_rows, gap_geoms = [], []
    for i, name in enumerate(names):
        for sid, *_ in STANDARDS:
            for view in ("buffer", "network"):
                for rank in range(1, 7):
                    size = 200 - 25 * rank
                    x = X0 + i * 1000 + 50 + (rank - 1) * 150
                    gap_rows.append({"district": name, "standard": sid, "view": view,
                                     "rank": rank, "area_m2": float(size * size),
                                     "population": float(300 - 40 * rank)})
                    gap_geoms.append(box(x, Y0 + 820, x + size / 2, Y0 + 820 + size / 2))
    gaps = gpd.GeoDataFrame(gap_rows, geometry=gap_geoms, crs=CRS)
    reached = gpd.GeoDataFrame(
        {"standard": ["park_500", "park_500", "toilet_300"]},
        geometry=[LineString([(X0, Y0 + 500), (X0 + 900, Y0 + 500)]),
                  LineString([(X0 + 200, Y0), (X0 + 200, Y0 + 700)]),
                  LineString([(X0 + 1100, Y0 + 200), (X0 + 1600, Y0 + 200)])], crs=CRS)
    facilities = gpd.GeoDataFrame(
        {"standard": ["park_500", "toilet_300"], "layer": ["parks", "toilets"],
         "name": ["望江楼公园", "公厕一"], "kind": ["park", ""], "radius_m": [500.0, 300.0]},
        geometry=[Point(X0 + 200, Y0 + 200), Point(X0 + 400, Y0 + 400)], crs=CRS)
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return CoverageResult(table=table, gaps=gaps, reached=reached, facilities=facilities,
                          districts=empty, street_gaps=empty,
                          reach_areas=reach_areas(reached, [s[0] for s in STANDARDS], pyproj.CRS(CRS)),
                          meta={"name": "test"})


def make_deadends(names: list[str] | None = None) -> SimpleNamespace:
    """Dead-end roads (two per district) and opening candidates."""
    names = names or DISTRICTS
    rows, geoms = [], []
    for i, name in enumerate(names):
        for k in range(2):
            x = X0 + i * 1000 + 300 + 300 * k
            rows.append({"district": name, "id": f"d{i}{k}", "category": "cul_de_sac",
                         "highway": "residential", "road_class": "general",
                         "name": "断头路" + str(k) if k == 0 else "", "length_m": 120.5 + k,
                         "gap_m": 40.0, "detour_m": 600.0, "detour_ratio": 5.2 - k,
                         "saved_m": 560.0, "score": 0.8 - 0.1 * k, "rank": k + 1,
                         "crosses_water": k == 1, "crosses_railway": False})
            geoms.append(LineString([(x, Y0 + 300), (x, Y0 + 420)]))
    dead = gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)
    cand = gpd.GeoDataFrame(
        {"district": list(names), "rank": [1] * len(names), "length_m": [40.0] * len(names),
         "saved_m": [560.0] * len(names), "detour_ratio": [5.2] * len(names)},
        geometry=[LineString([(X0 + i * 1000 + 300, Y0 + 420), (X0 + i * 1000 + 340, Y0 + 420)])
                  for i in range(len(names))], crs=CRS)
    connectivity = pd.DataFrame({"district": names, "n_dead_ends": [2] * len(names)})
    return SimpleNamespace(dead_ends=dead, candidates=cand, connectivity=connectivity,
                           progress=None)


def make_sites(names: list[str] | None = None) -> SiteResult:
    """Suggested sites (the columns of ``geoplan.siting.suggest_sites``): two per district."""
    names = names or DISTRICTS
    rows, geoms = [], []
    for i, name in enumerate(names):
        for rank in (1, 2):
            rows.append({"district": name, "standard": "park_500", "rank": rank,
                         "covered_m2": 30000.0 / rank, "covered_population": 900.0 / rank,
                         "share_before": 0.42, "share_after": 0.6 + 0.1 * rank, "target": 0.9,
                         "radius_m": 500.0})
            geoms.append(Point(X0 + i * 1000 + 200 * rank, Y0 + 880))
    return SiteResult(gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS))
