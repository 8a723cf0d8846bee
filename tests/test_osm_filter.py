"""The OSM pass filters in C++ and keeps only the tags in use, yet loses nothing a layer reads.

A hand-written extract: a street whose first node is missing from the file (the geometry factory
would skip it silently), a standalone toilet node, a way with no key anyone reads, a road with
tags no rule uses, and a street whose nodes have negative ids (an editor's file).
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pytest
import shapely

from geoplan import _progress
from geoplan.layers.from_osm import osm_layers, tag_keys
from geoplan.layers.osm import read_osm
from geoplan.layers.rules import (
    NAME_KEYS,
    any_rule_matches,
    catalog_keys,
    load_catalog,
    required_keys,
    rule_matches,
)
from tests._osm_xml import write_osm

BOUNDS = (104.0, 30.0, 104.02, 30.02)
KEYS = {"highway", "amenity", "landuse"}


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    nodes = [(1, 104.001, 30.001, {}), (2, 104.005, 30.001, {}), (3, 104.009, 30.001, {}),
             (4, 104.012, 30.012, {"amenity": "toilets", "name": "公厕", "wheelchair": "yes"}),
             (5, 104.001, 30.005, {}), (6, 104.005, 30.005, {}),
             (-7, 104.001, 30.009, {}), (-8, 104.005, 30.009, {}),
             (9, 104.015, 30.015, {"created_by": "someone"})]
    ways = [
        (10, [999, 1, 2, 3], {"highway": "residential"}),       # first node not in the file
        (11, [5, 6], {"highway": "primary", "name:en": "X Road", "surface": "asphalt",
                      "oneway": "yes"}),
        (12, [1, 5], {"power": "line"}),                        # no key anyone reads
        (13, [-7, -8], {"highway": "service"}),                 # negative ids
    ]
    return write_osm(tmp_path_factory.mktemp("filter") / "f.osm", nodes, ways)


@pytest.mark.parametrize("bounds", [None, BOUNDS])
def test_missing_first_node_standalone_poi_and_negative_ids(extract: Path, bounds) -> None:
    osm = read_osm(extract, KEYS, bounds)
    lines = osm.lines.set_index("osm_id")
    # the way whose first node is missing keeps its present run and is marked truncated
    assert bool(lines.loc["w10", "truncated"])
    assert shapely.get_coordinates(lines.loc["w10", "geometry"]).tolist() == [
        [104.001, 30.001], [104.005, 30.001], [104.009, 30.001]]
    assert [104.001, 30.001] in osm.cut_points.tolist()
    # the editor's street is located whether or not every node was looked at in the pass
    assert shapely.get_coordinates(lines.loc["w13", "geometry"]).tolist() == [
        [104.001, 30.009], [104.005, 30.009]]
    assert "w12" not in lines.index  # dropped by the key filter
    # a node-only POI arrives, with every tag when none are dropped
    assert osm.nodes["osm_id"].tolist() == ["n4"]
    assert osm.nodes["tags"].iat[0] == {"amenity": "toilets", "name": "公厕", "wheelchair": "yes"}
    assert shapely.get_coordinates(osm.nodes.geometry.iat[0]).tolist() == [[104.012, 30.012]]


def test_bounds_given_or_not_give_the_same_features(extract: Path) -> None:
    derived, given = read_osm(extract, KEYS), read_osm(extract, KEYS, BOUNDS)
    for table in ("nodes", "lines", "areas"):
        a, b = getattr(derived, table), getattr(given, table)
        assert a["osm_id"].tolist() == b["osm_id"].tolist()
        assert a.geometry.geom_equals_exact(b.geometry, 0).all()
    assert np.array_equal(derived.cut_points, given.cut_points)
    assert derived.read_issues == given.read_issues


def test_tags_no_one_reads_are_dropped(extract: Path) -> None:
    catalog = load_catalog()
    keep = tag_keys(catalog)
    assert {"surface", "name:en", "wheelchair"}.isdisjoint(keep)
    osm = read_osm(extract, catalog_keys(catalog), BOUNDS, keep_tags=keep)
    road = osm.lines.set_index("osm_id").loc["w11", "tags"]
    assert road == {"highway": "primary", "oneway": "yes"}
    assert osm.nodes["tags"].iat[0] == {"amenity": "toilets", "name": "公厕"}
    # and the layers built from the trimmed tags are those built from every tag
    full = osm_layers(read_osm(extract, catalog_keys(catalog), BOUNDS), catalog)
    trimmed = osm_layers(osm, catalog)
    for kind, layer in full.items():
        other = trimmed[kind]
        assert layer.drop(columns="geometry").equals(other.drop(columns="geometry")), kind
        assert layer.geometry.geom_equals_exact(other.geometry, 0).all(), kind


def test_progress_counts_without_changing_the_read(extract: Path) -> None:
    before = _progress.progress_on()
    _progress.set_progress(True)
    try:
        osm = read_osm(extract, KEYS, BOUNDS)
    finally:
        _progress.set_progress(before)
    assert osm.lines["osm_id"].tolist() == read_osm(extract, KEYS, BOUNDS).lines["osm_id"].tolist()


def test_required_keys_never_skip_a_match() -> None:
    """A feature with none of a rule list's required keys matches none of its rules; the compiled
    rules give what the rules read one by one give."""
    catalog = load_catalog()
    lists = []
    for spec in catalog["layers"].values():
        lists += [spec.get("include"), spec.get("exclude"), spec.get("private"),
                  *(spec.get("kinds") or {}).values()]
    values: dict[str, set[str]] = {}
    for rules in filter(None, lists):
        for rule in rules:
            for key, allowed in rule.items():
                base = key.removesuffix("~").removesuffix("!")
                pool = values.setdefault(base, {"yes", ""})
                pool.update(v for v in (allowed if isinstance(allowed, list) else []) if v)
    for key in NAME_KEYS:
        values.setdefault(key, set()).update(values.get("name", set()))
    rng = np.random.default_rng(11)
    keys = sorted(values)
    tag_sets = [{}]
    for _ in range(1000):
        chosen = rng.choice(keys, size=int(rng.integers(1, 4)), replace=False)
        tag_sets.append({k: str(rng.choice(sorted(values[k]))) for k in chosen})
    for k, tags in enumerate(tag_sets[1::3]):  # multi-values, names inside longer names
        key = next(iter(tags))
        tags[key] = f"x{tags[key]}y" if k % 2 else f"{tags[key]}; other"
    checked = 0
    for rules, tags in itertools.product(filter(None, lists), tag_sets):
        needed = required_keys(rules)
        matched = any_rule_matches(rules, tags)
        # the compiled rules answer as the rules read one by one (rule_matches)
        assert matched == any(rule_matches(r, tags) for r in rules), (rules, tags)
        if matched:
            checked += 1
            assert needed is None or not needed.isdisjoint(tags), (rules, tags)
    assert checked > 100
    assert required_keys([{"amenity": [None, "toilets"]}]) is None
    assert required_keys([{"name~": ["公园"], "landuse": [None]}]) == frozenset(NAME_KEYS)
    assert required_keys([]) == frozenset()


def test_negative_ids_with_bounds_read_the_nodes_once_more(extract: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="geoplan.layers.osm"):
        read_osm(extract, KEYS, BOUNDS)
    assert "negative ids" in caplog.text


@pytest.mark.parametrize("bounds", [None, BOUNDS])
def test_tables_not_read_are_not_built(extract: Path, bounds) -> None:
    from geoplan.layers.osm import CONTEXT_KEYS, CONTEXT_TABLES, read_osm_sets

    full, part = read_osm_sets(extract, [CONTEXT_KEYS, CONTEXT_KEYS], bounds,
                               tables=[None, CONTEXT_TABLES])
    assert len(full.lines) > 0 and len(part.lines) == 0
    assert list(part.lines.columns) == list(full.lines.columns)
    for table in ("nodes", "areas"):
        a, b = getattr(full, table), getattr(part, table)
        assert a["osm_id"].tolist() == b["osm_id"].tolist()
        assert a.geometry.geom_equals_exact(b.geometry, 0).all()
    assert full.bounds.equals(part.bounds) and np.array_equal(full.cut_points, part.cut_points)
