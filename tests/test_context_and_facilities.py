"""Facilities keep their whole geometry; the context margin follows the chosen standards."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geoplan.config import AnalysisConfig
from geoplan.layers import load_layers
from geoplan.layers.load import context_margin
from tests._osm_xml import write_districts, write_osm

# data box [104.00, 104.04] x [30.00, 30.02] (bounds header); district: its western quarter
BOUNDS = (104.0, 30.0, 104.04, 30.02)
DISTRICT = {"甲区": (104.0, 30.0, 104.01, 30.02)}


def _config(osm, districts, standards) -> AnalysisConfig:
    return AnalysisConfig.model_validate({
        "name": "t", "districts": {"path": str(districts), "crs": "wgs84"},
        "osm": {"path": str(osm)}, "output": str(osm.parent / "out"), "standards": standards})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("margin")
    nodes = [
        # a street along the district, and toilets 1.1 km and 1.4 km east of the district line
        (1, 104.001, 30.01, {}), (2, 104.03, 30.01, {}),
        (3, 104.0215, 30.0105, {"amenity": "toilets"}), (4, 104.0245, 30.0105, {"amenity": "toilets"}),
        # a park reaching 0.01° beyond the data's west edge (complete way, as a bbox cut keeps it)
        (11, 103.99, 30.004, {}), (12, 104.005, 30.004, {}), (13, 104.005, 30.008, {}),
        (14, 103.99, 30.008, {}),
        (21, 104.002, 30.012, {}), (22, 104.008, 30.012, {}), (23, 104.008, 30.018, {}),
        (24, 104.002, 30.018, {}),
    ]
    ways = [(100, [1, 2], {"highway": "residential"}),
            (101, [11, 12, 13, 14, 11], {"leisure": "park", "name": "河滨公园"}),
            (102, [21, 22, 23, 24, 21], {"landuse": "residential"})]
    osm = write_osm(tmp / "a.osm", nodes, ways, bounds=BOUNDS)
    return osm, write_districts(tmp / "d.geojson", DISTRICT)


def test_margin_is_the_largest_radius_plus_the_snap_distance(files):
    osm, districts = files
    assert context_margin(_config(osm, districts, ["toilet_general_500"])) == 500 + 2 * 100
    wide = _config(osm, districts, [{"id": "toilet_general_500", "radius_m": 1500}])
    assert context_margin(wide) == 1500 + 2 * 100


def test_a_radius_of_1500_m_keeps_facilities_1_to_1_5_km_away(files):
    osm, districts = files
    narrow = load_layers(_config(osm, districts, ["toilet_general_500"]))
    assert len(narrow["toilets"]) == 0
    wide = load_layers(_config(osm, districts, [{"id": "toilet_general_500", "radius_m": 1500}]))
    assert len(wide["toilets"]) == 2 and wide.margin_m == 1700


def test_parks_keep_their_whole_outline_residential_land_is_clipped(files):
    osm, districts = files
    layers = load_layers(_config(osm, districts, ["park_500"]))
    park = layers["parks"]
    whole = gpd.GeoSeries([shapely.box(103.99, 30.004, 104.005, 30.008)], crs=4326).to_crs(layers.crs)
    assert park.geometry.iat[0].area == pytest.approx(whole.area.iat[0], rel=1e-9)
    assert park["area_m2"].iat[0] == pytest.approx(whole.area.iat[0], rel=1e-9)
    assert not layers.data_extent.covers(park.geometry.iat[0])  # it reaches past the data
    assert layers.data_extent.buffer(1e-6).covers(layers["residential"].geometry.iat[0])
