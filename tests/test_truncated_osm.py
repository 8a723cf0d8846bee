"""Extracts with missing nodes (hard-clipped, or saved by an editor with negative ids).

A tiny hand-written extract: a ring road inside the data box [104.00, 104.02] x [30.00, 30.02],
two spurs branching west-east from it, one of them cut by the data's edge (its next node is not
in the file), and a residential block whose eastern half lies outside the data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan.config import AnalysisConfig, DeadEndSettings
from geoplan.deadends import run_deadends
from geoplan.layers import load_layers
from geoplan.layers.osm import close_along_edge, read_osm
from tests._osm_xml import write_districts, write_osm

CORNERS = [(1, 104.0, 30.0), (2, 104.02, 30.0), (3, 104.02, 30.02), (4, 104.0, 30.02)]
RING = [(11, 104.002, 30.002), (12, 104.018, 30.002), (13, 104.018, 30.018), (14, 104.002, 30.018),
        (15, 104.002, 30.010), (16, 104.002, 30.014)]


def _extract(sign: int = 1) -> tuple[list, list]:
    """Nodes and ways; ``sign=-1`` gives every id negative (as JOSM saves new data)."""
    s = sign
    nodes = [(s * i, x, y, {}) for i, x, y in CORNERS + RING]
    nodes += [(s * 21, 104.010, 30.010, {}), (s * 22, 104.010, 30.014, {}),
              (s * 31, 104.016, 30.006, {}), (s * 32, 104.016, 30.012, {})]
    nodes[0] = (s * 1, 104.0, 30.0, {"amenity": "bench"})  # the data's corners
    road = {"highway": "residential"}
    ways = [
        (s * 100, [s * 11, s * 12, s * 13, s * 14, s * 16, s * 15, s * 11], {"highway": "tertiary"}),
        (s * 101, [s * 15, s * 21, 999], road),       # cut: node 999 is not in the file
        (s * 102, [s * 16, s * 22], road),            # a real dead end in the same situation
        # residential block: nodes 998 and 997 lie beyond the data's east edge
        (s * 103, [s * 31, s * 32, 998, 997, s * 31], {"landuse": "residential"}),
        (s * 104, [s * 1, s * 2, s * 3, s * 4], {"barrier": "wall"}),
    ]
    return nodes, ways


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("truncated")
    nodes, ways = _extract()
    cut = write_osm(tmp / "cut.osm", nodes, ways)
    neg_nodes, neg_ways = _extract(-1)
    josm = write_osm(tmp / "josm.osm", neg_nodes, neg_ways)
    districts = write_districts(tmp / "d.geojson", {"甲区": (104.0, 30.0, 104.02, 30.02)})
    return cut, josm, districts


def _config(osm, districts) -> AnalysisConfig:
    return AnalysisConfig.model_validate({
        "name": "t", "districts": {"path": str(districts), "crs": "wgs84"},
        "osm": {"path": str(osm)}, "output": str(osm.parent / "out"),
        "standards": ["bus_stop_500"]})


def test_lines_keep_the_runs_of_present_nodes(files):
    osm = read_osm(files[0], {"highway", "landuse"})
    cut = osm.lines.loc[osm.lines["osm_id"] == "w101"]
    assert len(cut) == 1 and bool(cut["truncated"].iat[0])
    assert shapely.get_coordinates(cut.geometry.iat[0]).tolist() == [[104.002, 30.01], [104.01, 30.01]]
    # the end made by the cut is known; the real dead end's end is not among them
    assert [104.01, 30.01] in osm.cut_points.tolist()
    assert [104.01, 30.014] not in osm.cut_points.tolist()
    # a hard-clipped file's extent is the box of its nodes
    assert osm.bounds.bounds == pytest.approx((104.0, 30.0, 104.02, 30.02))
    assert "hard-clipped" in osm.bounds_note


def test_area_is_closed_along_the_data_edge(files):
    osm = read_osm(files[0], {"highway", "landuse"})
    block = osm.areas.loc[osm.areas["osm_id"] == "w103"].geometry.iat[0]
    expected = shapely.box(104.016, 30.006, 104.02, 30.012)  # out to the east edge and back
    assert block.symmetric_difference(expected).area == pytest.approx(0, abs=1e-12)


def test_close_along_edge_goes_round_a_corner():
    edge = shapely.box(0, 0, 10, 10)
    # a block over the north-east corner: present nodes (8, 6) -> (6, 8), the rest outside
    poly = close_along_edge([[(6.0, 8.0), (8.0, 6.0)]], edge)
    assert poly.area == pytest.approx(shapely.Polygon([(6, 8), (8, 6), (10, 6), (10, 10),
                                                       (6, 10)]).area)


def test_layers_count_truncated_ways_and_dead_ends_skip_cut_ends(files):
    layers = load_layers(_config(files[0], files[2]))
    issues = layers.issues
    residential = issues.loc[(issues["layer"] == "residential")]
    assert residential["issue"].str.contains("truncated").any()
    assert int(residential["count"].sum()) == 1
    assert len(layers["residential"]) == 1
    # the residential block keeps its part inside the data (0.004° x 0.006°), not nothing
    area = gpd.GeoSeries([shapely.box(104.016, 30.006, 104.02, 30.012)], crs="EPSG:4326")
    assert layers["residential"]["area_m2"].iat[0] == pytest.approx(area.to_crs(layers.crs).area.iat[0])
    result = run_deadends(layers, DeadEndSettings())
    everything = result.all_dead_ends
    cut = everything.loc[(everything["end_x"] - _xy(layers, 104.01, 30.01)[0]).abs() < 0.1]
    real = everything.loc[(everything["end_x"] - _xy(layers, 104.01, 30.014)[0]).abs() < 0.1]
    assert list(cut["category"]) == ["edge_artifact"]
    assert "missing" in cut["reason"].iat[0]
    assert list(real["category"]) == ["public"]


def _xy(layers, lon: float, lat: float) -> tuple[float, float]:
    p = gpd.GeoSeries(shapely.points([lon], [lat]), crs="EPSG:4326").to_crs(layers.crs).iat[0]
    return p.x, p.y


def test_negative_ids_lose_no_way(files):
    plain = read_osm(files[0], {"highway", "landuse", "barrier"})
    josm = read_osm(files[1], {"highway", "landuse", "barrier"})
    assert len(josm.lines) == len(plain.lines)
    assert len(josm.areas) == len(plain.areas)
    assert np.allclose(sorted(shapely.length(josm.lines.geometry.to_numpy())),
                       sorted(shapely.length(plain.lines.geometry.to_numpy())))
