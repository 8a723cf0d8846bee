"""Where a facility is (issue 9 item 11): schools' grounds are buffered and walked to from their
outline, as the layer catalog says, with answers worked out on paper."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan.config import DemandSettings
from geoplan.coverage import run_coverage
from geoplan.coverage.access import as_reached
from geoplan.layers.load import reached_from_map
from geoplan.layers.merge import merge_facilities
from geoplan.layers.rules import load_catalog, reached_from, reached_from_why
from geoplan.standards import FacilitySet, resolve_standards
from tests._synthetic import CRS, P, box, frame, layerset, line

# A 200 m x 200 m school ground (0..200, 0..200), its centre (100, 100). A walkway runs 20 m
# south of it (y = -20). Two equal blocks of homes straddle the walkway:
#   NEAR: x 650..660: 450-460 m from the grounds' edge (its corner (200, 0)), >= 559 m from the
#         centre: covered from the outline, not from the point;
#   FAR:  x 720..730: 520-530 m from the edge: covered by neither.
# On paper, with a 500 m radius: outline -> buffer 0.5 and walking 0.5 (from the corner's access
# point at (200, -20): 450-460 m along the walkway); point -> buffer 0 and walking 0 (the centre
# snaps to (100, -20), 550-560 m from NEAR).
GROUNDS = box(0, 0, 200, 200)
NEAR = box(650, -10, 660, 10)
FAR = box(720, -10, 730, 10)


def _schools() -> gpd.GeoDataFrame:
    return frame("schools", [GROUNDS], levels=["primary"], primary=[True], junior=[False],
                 senior=[False])


def _layerset(modes: dict[str, str]):
    ls = layerset({"A": box(-300, -300, 1000, 500)}, schools=_schools(),
                  residential=[NEAR, FAR], walkways=[line((-100, -20), (900, -20))])
    ls.reached_from = modes
    return ls


def _shares(ls, standard) -> tuple[float, float]:
    result = run_coverage(ls, [standard], DemandSettings(grid_m=5.0))
    row = result.table.iloc[0]
    return float(row["share_buffer"]), float(row["share_network"])


@pytest.fixture(scope="module")
def primary():
    return resolve_standards(["primary_school_500"])[0]


def test_school_grounds_are_reached_from_their_outline(primary):
    assert primary.facility.reached_from_for({"schools": "outline"}) == "outline"
    buf, net = _shares(_layerset({"schools": "outline"}), primary)
    assert buf == pytest.approx(0.5, abs=1e-9)
    assert net == pytest.approx(0.5, abs=1e-9)


def test_the_same_school_as_one_point_covers_neither_block(primary):
    # the catalog saying `point`, or the standard overriding it, both use the point inside
    buf, net = _shares(_layerset({"schools": "point"}), primary)
    assert (buf, net) == (0.0, 0.0)
    own = primary.model_copy(update={"facility": FacilitySet(
        layer="schools", filter={"primary": True}, reached_from="point",
        reached_from_why="test: the school's gate is its only entrance")})
    assert _shares(_layerset({"schools": "outline"}), own) == (0.0, 0.0)


def test_as_reached_keeps_nodes_and_reduces_areas_only_for_point_mode():
    rows = frame("schools", [GROUNDS, P(900, 900)])
    assert as_reached(rows, "outline") is rows and as_reached(rows, None) is rows
    pts = as_reached(rows, "point").geometry.to_numpy()
    assert list(shapely.get_type_id(pts)) == [0, 0]
    assert shapely.contains(GROUNDS, pts[0]) and shapely.equals(pts[1], P(900, 900))


def test_a_node_inside_its_grounds_joins_them_with_its_levels():
    # node "A小学" (primary) inside grounds named "A小学" (levels unknown): one school, the
    # grounds' outline, primary; node "B中学" 30 m outside other grounds of no name: joins them
    # (within 40 m) and names them; node "C小学" 60 m away from everything stays a point
    rows = frame("schools", [GROUNDS, P(100, 100), box(1000, 0, 1100, 100), P(1130, 50),
                             P(600, 600)],
                 name=["A小学", "A小学", "", "B中学", "C小学"],
                 levels=["", "primary", "", "junior;senior", "primary"],
                 primary=[False, True, False, False, True], junior=[False, False, False, True, False],
                 senior=[False, False, False, True, False], source_id=["w1", "n2", "w3", "n4", "n5"])
    out = merge_facilities(rows, 40.0)
    assert list(out["name"]) == ["A小学", "B中学", "C小学"]
    assert list(out.geom_type) == ["Polygon", "Polygon", "Point"]
    assert list(out["levels"]) == ["primary", "junior;senior", "primary"]
    assert list(out["primary"]) == [True, False, True]
    # a node of another name inside the grounds is another school
    other = frame("schools", [GROUNDS, P(100, 100)], name=["A小学", "D幼儿园"])
    assert len(merge_facilities(other, 40.0)) == 2


def test_catalog_states_mode_and_reason_for_every_facility_kind_a_standard_uses():
    catalog = load_catalog()
    layers = catalog["layers"]
    modes = reached_from_map(catalog)
    used: set[tuple[str, str | None]] = set()
    for std in resolve_standards(None):
        for fs in std.facility_sets:
            kinds = fs.filter.get("kind") if fs.layer == "services" else None
            for k in (kinds if isinstance(kinds, list) else [kinds]):
                used.add((fs.layer, k))
            assert fs.reached_from_for(modes) in ("outline", "point"), (std.id, fs.item)
    assert any(layer == "services" for layer, _ in used)
    for layer, kind in used:
        spec = layers[layer]
        if layer == "services":
            assert kind in (spec.get("kinds_reached_from") or {}), kind
        assert reached_from(spec, kind) in ("outline", "point"), (layer, kind)
        why = reached_from_why(spec, kind)
        assert len(why) > 15 and "\n" not in why, (layer, kind)
    # every services kind says it, not only those used today
    assert set(layers["services"]["kinds_reached_from"]) == set(layers["services"]["kinds"])
    assert reached_from(layers["schools"]) == "outline"
    assert reached_from(layers["parks"]) == reached_from(layers["green_space"]) == "outline"
    assert reached_from(layers["toilets"]) == reached_from(layers["bus_stops"]) == "point"
    assert "§三(四)1" in reached_from_why(layers["schools"])


def test_catalog_rejects_a_kind_mode_without_a_reason(tmp_path):
    import yaml

    from geoplan._errors import ConfigError
    from geoplan.layers.rules import default_catalog_path

    data = yaml.safe_load(default_catalog_path().read_text(encoding="utf-8"))
    data["layers"]["services"]["kinds_reached_from"]["clinic"] = {"reached_from": "door"}
    data["layers"]["services"]["kinds_reached_from"]["nosuch"] = {"reached_from": "point",
                                                                  "why": "x"}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalog(str(path))
    text = str(err.value)
    assert "kinds_reached_from.clinic.reached_from" in text and "nosuch" in text


def test_chengdu_schools_drawn_as_grounds_stay_grounds(chengdu_layers):
    """On the sample, every amenity=school way kept is a polygon whose area is its site area."""
    schools = chengdu_layers["schools"]
    ways = schools["source_id"].str.startswith(("w", "r")).to_numpy()
    assert ways.sum() >= 25
    kinds = shapely.get_type_id(schools.geometry.to_numpy())
    assert np.isin(kinds[ways], (3, 6)).all()
    assert (kinds[~ways] == 0).all()  # nodes stay points
    area = shapely.area(schools.geometry.to_numpy()[ways])
    assert np.allclose(schools["site_area_m2"].to_numpy()[ways], area)
    assert (area > 1000).all()
    site = schools.set_index("source_id")["site_area_m2"]
    assert site["w252381410"] == pytest.approx(18540.6, abs=1.0)  # 成都实验小学's grounds
    assert schools.crs == CRS or schools.crs.to_epsg() == 32648
