"""Fast frame building (``geoplan._frames``, ``schema.conform``) gives the frames geopandas'
own general path gives, on awkward columns too."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geoplan._frames import as_crs, geo_frame
from geoplan.layers.schema import COMMON, SCHEMAS, conform


def _conform_by_definition(gdf: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """conform as its docstring defines it, a column at a time through pandas."""
    out = {}
    for col, typ in {**COMMON, **SCHEMAS[kind]}.items():
        if col not in gdf.columns:
            out[col] = np.full(len(gdf), {"str": "", "bool": False, "float": np.nan, "int": 0}[typ],
                               dtype={"str": object, "bool": bool, "float": "float64",
                                      "int": "int64"}[typ])
            continue
        s = gdf[col]
        if typ == "str":
            s = s.fillna("").astype(str)
        elif typ == "bool":
            s = s.fillna(False).astype(bool)
        elif typ == "float":
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            s = pd.to_numeric(s, errors="coerce").fillna(0).astype("int64")
        out[col] = s.to_numpy()
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def _schools(values: dict) -> gpd.GeoDataFrame:
    n = len(next(iter(values.values())))
    return gpd.GeoDataFrame(values, geometry=shapely.points(np.arange(n), np.arange(n)),
                            crs="EPSG:32648", index=np.arange(10, 10 + n))


@pytest.mark.parametrize("values", [
    # clean columns of the right types: taken as they are
    {"name": ["一小", "二小", "=1+1"], "seats": [100, 200, 0], "site_area_m2": [1.0, 2.5, np.nan],
     "level": ["primary"] * 3},
    # text with gaps and numbers, numbers as text, bools with gaps
    {"name": ["一小", None, 3], "seats": ["100", "x", None], "site_area_m2": ["1.5", None, "a"],
     "source_id": [np.nan, "w1", "n2"]},
    # pandas' own string and nullable dtypes
    {"name": pd.array(["a", None, "c"], dtype="string"), "seats": pd.array([1, None, 3], dtype="Int64"),
     "site_area_m2": pd.array([1.5, None, 2.0], dtype="Float64")},
    # numpy text that is not str, floats where ints go
    {"name": np.array(["a", "b", "c"]), "seats": [1.0, 2.7, np.nan], "level": [1, 2, 3]},
    # nothing at all
    {"name": pd.Series([], dtype=object)},
])
def test_conform_gives_what_pandas_column_by_column_gives(values: dict) -> None:
    frame = _schools(values)
    if "seats" in values:  # a column of another table's bool type, with a gap
        frame["private"] = pd.array([True, None, False][:len(frame)], dtype="boolean")
    got, want = conform(frame, "schools"), _conform_by_definition(frame, "schools")
    assert_geodataframe_equal(got, want, check_dtype=True, check_index_type=True)
    assert list(got.columns) == [*COMMON, *SCHEMAS["schools"], "geometry"]
    assert got.crs == pyproj.CRS("EPSG:32648")


def test_conform_leaves_the_given_frame_alone() -> None:
    frame = _schools({"name": ["a", "b"], "seats": [1, 2]})
    before = frame.copy()
    got = conform(frame, "schools")
    got.loc[0, "name"] = "changed"
    got.loc[0, "seats"] = 99
    assert_geodataframe_equal(frame, before)


def test_geo_frame_is_the_frame_geopandas_builds() -> None:
    geoms = shapely.points([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    columns = {"a": np.array([1, 2, 3]), "b": np.array(["x", "y", "z"], dtype=object)}
    want = gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")
    assert_geodataframe_equal(geo_frame(columns, geoms, "EPSG:4326"), want, check_dtype=True)
    # a DataFrame keeps its index; the geometries go by position
    df = pd.DataFrame(columns, index=[7, 5, 3])
    want = gpd.GeoDataFrame(df, geometry=geoms, crs=4326)
    got = geo_frame(df, geoms, 4326)
    assert_geodataframe_equal(got, want, check_dtype=True)
    assert list(got.index) == [7, 5, 3] and "geometry" not in df.columns
    assert geo_frame({}, np.zeros(0, dtype=object), None).crs is None


def test_geo_frame_leaves_the_crs_of_the_geometries_it_was_given() -> None:
    source = gpd.GeoSeries(shapely.points([0.0], [0.0]), crs="EPSG:4326")
    moved = geo_frame({"a": [1]}, source.values, "EPSG:32648")
    assert moved.crs.to_epsg() == 32648 and source.crs.to_epsg() == 4326


def test_geo_frame_refuses_a_second_geometry_column_and_lengths_that_differ() -> None:
    with pytest.raises(ValueError, match="geometry"):
        geo_frame({"geometry": [1]}, shapely.points([0.0], [0.0]), None)
    with pytest.raises(ValueError, match="2 geometries for 1 rows"):
        geo_frame(pd.DataFrame({"a": [1]}), shapely.points([0.0, 1.0], [0.0, 1.0]), None)


def test_a_crs_text_is_parsed_once() -> None:
    assert as_crs("EPSG:32648") is as_crs("EPSG:32648")
    assert as_crs(4326) == pyproj.CRS("EPSG:4326")
    crs = pyproj.CRS("EPSG:4547")
    assert as_crs(crs) is crs and as_crs(None) is None
