"""Dead ends on the real Chengdu extract: cross-checked against osmnx, and progress against a
baseline made from the same extract by cutting some connections.

The baseline is written into ``tmp_path`` by a plain XML pass over the embedded
``chengdu_core_2018.osm.bz2``: chosen ways lose their last node, so each stops one vertex short of
the junction it joined. Each cut makes exactly one new dead end at a known place, which the
current (uncut) network has connected: those are the only dead ends that can count as opened.
"""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.cli import main
from geoplan.deadends import PUBLIC_HIGHWAYS, build_road_network, deadends_for_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "analyses" / "chengdu_core.yaml"
XML = ROOT / "layers" / "chengdu" / "chengdu_core_2018.osm.bz2"
N_CUTS = 12

_PRIVATE_ACCESS = {"private", "no", "customers", "delivery", "agricultural", "forestry", "permit"}
_PRIVATE_SERVICE = {"driveway", "parking_aisle", "drive-through", "emergency_access"}


def _public(tags: dict[str, str]) -> bool:
    return (tags.get("highway") in PUBLIC_HIGHWAYS and tags.get("access") not in _PRIVATE_ACCESS
            and tags.get("service") not in _PRIVATE_SERVICE and tags.get("area") != "yes")


@pytest.fixture(scope="module")
def config(chengdu_config):
    assert chengdu_config.source_file == CONFIG.resolve()
    return chengdu_config


@pytest.fixture(scope="module")
def current(chengdu_layers, chengdu_results):
    """The default analysis' layers and dead ends (``geoplan run``'s, shared by the suite).

    The run freed the OSM context its layers read; the calls below read it from the file again.
    """
    return chengdu_layers, chengdu_results[1]


# --- osmnx cross-check ------------------------------------------------------------------------------

def test_degree_one_nodes_match_osmnx_street_count(current) -> None:
    ox = pytest.importorskip("osmnx")
    layerset, result = current
    graph = ox.graph_from_xml(XML, simplify=False, retain_all=True, bidirectional=False)
    drop = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True)
            if not _public({key: (val[0] if isinstance(val, list) else val) for key, val in d.items()
                            if key in ("highway", "access", "service", "area")})]
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    graph = ox.simplify_graph(graph)
    streets = ox.stats.count_streets_per_node(graph)
    ones = [n for n, c in streets.items() if c == 1]
    to_utm = pyproj.Transformer.from_crs(4326, layerset.crs, always_xy=True)
    x, y = to_utm.transform([graph.nodes[n]["x"] for n in ones], [graph.nodes[n]["y"] for n in ones])
    ox_pts = shapely.points(x, y)

    found = result.all_dead_ends
    mine = shapely.points(found["end_x"].to_numpy(float), found["end_y"].to_numpy(float))
    i_ox, i_me = shapely.STRtree(mine).query(ox_pts, predicate="dwithin", distance=1.0)
    matched_me = np.zeros(len(mine), dtype=bool)
    matched_me[i_me] = True
    matched_ox = np.zeros(len(ox_pts), dtype=bool)
    matched_ox[i_ox] = True
    real = (found["category"] != "edge_artifact").to_numpy()
    # every dead end that is not an edge artifact is an osmnx street_count == 1 node
    assert matched_me[real].all()
    # osmnx counts whole ways, also where they run past the extract's bounds. Its degree-1 nodes
    # well inside the data are ours, except where geoplan sees a road going on: a different OSM
    # node at exactly the same coordinates on another road (a duplicate node: osmnx joins by
    # node id, geoplan by position), or a way doubling back on itself (a spike A-B-A)
    inside = shapely.distance(ox_pts, layerset.data_extent.boundary) > 60.0
    inside &= shapely.covers(layerset.data_extent, ox_pts)
    net = build_road_network(layerset["roads"])
    unmatched = ox_pts[inside & ~matched_ox]
    i_u, _ = shapely.STRtree(net.graph.edge_geometry).query(unmatched, predicate="dwithin", distance=1e-6)
    assert sorted(set(i_u)) == list(range(len(unmatched)))  # each lies on our public network
    assert len(unmatched) <= 10
    # the rest of our degree-1 nodes are where the data's edge cut a road
    assert set(found.loc[~matched_me, "category"]) <= {"edge_artifact"}
    assert 400 < len(ones) < 600 and 450 < len(found) < 700


def test_categories_on_chengdu(current) -> None:
    layerset, result = current
    found = result.all_dead_ends
    counts = found["category"].value_counts()
    assert counts["edge_artifact"] > 150 and counts["public"] > 150
    assert counts["private_compound"] > 10 and counts["service"] > 30
    ends = shapely.points(found["end_x"].to_numpy(float), found["end_y"].to_numpy(float))
    edge_d = shapely.distance(ends, layerset.data_extent.boundary)
    artifact = (found["category"] == "edge_artifact").to_numpy()
    assert (edge_d[artifact] <= 30.0 + 1e-6).all() and (edge_d[~artifact] > 30.0).all()
    # results: only kept categories, every one in a district, ranks 1..n without gaps
    dead = result.dead_ends
    assert set(dead["category"]) <= {"public", "data_check", "noexit", "private_compound"}
    assert dead.loc[dead["category"] == "data_check", "rank"].isna().all()
    assert (dead["district"] != "").all()
    ranks = dead["rank"].dropna().astype(int).to_numpy()
    assert sorted(ranks) == list(range(1, len(ranks) + 1))
    top = dead.loc[dead["rank"] == 1].iloc[0]
    assert top["category"] == "public" and top["saved_m"] > 1000
    ranked = dead.loc[dead["rank"].notna()]
    assert (ranked["gap_m"] <= 150 + 1e-6).all()
    reach = ranked["reachable"].astype(bool)
    assert (ranked.loc[reach, "detour_ratio"] >= 2).all()
    assert ranked.loc[~reach, "detour_m"].isna().all()
    # connectivity: all four districts, plausible central-city figures
    conn = result.connectivity.set_index("district")
    assert set(conn.index) == {"锦江区", "青羊区", "金牛区", "成华区"}
    assert conn["road_density"].between(5, 30).all()
    assert conn["link_node_ratio"].between(1.2, 2.0).all()
    assert conn["n_public"].sum() == (dead["category"] == "public").sum()


# --- progress against a baseline with connections cut -------------------------------------------------

def _make_baseline(target: Path, n_cuts: int) -> list[tuple[float, float]]:
    """Write a copy of the extract where ``n_cuts`` ways stop one node short of their junction.

    Returns the (lon, lat) of each new end.
    """
    tree = ET.parse(bz2.open(XML))
    root = tree.getroot()
    bounds = root.find("bounds")
    assert bounds is not None
    minlon, minlat = float(bounds.get("minlon")), float(bounds.get("minlat"))
    maxlon, maxlat = float(bounds.get("maxlon")), float(bounds.get("maxlat"))
    coords = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    ways = []
    degree: dict[str, int] = {}
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        refs = [nd.get("ref") for nd in way.iter("nd")]
        if not _public(tags) or len(refs) < 2:
            continue
        ways.append((way, tags, refs))
        for i, ref in enumerate(refs):
            degree[ref] = degree.get(ref, 0) + (1 if i in (0, len(refs) - 1) else 2)

    def inside(ref: str, margin: float = 0.004) -> bool:
        lon, lat = coords.get(ref, (np.nan, np.nan))
        return minlon + margin < lon < maxlon - margin and minlat + margin < lat < maxlat - margin

    chosen = [
        (way, refs) for way, tags, refs in ways
        if tags["highway"] in ("residential", "tertiary", "unclassified") and "access" not in tags
        and len(refs) >= 3 and refs[0] != refs[-1] and degree[refs[-1]] >= 3 and degree[refs[0]] >= 3
        and degree[refs[-2]] == 2 and all(inside(r) for r in refs)
    ]
    step = max(1, len(chosen) // n_cuts)
    new_ends = []
    for way, refs in chosen[::step][:n_cuts]:
        last = [nd for nd in way.iter("nd")][-1]
        way.remove(last)
        new_ends.append(coords[refs[-2]])
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return new_ends


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    path = tmp_path_factory.mktemp("deadends") / "chengdu_cut.osm"
    return path, _make_baseline(path, N_CUTS)


def test_progress_finds_exactly_the_cut_connections_opened(config, current, baseline) -> None:
    layerset, _ = current
    path, new_ends = baseline
    assert len(new_ends) == N_CUTS
    result = deadends_for_config(config, layerset, baseline_path=path)
    detail = result.progress_detail
    to_utm = pyproj.Transformer.from_crs(4326, layerset.crs, always_xy=True)
    x, y = to_utm.transform([p[0] for p in new_ends], [p[1] for p in new_ends])
    cut_pts = shapely.points(x, y)
    base_pts = shapely.points(detail["end_x"].to_numpy(float), detail["end_y"].to_numpy(float))
    i_cut, i_base = shapely.STRtree(base_pts).query(cut_pts, predicate="dwithin", distance=0.5)
    # each cut is a baseline public dead end unless it fell in a compound; most are public
    assert len(set(i_cut)) >= N_CUTS - 3
    opened = detail["status"] == "opened"
    assert set(np.flatnonzero(opened)) == set(i_base)  # exactly the cut ones are opened
    assert (detail["status"].drop(index=i_base) == "still_dead_end").all()
    prog = result.progress
    assert prog["opened"].sum() == len(set(i_base))
    assert prog["baseline"].sum() == len(detail)
    assert (prog["baseline"].sum() - prog["opened"].sum()) == (result.dead_ends["category"] == "public").sum()
    for _, row in prog.iterrows():
        share = row["opened"] / row["baseline"]
        assert row["share_opened"] == pytest.approx(share)
        assert bool(row["meets_50"]) == (share >= 0.5)
        assert bool(row["meets_min_opened"]) == (row["opened"] >= 3)


def test_identical_baseline_file_opens_nothing(config, current) -> None:
    layerset, _ = current
    result = deadends_for_config(config, layerset, baseline_path=XML)
    assert result.progress["opened"].sum() == 0
    assert result.progress["baseline"].sum() == (result.dead_ends["category"] == "public").sum()


def test_baseline_of_another_area_is_rejected(config, current, tmp_path) -> None:
    layerset, _ = current
    far = tmp_path / "elsewhere.osm"
    far.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<bounds minlat="39.90" minlon="116.30" maxlat="39.91" maxlon="116.31"/>\n'
        '<node id="1" lat="39.901" lon="116.301"/><node id="2" lat="39.905" lon="116.305"/>\n'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>\n</osm>\n',
        encoding="utf-8")
    with pytest.raises(InputDataError, match=r"baseline elsewhere\.osm"):
        deadends_for_config(config, layerset, baseline_path=far)


def test_cli_deadends_with_baseline(baseline, tmp_path, capsys) -> None:
    path, _ = baseline
    code = main(["deadends", str(CONFIG), "--out", str(tmp_path), "--baseline", str(path)])
    assert code == 0
    out = capsys.readouterr().out  # in Chinese, as geoplan run prints it
    assert "成华区" in out and "与基线相比的进展" in out and "Progress" not in out
    # each district's row adds up to the ends its dead-end share counts (service, data checks)
    head = next(x for x in out.splitlines() if "断头路占比" in x).split()
    assert head[-5:] == ["公共断头路", "尽端路(noexit)", "小区内", "服务性道路", "需核查"]
    row = next(x for x in out.splitlines() if x.startswith("锦江区")).split()
    assert sum(map(int, row[-5:])) == 16  # 锦江区's dead-end nodes, counted independently
    table = pd.read_csv(tmp_path / "deadends.csv", encoding="utf-8-sig")
    assert len(table) > 150 and (tmp_path / "deadends.gpkg").is_file()
    assert (tmp_path / "deadends_progress.csv").is_file()
    assert main(["deadends", str(CONFIG), "--out", str(tmp_path), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Dead-end roads (断头路) and connectivity per district" in out and "排名" not in out


def test_cli_deadends_missing_baseline_is_a_usage_error(tmp_path, capsys) -> None:
    # as a missing --osm: exit code 2, said before the layers load, nothing written
    out = tmp_path / "out"
    code = main(["deadends", str(CONFIG), "--out", str(out), "--baseline", str(tmp_path / "no.osm")])
    assert code == 2 and not out.exists()
    assert f"--baseline: file not found: {tmp_path / 'no.osm'}" in capsys.readouterr().err


def test_dead_ends_left_out_add_up_to_the_districts_counts(current) -> None:
    # the terminal said 数据边缘 230 while the districts' n_edge_artifact added up to 112: the
    # 118 outside every district were counted under their category as well
    _, result = current
    conn = result.connectivity
    assert result.excluded["service"] == conn["n_service"].sum() > 0
    assert result.excluded["edge_artifact"] == conn["n_edge_artifact"].sum() > 0
    assert result.excluded["outside_districts"] == (result.all_dead_ends["district"] == "").sum() > 0
    assert sum(result.excluded.values()) + len(result.dead_ends) == len(result.all_dead_ends)
