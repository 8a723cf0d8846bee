"""GeoPackages are written without GDAL's fsync per transaction, and its setting restored."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pyogrio.errors
import pytest
import shapely

from geoplan._io import write_gpkg

OPTION = "OGR_SQLITE_SYNCHRONOUS"


@pytest.fixture()
def restore_option():
    before = pyogrio.get_gdal_config_option(OPTION)
    yield
    pyogrio.set_gdal_config_options({OPTION: before})


def _layers() -> dict[str, gpd.GeoDataFrame]:
    pts = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(0, 0),
                                                           shapely.Point(1, 1)], crs="EPSG:32648")
    return {"points": pts, "empty": pts.iloc[0:0]}


@pytest.mark.parametrize("setting", [None, "NORMAL"])
def test_setting_restored_and_file_whole(tmp_path, restore_option, setting):
    pyogrio.set_gdal_config_options({OPTION: setting})
    seen = []
    out = write_gpkg(_layers(), tmp_path / "x.gpkg",
                     styles=lambda p: seen.append(pyogrio.get_gdal_config_option(OPTION)))
    assert pyogrio.get_gdal_config_option(OPTION) == setting
    assert seen == [setting]  # the styles are added with the caller's setting again
    assert [name for name, _ in pyogrio.list_layers(out)] == ["points", "empty"]
    assert list(gpd.read_file(out, layer="points")["name"]) == ["a", "b"]


def test_setting_restored_after_a_failed_write(tmp_path, restore_option):
    pyogrio.set_gdal_config_options({OPTION: "FULL"})
    bad = gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:32648")
    with pytest.raises(pyogrio.errors.DataLayerError):
        write_gpkg({"ok": bad, "": bad}, tmp_path / "y.gpkg")  # an empty layer name fails
    assert pyogrio.get_gdal_config_option(OPTION) == "FULL"
    assert not (tmp_path / "y.gpkg").exists()


def _indexed(path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT table_name FROM gpkg_extensions "
                          "WHERE extension_name = 'gpkg_rtree_index'").fetchall()
    return {r[0] for r in rows}


def test_a_spatial_index_on_large_layers_and_blocks_only(tmp_path):
    import numpy as np

    from geoplan._io import SPATIAL_INDEX_MIN_ROWS, LayerBlocks, geometry_kinds

    n = SPATIAL_INDEX_MIN_ROWS
    big = gpd.GeoDataFrame({"i": np.arange(n)}, geometry=shapely.points(np.arange(n), 0),
                           crs="EPSG:32648")
    small = big.iloc[: n - 1]
    blocks = LayerBlocks(lambda: [small.iloc[:3], small.iloc[3:6]],
                         geometry_kinds(small.geometry.to_numpy()[:6]))
    out = write_gpkg({"big": big, "small": small, "blocks": blocks, **_layers()},
                     tmp_path / "x.gpkg")
    assert _indexed(out) == {"big", "blocks"}
    assert len(gpd.read_file(out, layer="small")) == n - 1
    assert len(gpd.read_file(out, layer="blocks")) == 6
