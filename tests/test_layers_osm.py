"""OSM layers checked against an independent XML reading of the same extract."""

from __future__ import annotations

import pytest

from geoplan.layers import district_summary
from geoplan.layers.from_osm import osm_layers
from geoplan.layers.osm import read_osm
from geoplan.layers.rules import catalog_keys, load_catalog
from geoplan.layers.schema import validate
from tests.conftest import CHENGDU_DISTRICTS, CHENGDU_PBF, CHENGDU_XML
from tests.independent_osm import districts_wgs84, point_counts, read_xml

FOUR = {"成华区", "金牛区", "青羊区", "锦江区"}


@pytest.fixture(scope="module")
def independent():
    coords, nodes, ways = read_xml(CHENGDU_XML)
    return coords, nodes, ways, districts_wgs84(CHENGDU_DISTRICTS)


@pytest.fixture(scope="module")
def raw_layers():
    catalog = load_catalog()
    return osm_layers(read_osm(CHENGDU_PBF, catalog_keys(catalog)), catalog)


def _ids(nodes, ways, predicate):
    return {f"n{n['id']}" for n in nodes if predicate(n["tags"])} | {
        f"w{w['id']}" for w in ways if predicate(w["tags"])
    }


def test_pbf_and_xml_editions_give_the_same_layers(raw_layers):
    catalog = load_catalog()
    from_xml = osm_layers(read_osm(CHENGDU_XML, catalog_keys(catalog)), catalog)
    for kind, layer in raw_layers.items():
        assert sorted(layer["source_id"]) == sorted(from_xml[kind]["source_id"]), kind


def test_xml_header_bounds_and_pbf_estimate():
    xml = read_osm(CHENGDU_XML, {"highway"}).bounds.bounds
    assert xml == pytest.approx((104.0421, 30.6528, 104.1296, 30.7279))
    # the PBF has no header: the estimate from standalone points is within ~50 m of the box
    pbf = read_osm(CHENGDU_PBF, {"highway"}).bounds.bounds
    assert pbf == pytest.approx(xml, abs=5e-4)


def test_feature_ids_match_an_independent_reading(independent, raw_layers):
    _, nodes, ways, _ = independent
    toilets = _ids(nodes, ways, lambda t: t.get("amenity") == "toilets"
                   or any(s in t.get("name", "") for s in ("公厕", "厕所")))
    assert set(raw_layers["toilets"]["source_id"]) == toilets
    residential = {f"w{w['id']}" for w in ways
                   if w["tags"].get("landuse") == "residential" and w["refs"][0] == w["refs"][-1]}
    assert residential <= set(raw_layers["residential"]["source_id"])
    assert len(raw_layers["residential"]) == 186  # as the data README states
    bus = _ids(nodes, ways, lambda t: t.get("highway") == "bus_stop")
    assert bus <= set(raw_layers["bus_stops"]["source_id"])
    parks = {f"w{w['id']}" for w in ways
             if w["tags"].get("leisure") == "park" and w["refs"][0] == w["refs"][-1]}
    assert parks <= set(raw_layers["parks"]["source_id"])


def test_school_rules_keep_schools_and_drop_the_rest(independent, raw_layers):
    _, nodes, ways, _ = independent
    schools = raw_layers["schools"]
    tagged = {f"n{n['id']}": n["tags"].get("name", "") for n in nodes
              if n["tags"].get("amenity") == "school"}
    tagged |= {f"w{w['id']}": w["tags"].get("name", "") for w in ways
               if w["tags"].get("amenity") == "school"}
    dropped = {tagged[i] for i in set(tagged) - set(schools["source_id"])}
    # amenity=school features that are kindergartens, training schools or universities
    assert dropped == {"西南交通大学 - Xinan Jiaotong University", "成都树才培训学校",
                       "千里马大地幼儿园", "加州阳光幼儿园", "锦绣东方幼儿园",
                       "四川电大省级机关分校", "成华区教师进修学校"}  # adult education
    kept = schools.set_index("source_id")
    assert not kept["name"].str.contains("幼儿园|培训").any()
    assert "西南交通大学 - Xinan Jiaotong University" not in set(kept["name"])
    assert kept.loc[kept["name"].str.contains("电子科技大学附实小"), "primary"].all()


def test_per_district_counts_match_independent_counts(independent, chengdu_layers):
    coords, nodes, ways, districts = independent
    summary = district_summary(chengdu_layers).set_index("district")
    assert set(summary.index) == FOUR
    toilets = point_counts(coords, nodes, ways, districts, lambda t: t.get("amenity") == "toilets"
                           or any(s in t.get("name", "") for s in ("公厕", "厕所")))
    for name in FOUR:
        assert summary.loc[name, "toilets"] == toilets[name], name


def test_district_shares_of_the_extract(chengdu_layers):
    extent = chengdu_layers.data_extent.area
    share = {r.district: r.area_m2 / extent for r in chengdu_layers.districts.itertuples()}
    # the data README: 成华区 51%, 金牛区 31%, 青羊区 12%, 锦江区 6% of the box
    assert share["成华区"] == pytest.approx(0.51, abs=0.01)
    assert share["金牛区"] == pytest.approx(0.31, abs=0.01)
    assert share["青羊区"] == pytest.approx(0.12, abs=0.01)
    assert share["锦江区"] == pytest.approx(0.06, abs=0.01)


def test_layers_follow_the_schema_in_a_projected_crs(chengdu_layers):
    assert chengdu_layers.crs.to_epsg() == 32648
    for kind, layer in chengdu_layers.layers.items():
        validate(layer, kind)
        assert layer.crs.to_epsg() == 32648
        assert layer.geometry.is_valid.all(), kind
    assert (chengdu_layers["parks"]["area_m2"] > 0).all()
    assert chengdu_layers["bus_stops"]["n_merged"].sum() >= len(chengdu_layers["bus_stops"])


def test_second_load_comes_from_the_cache(chengdu_config, caplog):
    from geoplan.layers import load_layers

    load_layers(chengdu_config)
    caplog.clear()
    with caplog.at_level("INFO", logger="geoplan.layers.cache"):
        again = load_layers(chengdu_config)
    assert any("loaded from cache" in r.message for r in caplog.records)
    assert len(again["roads"]) > 1000
