"""GeoPackages are written without GDAL's fsync per transaction and with its journal in memory,
and its settings restored."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import pyogrio.errors
import pytest
import shapely

from geoplan._io import LayerBlocks, write_gpkg

OPTIONS = ("OGR_SQLITE_SYNCHRONOUS", "OGR_SQLITE_PRAGMA", "SPATIALITE_LOAD")


@pytest.fixture()
def restore_options():
    before = {key: pyogrio.get_gdal_config_option(key) for key in OPTIONS}
    yield
    pyogrio.set_gdal_config_options(before)


def _layers() -> dict[str, gpd.GeoDataFrame]:
    pts = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(0, 0),
                                                           shapely.Point(1, 1)], crs="EPSG:32648")
    return {"points": pts, "empty": pts.iloc[0:0]}


def _settings() -> list:
    return [pyogrio.get_gdal_config_option(key) for key in OPTIONS]


@pytest.mark.parametrize("setting", [None, "NORMAL"])
def test_settings_restored_and_file_whole(tmp_path, restore_options, setting):
    pyogrio.set_gdal_config_options({key: setting for key in OPTIONS})
    during, seen = [], []

    def blocks():
        during.append(_settings())
        return [_layers()["points"]]

    layers = {**_layers(), "blocks": LayerBlocks(blocks, np.zeros(2, dtype=np.int8))}
    out = write_gpkg(layers, tmp_path / "x.gpkg", styles=lambda p: seen.append(_settings()))
    # the layers are written unsynced with the journal in memory; the styles are added with
    # the caller's settings again, and those stay
    assert during == [[False, "journal_mode=MEMORY", "NO"]]  # pyogrio gives "OFF" back as False
    assert _settings() == [setting] * 3
    assert seen == [[setting] * 3]
    assert [name for name, _ in pyogrio.list_layers(out)] == ["points", "empty", "blocks"]
    assert list(gpd.read_file(out, layer="points")["name"]) == ["a", "b"]
    with sqlite3.connect(out) as db:  # an ordinary, whole file
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_settings_restored_after_a_failed_write(tmp_path, restore_options):
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "FULL",
                                     "OGR_SQLITE_PRAGMA": "cache_size=100",
                                     "SPATIALITE_LOAD": "YES"})
    bad = gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:32648")
    with pytest.raises(pyogrio.errors.DataLayerError):
        write_gpkg({"ok": bad, "": bad}, tmp_path / "y.gpkg")  # an empty layer name fails
    assert _settings() == ["FULL", "cache_size=100", "YES"]
    assert not (tmp_path / "y.gpkg").exists()


def _indexed(path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT table_name FROM gpkg_extensions "
                          "WHERE extension_name = 'gpkg_rtree_index'").fetchall()
    return {r[0] for r in rows}


def test_a_spatial_index_on_large_layers_and_blocks_only(tmp_path):
    from geoplan._io import SPATIAL_INDEX_MIN_ROWS, geometry_kinds

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
