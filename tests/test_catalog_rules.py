"""The catalog's facility sets as the documents define them, and names in any name tag."""

from __future__ import annotations

import pytest

from geoplan.layers import rules
from geoplan.layers.from_osm import _services
from geoplan.layers.rules import display_name, load_catalog, select
from geoplan.layers.school_levels import classify_school


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _keeps(catalog, kind: str, tags: dict[str, str]) -> bool:
    return select(catalog["layers"][kind], [tags])[0]


@pytest.mark.parametrize("tags, kept", [
    ({"leisure": "park", "name": "人民公园"}, True),
    ({"leisure": "garden"}, True),
    ({"landuse": "grass"}, True),
    ({"place": "square", "name": "天府广场"}, True),
    ({"natural": "wood"}, False),
    ({"landuse": "forest"}, False),
    ({"natural": "scrub"}, False),
    ({"landuse": "farmland"}, False),
    ({"landuse": "meadow"}, False),
    ({"landuse": "forest", "name": "森林公园"}, False),
    ({"landuse": "grass", "access": "private"}, False),
    ({"leisure": "garden", "garden:type": "residential"}, False),
    ({"building": "yes", "name": "公园大厦"}, False),
    ({"name": "绿地红星国际广场"}, False),  # a developer's brand, not green space
    ({"landuse": "residential", "name": "绿地·世纪城"}, False),
    ({"name": "府南河街头绿地"}, True),
])
def test_green_space_is_public_green(catalog, tags, kept):
    assert _keeps(catalog, "green_space", tags) is kept


@pytest.mark.parametrize("tags, kept", [
    ({"amenity": "toilets"}, True),
    ({"name": "公厕"}, True),
    ({"amenity": "toilets", "access": "customers"}, False),
    ({"amenity": "toilets", "access": "private"}, False),
    ({"amenity": "toilets", "access": "no"}, False),
    ({"tourism": "attraction", "toilets": "yes", "name": "Cathedral crypt"}, False),
    ({"amenity": "restaurant", "toilets": "yes"}, False),
])
def test_public_toilets_only(catalog, tags, kept):
    assert _keeps(catalog, "toilets", tags) is kept


@pytest.mark.parametrize("tags, kind", [
    ({"amenity": "marketplace", "name": "农贸市场"}, "market"),
    ({"shop": "supermarket"}, "market"),
    ({"shop": "convenience"}, "market"),
    ({"shop": "electronics", "name": "苏宁电器"}, ""),
    ({"shop": "electronics", "name": "国美电器"}, ""),
    ({"shop": "department_store", "name": "王府井百货"}, ""),
    ({"shop": "mall"}, ""),
])
def test_markets_are_daily_groceries(catalog, tags, kind):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"osm_id": ["n1"], "tags": [tags]}, geometry=[shapely.Point(0, 0)])
    found = _services(frame, catalog["layers"]["services"])
    # a service keeps every kind it matches (a mall may be another item's); markets are daily groceries
    kinds = set(str(found["kind"].iat[0]).split(";")) if len(found) else set()
    assert ("market" in kinds) == (kind == "market"), kinds


def test_green_space_rule_is_data_with_its_clause():
    text = rules.default_catalog_path().read_text(encoding="utf-8")
    block = text[text.index("  green_space:"):text.index("  entrances:")]
    assert "CJJ/T 85-2017" in block and "001 §三(三)3" in block
    # a comment above every exclusion
    lines = block[block.index("    exclude:"):].splitlines()[1:]
    rules_at = [i for i, ln in enumerate(lines) if ln.strip().startswith("- ")]
    for i in rules_at:
        above = lines[i - 1].strip()
        assert above.startswith("#") or lines[i - 1].strip().startswith(("-", '"')), lines[i]


def test_every_facility_layer_says_where_it_is_reached_from(catalog):
    for kind in ("parks", "green_space", "toilets", "schools", "bus_stops", "services"):
        spec = catalog["layers"][kind]
        assert spec["reached_from"] in ("outline", "point") and spec["reached_from_why"], kind
    assert catalog["layers"]["parks"]["reached_from"] == "outline"


def test_names_in_any_tag(catalog):
    tags = {"name": "Changjiang Road Primary School", "name:zh": "长江路小学", "amenity": "school"}
    assert display_name(tags) == "长江路小学"
    assert classify_school(tags, catalog["layers"]["schools"]["levels"]) == (["primary"], "name")
    # classified on every name: an English `name` and the Chinese one only in name:zh-Hans
    only_hans = {"name": "No. 3 School", "name:zh-Hans": "第三小学"}
    assert _keeps(catalog, "schools", only_hans)
    assert display_name({"official_name": "成都市公厕", "alt_name": "x"}) == "成都市公厕"
    assert _keeps(catalog, "toilets", {"alt_name": "公共厕所"})
    # the university exclusion sees the Chinese name too
    assert not _keeps(catalog, "schools", {"amenity": "school", "name": "UESTC",
                                           "name:zh": "电子科技大学"})


def test_lawns_inside_compounds_are_not_public_green(catalog):
    import geopandas as gpd
    import shapely

    from geoplan.layers.load import _exclude_inside
    from geoplan.layers.repair import IssueLog

    compound = gpd.GeoDataFrame({"source": ["t"]}, geometry=[shapely.box(0, 0, 100, 100)])
    green = gpd.GeoDataFrame({"source": ["t"] * 3, "kind": ["grass", "park", "grass"]},
                             geometry=[shapely.box(10, 10, 30, 30), shapely.box(40, 40, 60, 60),
                                       shapely.box(200, 0, 260, 60)])
    log = IssueLog()
    kept = _exclude_inside({"green_space": green, "residential": compound}, "green_space",
                           catalog["layers"]["green_space"], log)
    assert list(kept["kind"]) == ["park", "grass"]  # the lawn inside the compound is dropped
    assert log.frame()["count"].sum() == 1
    # a planner's own file says what is public: its green inside the compound stays (a planned
    # park on today's housing land), and the OSM lawn's exclusion is logged against OSM's file
    planned = gpd.GeoDataFrame({"source": ["city.osm", "规划公园.geojson"], "kind": ["", ""]},
                               geometry=[shapely.box(10, 10, 30, 30), shapely.box(40, 40, 60, 60)])
    log = IssueLog()
    kept = _exclude_inside({"green_space": planned, "residential": compound}, "green_space",
                           catalog["layers"]["green_space"], log, own_files={"规划公园.geojson"})
    assert list(kept["source"]) == ["规划公园.geojson"]
    assert log.frame()[["source", "count"]].values.tolist() == [["city.osm", 1]]


def test_inside_the_union_of_land_is_told_without_the_union():
    import numpy as np
    import shapely

    from geoplan.layers.load import _in_union

    # two lots sharing an edge (x = 100), a third apart, an L of two lots meeting at a corner
    lots = np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
                     shapely.box(300, 0, 400, 100), shapely.box(500, 0, 600, 100),
                     shapely.box(600, 100, 700, 200), None, shapely.Polygon()], dtype=object)
    points = shapely.points([
        (50, 50),     # inside one lot
        (100, 50),    # on the shared edge: inside the union
        (100, 100),   # on the outline of both, at the union's outline: outside
        (300, 50),    # on a lone lot's outline: outside
        (250, 50),    # between lots
        (600, 100),   # the corner two lots meet at: on the union's outline
        (650, 150),   # inside the second lot of the L
    ])
    expected = [True, True, False, False, False, False, True]
    assert _in_union(lots, points).tolist() == expected
    assert shapely.contains(shapely.union_all(lots), points).tolist() == expected
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 50, (2, 40)) * 10
    cells = shapely.box(x, y, x + 60, y + 60)  # overlapping and edge-sharing squares
    pts = shapely.points(rng.integers(0, 60, (400, 2)) * 10)  # many on the cells' outlines
    on_outline = shapely.intersects(shapely.union_all(shapely.boundary(cells)), pts)
    assert on_outline.sum() > 50
    assert np.array_equal(_in_union(cells, pts), shapely.contains(shapely.union_all(cells), pts))
