"""Dead-end roads (断头路) on hand-built networks whose answers are worked out on paper.

Every network lives in EPSG:32648 with coordinates offset to Chengdu's easting/northing. The
base is a 1000 m square ring road (x, y from 500 to 1500) inside a 2000 m data extent, so the
ring itself has no dead end and nothing is near the data's edge unless a test puts it there.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.config import DeadEndSettings
from geoplan.deadends import (
    DeadEndParams,
    DeadEndResult,
    build_road_network,
    detect_dead_ends,
    format_table,
    run_deadends,
    write_deadends,
)
from geoplan.layers.load import LayerSet
from geoplan.layers.schema import LAYER_ORDER, conform, empty_layer

X0, Y0 = 400_000.0, 3_390_000.0
CRS = "EPSG:32648"
SETTINGS = DeadEndSettings()


def xy(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


def line(*pts: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([xy(*p) for p in pts])


def road(geom: shapely.LineString, highway: str = "residential", **tags: object) -> dict[str, object]:
    row: dict[str, object] = {"geometry": geom, "highway": highway, "is_public": True,
                              "road_class": "service" if highway == "service" else "general"}
    row.update(tags)
    return row


def side(x0: float, y0: float, x1: float, y1: float) -> shapely.LineString:
    """A straight road with a vertex every 100 m, so side roads can join at any of them."""
    n = round(max(abs(x1 - x0), abs(y1 - y0)) / 100)
    return line(*[(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)])


RING = [
    road(side(500, 500, 1500, 500), name="南路"),
    road(side(1500, 500, 1500, 1500), name="东路"),
    road(side(1500, 1500, 500, 1500), name="北路"),
    road(side(500, 1500, 500, 500), name="西路"),
]


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(*xy(x0, y0), *xy(x1, y1))


def layerset(
    rows: list[dict[str, object]],
    *,
    districts: list[tuple[str, shapely.Polygon]] | None = None,
    extent: shapely.Polygon | None = None,
    **layers: gpd.GeoDataFrame,
) -> LayerSet:
    """A LayerSet with the given roads (and optional other layers), like load_layers makes."""
    extent = extent if extent is not None else box(0, 0, 2000, 2000)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS) if rows else empty_layer("roads", CRS)
    if rows:
        frame["source"] = "test"
        frame["source_id"] = [f"w{i + 1}" for i in range(len(frame))]
        frame["length_m"] = frame.geometry.length
    out = {k: empty_layer(k, CRS) for k in LAYER_ORDER}
    out["roads"] = conform(frame, "roads")
    districts = districts or [("甲区", extent)]
    out["districts"] = conform(gpd.GeoDataFrame(
        {"district": [d for d, _ in districts], "area_m2": [g.area for _, g in districts]},
        geometry=[g for _, g in districts], crs=CRS), "districts")
    for kind, gdf in layers.items():
        out[kind] = conform(gdf, kind)
    study = shapely.union_all([g for _, g in districts])
    return LayerSet(out, pyproj.CRS(CRS), study, shapely.intersection(study.buffer(1000), extent),
                    extent, pd.DataFrame())


def polygons(*geoms: shapely.Polygon, **cols: object) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"source_id": [f"a{i}" for i in range(len(geoms))], **cols},
                             geometry=list(geoms), crs=CRS)
    frame["area_m2"] = frame.geometry.area
    return frame


def run(rows: list[dict[str, object]], **kw: object) -> DeadEndResult:
    extra = {k: kw.pop(k) for k in list(kw) if k in ("noexit_nodes", "baseline", "params", "extras")}
    return run_deadends(layerset(rows, **kw), SETTINGS, **extra)


# --- detection -----------------------------------------------------------------------------------

def test_ring_has_no_dead_end() -> None:
    result = run(RING)
    assert len(result.dead_ends) == 0
    assert len(result.all_dead_ends) == 0
    assert result.excluded == {"service": 0, "edge_artifact": 0, "outside_districts": 0}
    row = result.connectivity.iloc[0]
    assert row["road_km"] == pytest.approx(4.0)
    assert row["intersections"] == 0  # four corners of degree 2
    assert row["dead_end_nodes"] == 0


def test_t_junction_stub_is_one_public_dead_end_of_the_right_length() -> None:
    result = run([*RING, road(line((1000, 500), (1000, 620), (1000, 700)), name="断头巷")])
    dead = result.dead_ends
    assert len(dead) == 1
    row = dead.iloc[0]
    assert row["category"] == "public"
    assert row["name"] == "断头巷" and row["highway"] == "residential" and row["road_class"] == "general"
    assert row["length_m"] == pytest.approx(200.0)
    assert row.geometry.length == pytest.approx(200.0)
    # the segment runs from the dead end back to the junction on the ring
    assert shapely.get_coordinates(row.geometry)[0] == pytest.approx(xy(1000, 700))
    assert shapely.get_coordinates(row.geometry)[-1] == pytest.approx(xy(1000, 500))
    assert not row["isolated"]
    conn = result.connectivity.iloc[0]
    assert conn["intersections"] == 1 and conn["dead_end_nodes"] == 1
    # links = (3 + 1) / 2 = 2 (the ring as a loop, the stub) over 2 nodes
    assert conn["link_node_ratio"] == pytest.approx(1.0)
    assert conn["dead_end_share"] == pytest.approx(0.5)
    assert conn["n_public"] == 1 and conn["public_general"] == 1


def test_walk_back_passes_degree_two_nodes_and_stops_at_the_first_junction() -> None:
    # the stub is drawn as three ways; a side branch makes the middle node a junction
    rows = [*RING,
            road(line((1000, 500), (1000, 600))),
            road(line((1000, 600), (1000, 700))),   # degree-2 node at y=600 between two ways
            road(line((1000, 700), (1000, 900))),
            road(line((1000, 700), (1100, 700)))]  # junction at y=700: two dead ends branch here
    dead = run(rows).dead_ends.sort_values("length_m")
    assert list(dead["length_m"].round(6)) == [100.0, 200.0]
    assert set(dead["category"]) == {"public"}


def test_road_cut_by_the_extract_edge_is_not_a_dead_end() -> None:
    rows = [*RING,
            road(line((1500, 1000), (2000, 1000))),       # runs to the data's edge
            road(line((1000, 1500), (1000, 1985)))]       # ends 15 m inside it (tolerance 30 m)
    result = run(rows)
    assert len(result.dead_ends) == 0
    assert result.excluded["edge_artifact"] == 2
    assert set(result.all_dead_ends["category"]) == {"edge_artifact"}
    assert result.connectivity.iloc[0]["dead_end_nodes"] == 0


def test_end_just_beyond_the_tolerance_is_a_dead_end() -> None:
    result = run([*RING, road(line((1000, 1500), (1000, 1960)))])  # 40 m from the edge
    assert list(result.dead_ends["category"]) == ["public"]


def test_noexit_cul_de_sac_is_kept_and_marked() -> None:
    rows = [*RING, road(line((1000, 1500), (1000, 1300))), road(line((500, 1000), (700, 1000)), noexit=True)]
    noexit = gpd.GeoSeries([shapely.Point(xy(1000, 1300))], crs=CRS)
    dead = run(rows, noexit_nodes=noexit).dead_ends
    assert set(dead["category"]) == {"noexit"}  # one by its node, one by its way tag
    assert len(dead) == 2
    reasons = set(dead["reason"])
    assert reasons == {"noexit=yes on the end node", "noexit=yes on the way"}


def test_private_driveway_and_parking_aisle_are_not_public_dead_ends() -> None:
    rows = [*RING,
            road(line((1000, 500), (1000, 600)), "service", service="driveway", is_public=False),
            road(line((1200, 500), (1200, 600)), "service", service="parking_aisle", is_public=False),
            road(line((700, 500), (700, 600)), access="private", is_public=False)]
    result = run(rows)
    assert len(result.all_dead_ends) == 0
    assert result.connectivity.iloc[0]["intersections"] == 0  # they do not make junctions


def test_public_service_stub_is_excluded_and_counted() -> None:
    result = run([*RING, road(line((1000, 500), (1000, 600)), "service")])
    assert len(result.dead_ends) == 0
    assert result.excluded["service"] == 1


def test_dead_end_inside_a_gated_compound_is_kept_apart() -> None:
    compound = polygons(box(900, 600, 1100, 800), landuse="residential")
    rows = [*RING, road(line((1000, 500), (1000, 750))), road(line((700, 500), (700, 560)))]
    result = run(rows, residential=compound)
    dead = result.dead_ends.set_index("length_m")
    assert dead.loc[250.0, "category"] == "private_compound"     # 150 of 250 m inside
    assert "residential compound" in dead.loc[250.0, "reason"]
    assert dead.loc[60.0, "category"] == "public"


def test_dead_end_at_a_gate_is_private_compound() -> None:
    gates = gpd.GeoDataFrame({"kind": ["gate"]}, geometry=[shapely.Point(xy(1000, 710))], crs=CRS)
    result = run([*RING, road(line((1000, 500), (1000, 700)))], entrances=gates)
    assert list(result.dead_ends["category"]) == ["private_compound"]
    assert result.dead_ends.iloc[0]["reason"] == "gate 10 m from the end"


def test_large_residential_polygon_is_not_a_compound() -> None:
    big = polygons(box(600, 600, 1400, 1400), landuse="residential")  # 64 ha
    result = run([*RING, road(line((1000, 500), (1000, 750)))], residential=big)
    assert list(result.dead_ends["category"]) == ["public"]


def test_isolated_piece_has_two_ends_ranked_once() -> None:
    rows = [*RING, road(line((700, 700), (700, 900)))]
    result = run(rows)
    dead = result.dead_ends
    assert len(dead) == 2 and dead["isolated"].all()
    assert dead["length_m"].tolist() == pytest.approx([200.0, 200.0])
    # targets: the ring 200 m away is beyond 150 m, so neither end has a candidate
    assert dead["rank"].isna().all()


def test_empty_network_and_district_without_roads() -> None:
    result = run([], districts=[("空区", box(0, 0, 2000, 2000))])
    assert len(result.dead_ends) == 0
    row = result.connectivity.iloc[0]
    assert row["road_km"] == 0 and row["intersections"] == 0
    assert math.isnan(row["dead_end_share"]) and math.isnan(row["link_node_ratio"])
    format_table(result)  # prints without error


FAR_EDGE = box(-3000, -3000, 5000, 5000)
"""An extent whose edge lies farther from the ring's dead ends than any detour there."""


def test_the_terminal_table_names_road_classes_and_barriers_in_chinese() -> None:
    result = run(PARALLEL, extent=FAR_EDGE)
    ranked = result.dead_ends.loc[result.dead_ends["rank"].notna()]
    assert len(ranked) and not ranked["crosses_water"].any() and not ranked["crosses_railway"].any()
    zh = format_table(result, lang="zh")
    top = zh.split("最值得打通")[1]
    # the class in Chinese, not the OSM tag (residential); no barrier said "无", not left blank
    assert "居住区道路" in top and "residential" not in top
    rows = [line.split() for line in top.splitlines()[2:] if line.strip()]
    assert rows and all(r[-1] == "无" for r in rows)
    assert "residential" in format_table(result, lang="en").split("Top")[1]


# --- opening candidates ----------------------------------------------------------------------------

PARALLEL = [*RING,
            road(line((1000, 1500), (1000, 580)), name="长巷"),  # ends 80 m above the south road
            road(line((1500, 800), (1100, 800)), name="东巷")]   # ends 100 m from 长巷


def test_dead_end_80m_from_a_parallel_road_is_the_top_candidate() -> None:
    result = run(PARALLEL)
    dead = result.dead_ends.set_index("name")
    top = result.dead_ends.iloc[0]
    assert top["rank"] == 1 and top["name"] == "长巷"
    assert top["gap_m"] == pytest.approx(80.0)
    # back up 920 m, 500 m along the north road, 1000 m down the east road, 500 m back west
    assert top["detour_m"] == pytest.approx(920 + 500 + 1000 + 500)
    assert top["detour_ratio"] == pytest.approx(2920 / 80)
    assert top["saved_m"] == pytest.approx(2840.0)
    assert top["target_name"] == "南路"
    # the second: 东巷 ends 100 m east of 长巷; around: 400 + 700 + 500 + 700
    assert dead.loc["东巷", "rank"] == 2
    assert dead.loc["东巷", "gap_m"] == pytest.approx(100.0)
    assert dead.loc["东巷", "detour_m"] == pytest.approx(2300.0)
    assert dead.loc["东巷", "target_name"] == "长巷"
    # no residential land: both weighted 0.25
    assert top["score"] == pytest.approx(2840 * 0.25)
    links = result.candidates
    assert list(links["rank"]) == [1, 2]
    assert shapely.get_coordinates(links.geometry.iloc[0]) == pytest.approx(
        np.array([xy(1000, 580), xy(1000, 500)]))
    assert not top["crosses_water"] and not top["crosses_railway"]


def test_stub_next_to_its_own_junction_road_has_no_candidate() -> None:
    # 60 m stub: the south road is 60 m away but reached in 60 m (ratio 1)
    result = run([*RING, road(line((1000, 500), (1000, 560)))])
    row = result.dead_ends.iloc[0]
    assert math.isnan(row["gap_m"]) and pd.isna(row["rank"])


def test_candidate_radius_is_respected() -> None:
    narrow = SETTINGS.model_copy(update={"candidate_radius_m": 70.0})
    result = run_deadends(layerset(PARALLEL), narrow)
    assert result.dead_ends["rank"].isna().all()


def test_residential_land_weights_the_score_and_water_crossing_is_flagged() -> None:
    # 34 ha: a neighbourhood outline, not one gated compound (30 ha limit)
    housing = polygons(box(1050, 600, 1450, 1450), landuse="residential")
    water = polygons(box(900, 520, 1100, 540), kind=["water"])
    result = run(PARALLEL, residential=housing, water=water)
    dead = result.dead_ends.set_index("name")
    assert bool(dead.loc["长巷", "crosses_water"]) is True
    assert bool(dead.loc["东巷", "crosses_water"]) is False
    share = dead.loc["东巷", "residential_share"]
    assert 0 < share < 1
    assert dead.loc["东巷", "score"] == pytest.approx(2200 * (0.25 + 0.75 * share))
    weight = 0.25 + 0.75 * dead.loc["长巷", "residential_share"]
    assert dead.loc["长巷", "score"] == pytest.approx(2840 * weight * 0.5)  # halved: crosses water
    assert dead.loc["东巷", "rank"] == 1  # the housing and the river swap the order


def test_railway_crossing_is_flagged() -> None:
    rail = gpd.GeoDataFrame({"kind": ["rail"]}, geometry=[line((600, 540), (1400, 540))], crs=CRS)
    dead = run(PARALLEL, railways=rail).dead_ends.set_index("name")
    assert bool(dead.loc["长巷", "crosses_railway"]) and not bool(dead.loc["东巷", "crosses_railway"])


def test_facing_dead_ends_are_ranked_once() -> None:
    rows = [*RING, road(line((500, 1000), (940, 1000)), name="西巷"), road(line((1500, 1000), (1000, 1000)),
                                                                        name="东巷")]
    result = run(rows)
    dead = result.dead_ends.set_index("name")
    assert dead.loc["西巷", "pairs_with"] == dead.loc["东巷", "id"]
    assert dead.loc["西巷", "gap_m"] == pytest.approx(60.0)
    assert dead["rank"].notna().sum() == 1
    # one opening: the link of the ranked end (the other end's is the same link)
    assert result.candidates["rank"].notna().all() and len(result.candidates) == 1
    # and the unranked end says where it is ranked, on the map and in the reports
    from geoplan.report._deadend_words import rank_text

    ranks = dict(zip(result.dead_ends["id"], result.dead_ends["rank"], strict=True))
    unranked = dead.loc["西巷"] if pd.isna(dead.loc["西巷", "rank"]) else dead.loc["东巷"]
    other = dead.loc["东巷"] if unranked.name == "西巷" else dead.loc["西巷"]
    assert rank_text(unranked.to_dict(), "zh", ranks) == (
        f"未排名：与 {other['id']} 由同一条连线打通，已在 {other['id']} 排名（第 1 名）")
    # a road inside a gated compound is never ranked: that is why, not a lack of roads nearby
    assert rank_text({"rank": None, "category": "private_compound"}, "en", {}) == (
        "not ranked: inside a gated compound (not for opening)")
    assert rank_text({"rank": None, "category": "public"}, "en", {}) == (
        "not ranked: no road nearby worth linking")


@pytest.mark.parametrize("short_m", [0.5, 4.5, 10.9])
def test_almost_junction_is_a_data_check_never_ranked(short_m: float) -> None:
    # a street drawn up to the south road but not joined to it (4.5 m and 10.9 m seen on real data)
    result = run([*RING, road(line((1000, 1500), (1000, 500 + short_m)))])
    row = result.dead_ends.iloc[0]
    assert row["category"] == "data_check"
    assert f"{short_m:.1f} m from another road" in row["reason"] and pd.isna(row["rank"])
    assert result.dead_ends["rank"].isna().all()


@pytest.mark.parametrize("short_m", [0.0, 0.03])
def test_an_end_on_a_road_without_a_shared_node_is_a_data_check(short_m: float) -> None:
    # drawn onto the south road between two of its vertices (or 3 cm short of it): nodes join
    # only where they are the same point, so no route passes there; a mapping error to fix
    result = run([*RING, road(line((1050, 1500), (1050, 500 + short_m)))])
    row = result.dead_ends.iloc[0]
    assert row["category"] == "data_check" and pd.isna(row["rank"])
    assert "0.0 m from another road" in row["reason"]


def test_end_twenty_metres_short_is_still_a_dead_end() -> None:
    result = run([*RING, road(line((1000, 1500), (1000, 520)))])
    assert list(result.dead_ends["category"]) == ["public"]


def test_unreachable_target_counts_a_moderate_detour() -> None:
    island = road(line((1000, 580), (1000, 420)), name="孤路")  # crosses the south road, no node
    rows = [*RING, island]
    params = DeadEndParams(unreachable_detour_m=1000.0)
    dead = run(rows, params=params).dead_ends
    assert dead["island"].all() and dead["isolated"].all() and len(dead) == 2
    assert dead["detour_m"].isna().all() and not dead["reachable"].any()
    assert dead["gap_m"].tolist() == pytest.approx([80.0, 80.0])
    assert dead["saved_m"].tolist() == pytest.approx([920.0, 920.0])
    assert dead["rank"].notna().sum() == 1  # one piece of road, ranked once
    assert "isolated piece" in dead["data_check"].iloc[0]
    more = run(rows, params=DeadEndParams(unreachable_detour_m=500.0)).dead_ends
    assert more["saved_m"].tolist() == pytest.approx([420.0, 420.0])


def test_the_workbook_says_why_a_dead_end_has_no_rank_or_no_detour(tmp_path) -> None:
    # the island of the test above: no detour (unreachable), one of its two ends not ranked
    import openpyxl

    from geoplan.report.tables import write_workbook

    island = road(line((1000, 580), (1000, 420)), name="孤路")
    result = run([*RING, island], params=DeadEndParams(unreachable_detour_m=1000.0))
    for lang, unreachable, unranked in (("zh", "无法到达（位于路网孤岛）", "未排名："),
                                        ("en", "unreachable (network island)", "not ranked: ")):
        book = write_workbook(None, result, tmp_path / f"{lang}.xlsx", title="t", lang=lang)
        ws = openpyxl.load_workbook(book)["断头路" if lang == "zh" else "Dead ends"]
        heads = [c.value for c in ws[1]]
        rows = [dict(zip(heads, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]
        rank, detour = heads[1], heads[9]  # DEADEND_COLUMNS: rank second, detour_m tenth
        assert len(rows) == 2 and all(r[detour] == unreachable for r in rows), heads
        assert sorted(str(r[rank])[:len(unranked)] for r in rows) == sorted(["1", unranked])
        # the ranked end's detour could leave the network (its edge is 420 m away): yes, in
        # words; the other end of the island has no link of its own to measure: no
        assert [r[heads[-1]] for r in rows] == (["是", "否"] if lang == "zh" else ["yes", "no"])


# --- progress ---------------------------------------------------------------------------------------

STUBS = [road(line((600, 500), (600, 700)), name="一巷"), road(line((800, 500), (800, 700)), name="二巷"),
         road(line((1200, 500), (1200, 700)), name="三巷"), road(line((1400, 500), (1400, 700)), name="四巷")]
LINK = road(line((500, 700), (600, 700), (800, 700)), name="连通路")   # joins 一巷 and 二巷 to the west road
LINK2 = road(line((1200, 700), (1200, 800), (1500, 800)), name="新路")  # extends 三巷 to the east road


def test_progress_counts_opened_dead_ends_per_district() -> None:
    west, east = box(0, 0, 1000, 2000), box(1000, 0, 2000, 2000)
    districts = [("西区", west), ("东区", east)]
    baseline = layerset([*RING, *STUBS], districts=districts)
    current = layerset([*RING, *STUBS, LINK, LINK2], districts=districts)
    result = run_deadends(current, SETTINGS, baseline=baseline)
    prog = result.progress.set_index("district")
    assert prog.loc["西区", "baseline"] == 2 and prog.loc["西区", "opened"] == 2
    assert prog.loc["东区", "baseline"] == 2 and prog.loc["东区", "opened"] == 1
    assert prog.loc["西区", "share_opened"] == 1.0 and prog.loc["东区", "share_opened"] == 0.5
    assert bool(prog.loc["东区", "meets_50"]) and not bool(prog.loc["东区", "meets_70"])
    assert prog.loc["东区", "opened_needed_70"] == 1
    assert not prog.loc["西区", "meets_min_opened"]  # 2 < 3
    detail = result.progress_detail.set_index("name")
    assert detail.loc["四巷", "status"] == "still_dead_end"
    assert detail.loc["三巷", "status"] == "opened"


def test_progress_extended_road_is_not_opened_and_three_opened_meet_the_rule() -> None:
    baseline = layerset([*RING, *STUBS])
    longer = road(line((1400, 700), (1400, 900)), name="四巷延长")  # still ends
    current = layerset([*RING, *STUBS, LINK, LINK2, longer])
    result = run_deadends(current, SETTINGS, baseline=baseline)
    row = result.progress.iloc[0]
    assert row["baseline"] == 4 and row["opened"] == 3 and row["extended"] == 1
    assert bool(row["meets_min_opened"]) and bool(row["meets_70"])


def test_identical_baseline_opens_nothing() -> None:
    rows = [*RING, *STUBS]
    result = run_deadends(layerset(rows), SETTINGS, baseline=layerset(rows))
    row = result.progress.iloc[0]
    assert row["baseline"] == 4 and row["opened"] == 0 and row["still_dead_end"] == 4
    assert row["share_opened"] == 0.0 and not row["meets_50"]


def test_baseline_of_another_area_is_a_clear_error() -> None:
    far = [road(shapely.affinity.translate(r["geometry"], 100_000, 0)) for r in [*RING, *STUBS]]
    elsewhere = layerset(far, extent=box(100_000, 0, 102_000, 2000))
    with pytest.raises(InputDataError, match="does not overlap"):
        run_deadends(layerset([*RING, *STUBS]), SETTINGS, baseline=elsewhere)


def test_district_without_roads_gets_a_progress_row() -> None:
    districts = [("有路区", box(0, 0, 2000, 2000)), ("无路区", box(2000, 0, 2500, 2000))]
    extent = box(0, 0, 2500, 2000)
    baseline = layerset([*RING, *STUBS], districts=districts, extent=extent)
    current = layerset([*RING, *STUBS, LINK], districts=districts, extent=extent)
    result = run_deadends(current, SETTINGS, baseline=baseline)
    prog = result.progress.set_index("district")
    assert prog.loc["无路区", "baseline"] == 0 and math.isnan(prog.loc["无路区", "share_opened"])
    assert prog.loc["无路区", "meets_50"] is None
    conn = result.connectivity.set_index("district")
    assert conn.loc["无路区", "road_km"] == 0


# --- outputs ------------------------------------------------------------------------------------------

def test_write_outputs(tmp_path) -> None:
    baseline = layerset([*RING, *STUBS])
    result = run_deadends(layerset([*RING, *STUBS, LINK, *PARALLEL[4:]]), SETTINGS, baseline=baseline)
    written = write_deadends(result, tmp_path)
    assert {p.name for p in written.values()} == {"deadends.csv", "deadends.gpkg", "deadends_progress.csv"}
    raw = (tmp_path / "deadends.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(tmp_path / "deadends.csv", encoding="utf-8-sig")
    assert len(table) == len(result.dead_ends)
    assert {"district", "id", "category", "gap_m", "detour_m", "rank", "end_lon_wgs84", "end_lat_wgs84",
            "end_lon_gcj02", "end_lat_bd09"} <= set(table)
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "deadends.gpkg")}
    assert layers == {"dead_ends", "dead_end_points", "candidates", "districts", "progress",
                      "layer_styles"}
    back = gpd.read_file(tmp_path / "deadends.gpkg", layer="dead_ends")
    assert len(back) == len(result.dead_ends) and back.crs.to_epsg() == 32648
    text = format_table(result)
    assert "甲区" in text and "Progress" in text
    zh = format_table(result, lang="zh")
    assert zh.startswith("各区县断头路与路网连通性\n") and "与基线相比的进展" in zh
    assert "未计入：服务性道路" in zh and "区县外" in zh and "Progress" not in zh


def test_detect_directly_gives_stable_ids() -> None:
    net = build_road_network(layerset([*RING, *STUBS])["roads"])
    found = detect_dead_ends(net, SETTINGS)
    assert list(found["id"]) == ["DE0001", "DE0002", "DE0003", "DE0004"]
    assert list(found["end_x"]) == sorted(found["end_x"])


# --- reading noexit nodes, gates and grounds from OSM ---------------------------------------------------

def test_read_osm_extras_finds_noexit_gates_and_grounds(tmp_path) -> None:
    from geoplan.deadends import read_noexit_nodes, read_osm_extras

    osm = tmp_path / "tiny.osm"
    osm.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<bounds minlat="30.65" minlon="104.04" maxlat="30.66" maxlon="104.05"/>\n'
        '<node id="1" lat="30.651" lon="104.041"><tag k="noexit" v="yes"/></node>\n'
        '<node id="2" lat="30.652" lon="104.042"><tag k="barrier" v="gate"/></node>\n'
        '<node id="3" lat="30.653" lon="104.043"><tag k="barrier" v="bollard"/></node>\n'
        '<node id="4" lat="30.654" lon="104.044"/><node id="5" lat="30.654" lon="104.046"/>\n'
        '<node id="6" lat="30.656" lon="104.046"/><node id="7" lat="30.656" lon="104.044"/>\n'
        '<way id="10"><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="4"/>'
        '<tag k="amenity" v="school"/><tag k="name" v="小学"/></way>\n'
        '<way id="11"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>\n'
        '</osm>\n', encoding="utf-8")
    extras = read_osm_extras(osm, CRS)
    assert len(extras.noexit_nodes) == 1 and len(extras.gates) == 1  # the bollard is no gate
    assert list(extras.grounds["kind"]) == ["school"]
    assert extras.grounds.crs.to_epsg() == 32648
    assert 40_000 < extras.grounds.geometry.area.iloc[0] < 60_000  # ~190 m x 220 m
    expected = pyproj.Transformer.from_crs(4326, CRS, always_xy=True).transform(104.041, 30.651)
    assert shapely.get_coordinates(extras.noexit_nodes.iloc[0])[0] == pytest.approx(expected)
    assert len(read_noexit_nodes(osm, CRS)) == 1


def test_end_on_a_pedestrian_square_is_connected() -> None:
    from geoplan.deadends.osm_extras import OsmExtras

    street = road(line((1000, 1500), (1000, 1200)), name="广场路")  # ends on the square's edge
    square = gpd.GeoSeries([box(900, 1000, 1100, 1200)], crs=CRS)
    empty = gpd.GeoSeries([], crs=CRS)
    extras = OsmExtras(noexit_nodes=empty, gates=empty,
                       grounds=gpd.GeoDataFrame({"kind": []}, geometry=empty, crs=CRS),
                       pedestrian_areas=square)
    assert len(run([*RING, street], extras=extras).all_dead_ends) == 0
    without = run([*RING, street]).dead_ends
    assert list(without["category"]) == ["public"]


def test_connectivity_of_a_city_of_many_districts_is_one_line():
    from geoplan.deadends.run import _city_connectivity

    conn = pd.DataFrame({"district": [f"d{i}" for i in range(20)], "area_km2": 2.0,
                         "road_km": 10.0, "intersections": 30, "n_public": 1, "n_noexit": 2,
                         "n_private_compound": 3})
    text = _city_connectivity(conn)
    # 200 km of road and 600 junctions over 40 km²
    assert text.startswith("Dead-end roads (断头路) and connectivity, 20 districts: road "
                           "200.0 km (5.0 km/km²), 15.0 junctions/km²; dead ends: 20 public, "
                           "40 noexit, 60 in compounds")
    assert "d7" not in text


def test_the_terminal_says_why_a_ranked_dead_end_has_no_detour() -> None:
    # the island above is ranked with no detour: "-" in the terminal said nothing
    island = road(line((1000, 580), (1000, 420)), name="孤路")
    result = run([*RING, island], params=DeadEndParams(unreachable_detour_m=1000.0),
                 extent=FAR_EDGE)
    for lang, cell, note in (("zh", "无法到达", "无法到达：位于路网孤岛"),
                             ("en", "unreachable", "unreachable: a network island")):
        top = format_table(result, lang=lang).split("最值得打通" if lang == "zh" else "Top")[1]
        row = next(line for line in top.splitlines() if "孤路" in line)
        assert row.split()[6] == cell  # the detour column; the ratio stays "-"
        assert note in top
    assert "network island" not in format_table(run(PARALLEL), lang="en")


def test_a_detour_that_could_leave_the_data_is_flagged() -> None:
    # 长巷 ends 580 m from the data's edge and its target lies 500 m from it: a walk of 1,080 m
    # or more could leave the data, and its detour round the ring is longer, so roads beyond
    # the edge (which the data lacks) could shorten it; with the edge 3 km away none could
    result = run(PARALLEL)
    dead = result.dead_ends.set_index("name")
    assert dead.loc["长巷", "detour_m"] > 1080 and dead.loc["长巷", "detour_near_data_edge"]
    zh = format_table(result, lang="zh")
    row = next(line for line in zh.splitlines() if "长巷" in line)
    assert f"{dead.loc['长巷', 'detour_m']:.0f}*" in row
    assert "*：靠近所用路网的边缘" in zh and "could make the detour shorter" in format_table(result)
    far = run(PARALLEL, extent=FAR_EDGE)
    assert not far.dead_ends["detour_near_data_edge"].any()
    # the network ends where the layers were cut, 1 km around the districts, not at the data's
    # edge: 长巷 is 1,180 m from that edge and its target 1,100 m, less than its detour
    cut = run(PARALLEL, extent=FAR_EDGE, districts=[("甲区", box(400, 400, 1600, 1600))])
    assert cut.dead_ends.set_index("name").loc["长巷", "detour_near_data_edge"]
    assert "*" not in format_table(far, lang="zh")
    assert far.dead_ends["detour_m"].tolist() == result.dead_ends["detour_m"].tolist()


def test_the_map_says_where_a_detour_could_be_shorter_beyond_the_edge() -> None:
    # the popup's row is there for the flagged dead end only (a "no" on every other is noise)
    from geoplan.report._labels import labels
    from geoplan.report._map_overlays import _deadend_fields, _deadend_frame

    lab = labels("zh")
    dead = run(PARALLEL).dead_ends
    frame = _deadend_frame(dead, lab, "zh").set_index("name")
    assert dead.set_index("name").loc["长巷", "detour_near_data_edge"]
    assert frame.loc["长巷", "detour_near_data_edge_txt"] == "是"
    far = _deadend_frame(run(PARALLEL, extent=FAR_EDGE).dead_ends, lab, "zh")
    assert len(far) and far["detour_near_data_edge_txt"].isna().all()
    assert ("detour_near_data_edge_txt", "靠近数据边缘（绕行或更短）", "") in _deadend_fields(lab, "zh")
