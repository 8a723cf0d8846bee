"""A planner's facility file in another datum than it is read in (geoplan.layers.file_datum).

A toilet list exported from Baidu (BD-09) or Gaode (GCJ-02) read as WGS 84 lands 300–1,000 m
off and moves every share near it, with no other sign. Here: the offset check on hand-made
points (each datum's answer known), and the whole load on a synthetic city whose OSM toilets a
planner's list repeats in BD-09.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml

from geoplan import chinese_coords as cc
from geoplan.layers.datum_names import datum_named_by_columns
from geoplan.layers.file_datum import file_datum_check
from tests.hostile.world import LAT0, LON0, make_world, osm_xml

# six toilets of the synthetic city's OSM file, spread over its 1.6 km × 1.1 km
TOILETS = [(LON0 + dx, LAT0 + dy) for dx, dy in
           ((0.002, 0.002), (0.006, 0.003), (0.011, 0.004), (0.004, 0.008), (0.009, 0.009),
            (0.014, 0.007))]


def _points(lonlat) -> np.ndarray:
    xy = np.asarray(lonlat, dtype=float)
    return shapely.points(xy[:, 0], xy[:, 1])


def _in(datum: str, lonlat) -> list[tuple[float, float]]:
    """The points' coordinates as a file in ``datum`` holds them."""
    xy = np.asarray(lonlat, dtype=float)
    fn = {"bd09": cc.wgs84_to_bd09, "gcj02": cc.wgs84_to_gcj02}[datum]
    x, y = fn(xy[:, 0], xy[:, 1])
    return list(zip(np.asarray(x, float), np.asarray(y, float), strict=True))


def _osm_points(seed: int = 0, n: int = 40) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return list(zip(104.05 + rng.uniform(0, 0.03, n), 30.65 + rng.uniform(0, 0.03, n),
                    strict=True))


@pytest.mark.parametrize("datum", ["bd09", "gcj02"])
def test_a_list_in_another_datum_read_as_wgs84_is_found_with_its_datum(datum: str) -> None:
    osm = _osm_points()
    check = file_datum_check(_points(_in(datum, osm[:12])), _points(osm), "wgs84")
    assert check is not None and check["suspect"] and check["best"] == datum
    assert check["median_m"][datum] < 1.0  # read in its own datum, it is OSM's points again
    # the offsets of the two datums here (central Chengdu): about 950 m and 360 m
    assert check["shift_m"] == pytest.approx(950 if datum == "bd09" else 360, rel=0.1)
    assert check["median_m"]["wgs84"] > 100  # read as WGS 84, nearer other toilets than its own


def test_a_list_read_in_its_own_datum_or_of_other_places_is_not_suspect() -> None:
    osm = _osm_points()
    right = file_datum_check(_points(osm[:12]), _points(osm), "wgs84")
    assert right is not None and not right["suspect"] and right["best"] == "wgs84"
    # a BD-09 list declared bd09: converted on reading, it sits on OSM's points
    declared = _points([tuple(p) for p in np.column_stack(cc.bd09_to_wgs84(
        *np.asarray(_in("bd09", osm[:12])).T))])
    assert not file_datum_check(declared, _points(osm), "bd09")["suspect"]
    # facilities OSM does not have (other places, a planned list): no datum explains them
    for seed in range(1, 21):
        other = file_datum_check(_points(_osm_points(seed, 12)), _points(osm), "wgs84")
        assert other is not None and not other["suspect"], seed


def test_places_osm_does_not_hold_nearer_osm_in_another_datum_are_not_suspect() -> None:
    # a helper's six made-up toilets were 1,086 m from OSM's as given and 405 m read as
    # BD-09: nearer by chance, on none of them. Here OSM's toilets are spread over 10 km and a
    # list is each moved 200 m, then written in BD-09 and read as WGS 84: read as BD-09 they
    # are 200 m off OSM's, no longer on them
    rng = np.random.default_rng(7)
    osm = list(zip(104.0 + rng.uniform(0, 0.1, 40), 30.6 + rng.uniform(0, 0.1, 40), strict=True))
    angle = rng.uniform(0, 2 * np.pi, 12)
    off = [(lon + 200 * np.cos(a) / 95_760, lat + 200 * np.sin(a) / 110_850)
           for (lon, lat), a in zip(osm[:12], angle, strict=True)]
    check = file_datum_check(_points(_in("bd09", off)), _points(osm), "wgs84")
    assert check is not None and check["best"] == "bd09"
    assert check["median_m"]["bd09"] < 0.4 * check["median_m"]["wgs84"]  # nearer, as before
    assert check["matched"]["bd09"] < 0.25 and not check["suspect"]
    # the same places mapped twice are on OSM's: 12 of 12 within 60 m
    same = file_datum_check(_points(_in("bd09", osm[:12])), _points(osm), "wgs84")
    assert same["matched"]["bd09"] == 1.0 and same["suspect"]


def test_too_few_features_to_tell() -> None:
    osm = _osm_points()
    assert file_datum_check(_points(_in("bd09", osm[:4])), _points(osm), "wgs84") is None
    assert file_datum_check(_points(osm[:12]), _points(osm[:4]), "wgs84") is None


@pytest.mark.parametrize(("lon", "lat", "datum"), [
    ("bd_lng", "bd_lat", "bd09"), ("lon_bd09", "lat_bd09", "bd09"), ("gcj_lng", "gcj_lat", "gcj02"),
    ("lon_gcj02", "lat_gcj02", "gcj02"), ("高德经度", "高德纬度", "gcj02"), ("百度经度", "纬度", "bd09"),
    ("lon_wgs84", "lat_wgs84", "wgs84"), ("经度", "纬度", None), ("lon", "lat", None),
    ("x", "y", None), ("lon_gcj02", "lat_bd09", None), ("abduction", "lat", None),
])
def test_the_datum_a_column_name_says(lon: str, lat: str, datum: str | None) -> None:
    assert datum_named_by_columns(lon, lat) == datum


def _city(tmp_path: Path, toilets: dict) -> Path:
    extra = "".join(f'\n<node id="{900 + k}" lat="{lat}" lon="{lon}" version="1">'
                    '<tag k="amenity" v="toilets"/></node>' for k, (lon, lat) in enumerate(TOILETS))
    config = make_world(tmp_path, config={"layers": {"toilets": [toilets]},
                                          "standards": ["toilet_general_500"]})
    (tmp_path / "city.osm").write_text(osm_xml(extra_nodes=extra), encoding="utf-8")
    return config


def _toilet_list(path: Path, lon: str, lat: str, points) -> None:
    path.write_text(f"名称,{lon},{lat}\n" + "".join(f"公厕{k},{x:.9f},{y:.9f}\n"
                                                   for k, (x, y) in enumerate(points)),
                    encoding="utf-8")


def test_a_baidu_list_read_as_wgs84_warns_and_is_a_data_check(tmp_path: Path, caplog) -> None:
    from geoplan.config import load_config
    from geoplan.data_checks import data_checks
    from geoplan.layers import load_layers
    from geoplan.report._map_checks import check_words_zh, datum_warnings

    _toilet_list(tmp_path / "toilets.csv", "经度", "纬度", _in("bd09", TOILETS))
    config = load_config(_city(tmp_path, {"path": "toilets.csv", "mode": "replace"}))
    with caplog.at_level(logging.WARNING):
        layers = load_layers(config)
    said = [r.getMessage() for r in caplog.records if "looks like BD-09" in r.getMessage()]
    assert len(said) == 1 and "not WGS 84" in said[0]
    assert "Fix: layers.toilets[0].crs: bd09 in the config" in said[0]
    checks = data_checks(layers)
    row = checks.loc[checks["check"] == "file_datum"]
    assert len(row) == 1 and row["severity"].iloc[0] == "warning"
    assert row["count"].iloc[0] == len(TOILETS) and row["subject"].iloc[0] == "toilets"
    assert row["fix"].iloc[0] == "layers.toilets[0].crs: bd09 in the config"
    zh, zh_fix = check_words_zh(row.itertuples(index=False).__next__())
    assert zh is not None and "疑似为 BD-09 而非 WGS 84" in zh and "6 个公厕" in zh
    assert zh_fix == "在配置中写明 layers.toilets[0].crs: bd09"
    # every page's and the workbook's notes carry it, in both languages
    assert any("疑似为 BD-09" in t for t in datum_warnings(checks, "zh"))
    assert any("looks like BD-09" in t for t in datum_warnings(checks, "en"))


def test_columns_that_name_their_datum_are_read_in_it(tmp_path: Path, caplog) -> None:
    from geoplan.config import load_config
    from geoplan.layers import load_layers

    _toilet_list(tmp_path / "toilets.csv", "bd_lng", "bd_lat", _in("bd09", TOILETS))
    config = load_config(_city(tmp_path, {"path": "toilets.csv", "mode": "replace"}))
    with caplog.at_level(logging.INFO):
        layers = load_layers(config)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "columns bd_lng / bd_lat name BD-09 coordinates: read as bd09" in said
    assert "looks like" not in said
    mine = layers["toilets"].to_crs(4326)
    assert len(mine) == len(TOILETS)
    got = sorted(zip(mine.geometry.x.round(6), mine.geometry.y.round(6), strict=True))
    assert got == sorted((round(x, 6), round(y, 6)) for x, y in TOILETS)  # on OSM's toilets
    # a declaration wins over the names, said out loud
    raw = yaml.safe_load((tmp_path / "city.yaml").read_text(encoding="utf-8"))
    raw["layers"]["toilets"][0]["crs"] = "gcj02"
    (tmp_path / "city.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_layers(load_config(tmp_path / "city.yaml"))
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "name BD-09 coordinates, but layers.toilets[0].crs declares gcj02" in said
    assert "looks like BD-09, not GCJ-02" in said  # and the offset check agrees with the names
