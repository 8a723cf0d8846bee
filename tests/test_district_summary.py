"""The layers table per district (``district_summary``) on shapes whose answer is known on paper."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geoplan.layers import LAYER_KINDS, LayerSet, district_summary
from geoplan.layers.schema import conform, empty_layer

CRS = "EPSG:32648"


def _layer(kind: str, geoms: list[object]) -> gpd.GeoDataFrame:
    return conform(gpd.GeoDataFrame({"name": [f"{kind}{i}" for i in range(len(geoms))]},
                                    geometry=geoms, crs=CRS), kind)


def _layerset(layers: dict[str, list[object]]) -> LayerSet:
    west, east = box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)
    districts = gpd.GeoDataFrame(
        {"district": ["西区", "东区"], "area_m2": [1e6, 1e6], "full_area_m2": [2e6, 1e6],
         "inside_share": [0.5, 1.0]}, geometry=[west, east], crs=CRS)
    all_layers = {kind: _layer(kind, layers[kind]) if kind in layers else empty_layer(kind, CRS)
                  for kind in LAYER_KINDS if kind != "districts"}
    area = box(0, 0, 2000, 1000)
    return LayerSet(layers={"districts": districts, **all_layers}, crs=gpd.GeoSeries(crs=CRS).crs,
                    study_area=area, context_area=area, data_extent=area,
                    issues=pd.DataFrame())


def test_counts_lengths_and_areas_split_at_the_district_line():
    layers = _layerset({
        # 1.5 km of road, 750 m on each side; a 400 m road inside the west only
        "roads": [LineString([(250, 500), (1750, 500)]), LineString([(100, 100), (100, 500)])],
        # a 200 m x 100 m park, three quarters in the east
        "parks": [box(950, 800, 1150, 900)],
        "toilets": [Point(500, 500), Point(1500, 500), Point(1600, 600)],
    })
    table = district_summary(layers).set_index("district")
    assert table.loc["西区", "roads"] == 2 and table.loc["东区", "roads"] == 1
    assert table.loc["西区", "roads_km"] == pytest.approx(0.75 + 0.4)
    assert table.loc["东区", "roads_km"] == pytest.approx(0.75)
    assert table.loc["西区", "parks"] == 1 and table.loc["东区", "parks"] == 1
    assert table.loc["西区", "parks_ha"] == pytest.approx(0.5)
    assert table.loc["东区", "parks_ha"] == pytest.approx(1.5)
    assert table.loc["西区", "toilets"] == 1 and table.loc["东区", "toilets"] == 2
    assert table.loc["西区", "full_area_km2"] == pytest.approx(2.0)
    assert table.loc["东区", "inside_share"] == 1.0
    # an empty layer gives zeros, never a missing column
    assert table.loc["东区", "water"] == 0 and table.loc["东区", "water_ha"] == 0.0
    # the city counts the road and the park across the line once: 2 roads, not 3
    from geoplan.layers.load import CITY_COUNTS

    city = district_summary(layers).attrs[CITY_COUNTS]
    assert city["roads"] == 2 and city["parks"] == 1 and city["toilets"] == 3
    assert city["water"] == 0


def test_a_district_with_nothing_gets_zeros():
    table = district_summary(_layerset({"roads": [LineString([(100, 100), (900, 100)])]}))
    east = table.set_index("district").loc["东区"]
    assert east["roads"] == 0 and east["roads_km"] == 0.0
    assert list(table["district"]) == ["西区", "东区"]
