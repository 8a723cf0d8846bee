"""A city measured in chunks of districts gives the figures of the city measured whole."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan.coverage import run_coverage
from geoplan.coverage.chunked import run_coverage_chunked
from geoplan.coverage.chunks import plan_chunks
from geoplan.results._spill import GeometryStore
from geoplan.standards import resolve_standards
from tests._synthetic import P, box, frame, grid_lines, layerset, line


def _same(whole: pd.DataFrame, chunked: pd.DataFrame, name: str, rel: float = 1e-9) -> None:
    """Every column equal (numbers to ``rel``, geometries by symmetric difference)."""
    whole, chunked = pd.DataFrame(whole).reset_index(drop=True), pd.DataFrame(chunked).reset_index(drop=True)
    assert list(whole.columns) == list(chunked.columns), name
    assert len(whole) == len(chunked), name
    for col in whole.columns:
        a, b = whole[col], chunked[col]
        if col == "geometry":
            ga, gb = np.asarray(a.to_numpy()), np.asarray(b.to_numpy())
            diff = shapely.area(shapely.symmetric_difference(ga, gb))
            assert (diff <= rel * np.maximum(shapely.area(ga), 1.0)).all(), (name, col)
            assert np.allclose(shapely.length(ga), shapely.length(gb), rtol=rel), (name, col)
        elif pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            assert np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=rel, atol=0,
                               equal_nan=True), (name, col)
        else:
            assert (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all(), (name, col)


def _compare(whole, chunked, *, of_fewer: bool = False) -> None:
    """The same frames and figures; ``of_fewer``: ``chunked`` measured fewer standards than
    ``whole`` (filtered with :func:`_of`), so its per-kind figures are those of its kinds."""
    for name in ("table", "items", "facilities", "districts", "gaps", "street_gaps",
                 "item_gaps", "walk_bands", "reach_areas"):
        _same(getattr(whole, name), getattr(chunked, name), name)
    assert (whole.people is None) == (chunked.people is None)
    if whole.people is not None:
        for name in ("residents", "children", "seats", "schools"):
            _same(getattr(whole.people, name), getattr(chunked.people, name), f"people.{name}")
    for key in ("population_source", "population_note", "snapping", "demand_points",
                "facilities_off_network"):
        mine, all_ = chunked.meta[key], whole.meta[key]
        if of_fewer and isinstance(mine, dict) and isinstance(all_, dict):
            all_ = {k: all_[k] for k in mine if k in all_}
        assert all_ == mine, key


def _of(result, standards: set[str]):
    """``result`` with only the rows of ``standards`` in its frames, as if measured alone."""
    import copy
    import dataclasses

    def rows(frame):
        if frame is None or "standard" not in frame.columns:
            return frame
        return frame.loc[frame["standard"].isin(standards)].reset_index(drop=True)

    out = copy.copy(result).in_memory()
    for name in ("table", "items", "facilities", "gaps", "street_gaps", "item_gaps",
                 "walk_bands", "reach_areas"):
        setattr(out, name, rows(getattr(out, name)))
    measured = set(result.table["standard"])  # the districts' columns per standard
    out.districts = out.districts[[c for c in out.districts.columns if "__" not in c
                                   or c.rsplit("__", 1)[1] not in measured - standards]]
    if out.people is not None:
        out.people = dataclasses.replace(out.people, **{
            n: rows(getattr(out.people, n)) for n in ("residents", "children", "seats", "schools")})
    return out


def test_chunks_are_cut_where_the_walkways_halve():
    # four districts in a row, 10 walkways each (+1 for the district): 22 a chunk holds
    districts = {n: box(i * 1000, 0, i * 1000 + 1000, 1000) for i, n in enumerate("ABCD")}
    ways = [line((i * 1000 + 100 + 50 * k, 100), (i * 1000 + 100 + 50 * k, 900))
            for i in range(4) for k in range(10)]
    ls = layerset(districts, walkways=ways)
    chunks = plan_chunks(ls.districts, ls["walkways"], budget=22)
    assert [c.tolist() for c in chunks] == [[0, 1], [2, 3]]
    # a budget below one district: each alone, never split
    assert [c.tolist() for c in plan_chunks(ls.districts, ls["walkways"], budget=5)] == [
        [0], [1], [2], [3]]
    assert len(plan_chunks(ls.districts, ls["walkways"], budget=100)) == 1


def test_an_item_found_only_in_another_chunk_still_has_data(tmp_path):
    # W and E 10 km apart, one chunk each; a clinic in both, a market only in E
    districts = {"W": box(0, 0, 1000, 1000), "E": box(10_000, 0, 11_000, 1000)}
    services = frame("services", [P(500, 500), P(10_500, 500), P(10_600, 500)],
                     kind=["clinic", "clinic", "market"])
    basket = [{"label": "clinic", "layer": "services", "filter": {"kind": "clinic"}},
              {"label": "market", "layer": "services", "filter": {"kind": "market"}}]
    stds = resolve_standards([{"id": "life_circle_15min", "basket": basket}])
    ls = layerset(districts, residential=list(districts.values()), services=services,
                  walkways=grid_lines(0, 0, 1000, 1000, 100) + grid_lines(10_000, 0, 11_000, 1000, 100))
    whole = run_coverage(ls, stds, store=GeometryStore(tmp_path))
    chunked = run_coverage_chunked(ls, stds, None, GeometryStore(tmp_path), budget=1)  # type: ignore[arg-type]
    assert chunked is not None and chunked.meta["chunks"] == 2
    _compare(whole, chunked)
    t = chunked.table.set_index("district")
    # W has no market within 1000 m: its homes miss an item with data (not a basket of one)
    assert t.loc["W", "share_buffer"] == 0.0 and t.loc["W", "n_facilities"] == 3
    land = box(10_000, 0, 11_000, 1000)
    both = shapely.intersection(shapely.intersection(shapely.buffer(P(10_500, 500), 1000),
                                                     shapely.buffer(P(10_600, 500), 1000)), land)
    assert t.loc["E", "share_buffer"] == pytest.approx(both.area / land.area, rel=1e-3)
    items = chunked.items.set_index(["district", "item"])
    assert not items.loc[("W", "market"), "no_data"]
    assert items.loc[("W", "market"), "n_facilities"] == 1


def test_a_network_joined_beyond_the_margin_is_not_a_fragment(tmp_path):
    # W holds two street grids; the east one (smaller) joins the west one only by a walk
    # 5 km to the north, beyond W's chunk margin: in the whole city both are the main
    # component, so homes on the east grid walk to the bus stop there
    districts = {"W": box(0, 0, 2000, 1000), "E": box(20_000, 0, 20_500, 500)}
    detour = [line((2000, 1000), (2000, 5000)), line((2000, 5000), (0, 5000)),
              line((0, 5000), (0, 1000))]
    ways = (grid_lines(0, 0, 900, 1000, 100) + grid_lines(1200, 0, 2000, 1000, 100) + detour
            + grid_lines(20_000, 0, 20_500, 500, 100))
    ls = layerset(districts, residential=list(districts.values()), walkways=ways,
                  bus_stops=[P(1600, 500), P(20_250, 250)])
    stds = resolve_standards(["bus_stop_500"])
    whole = run_coverage(ls, stds, store=GeometryStore(tmp_path))
    chunked = run_coverage_chunked(ls, stds, None, GeometryStore(tmp_path), budget=1)  # type: ignore[arg-type]
    assert chunked is not None and chunked.meta["chunks"] == 2
    _compare(whole, chunked)
    w = chunked.table.set_index("district").loc["W"]
    # the stop's 500 m circle, less what lies east of x = 2000 (a segment 100 m high)
    r, h = 500.0, 100.0
    segment = r * r * math.acos((r - h) / r) - (r - h) * math.sqrt(2 * r * h - h * h)
    assert w["share_buffer"] == pytest.approx((math.pi * r * r - segment) / 2e6, rel=2e-3)
    assert w["share_network"] > 0.1
    # E's grid joins nothing, but it is E's own network (its largest): its homes walk to its
    # stop, in both runs (it was once a fragment of the city, and E scored 0 % walking)
    assert chunked.facilities["n_access"].tolist() == [1, 1]
    e = chunked.table.set_index("district").loc["E"]
    assert e["share_network"] > 0.5 and whole.table.set_index("district").loc["E"][
        "share_network"] == pytest.approx(e["share_network"])


def test_chengdu_in_four_chunks_equals_the_whole_run(chengdu_layers, chengdu_config,
                                                    chengdu_results, tmp_path):
    from geoplan.coverage.engine import run_standards
    from geoplan.standards import check_config_standards

    # a standard of each kind of frame (street gaps, life-circle items, school seats) and the
    # most costly areas (parks): the whole run's frames of these, row for row
    measured = {"park_500", "toilet_main_300", "life_circle_5min", "primary_school_500",
                "junior_school_1000"}
    stds = [s for s in run_standards(check_config_standards(chengdu_config)) if s.id in measured]
    # the whole run's coverage as `geoplan run` measures it (in memory; test_spill shows the
    # same frames held on disk)
    whole = _of(chengdu_results[0], measured)
    chunked = run_coverage_chunked(chengdu_layers, stds, chengdu_config.demand,
                                   GeometryStore(tmp_path), budget=100)
    assert chunked is not None and chunked.meta["chunks"] == len(chengdu_layers.districts) == 4
    assert chunked.meta["population_source"] == "census" and chunked.people is not None
    _compare(whole, chunked, of_fewer=True)
    chunked.validate()
    assert chunked.meta["graph"] == whole.meta["graph"]


def test_after_the_tables_a_chunked_city_lets_go_of_the_layers_nothing_draws(monkeypatch):
    import geoplan.coverage.chunked as chunked
    from geoplan.pipeline import _drop_undrawn_layers
    from geoplan.report._map_index import DRAWN_LAYERS
    from tests._synthetic import box, grid_lines, layerset

    def city():
        return layerset({"A": box(0, 0, 1000, 1000)}, walkways=grid_lines(0, 0, 1000, 1000, 100),
                        roads=grid_lines(0, 0, 1000, 1000, 200))

    small = city()
    everything = set(small.layers)
    _drop_undrawn_layers(small)  # 22 walkways: measured whole, every layer kept
    assert set(small.layers) == everything
    monkeypatch.setattr(chunked, "CHUNK_MIN_WALKWAYS", 10)
    large = city()
    _drop_undrawn_layers(large)
    assert set(large.layers) == everything & set(DRAWN_LAYERS)
    assert {"districts", "roads"} <= set(large.layers)
    assert "walkways" in everything and "buildings" in everything


def test_a_chunk_killed_for_memory_says_which_and_what_to_do(tmp_path, monkeypatch):
    import os
    import signal

    import geoplan.coverage.chunked as chunked
    from geoplan._errors import GeoplanError
    from geoplan._processes import can_fork

    if not can_fork():
        pytest.skip("needs fork (POSIX)")
    districts = {"W": box(0, 0, 1000, 1000), "E": box(10_000, 0, 11_000, 1000)}
    ls = layerset(districts, residential=list(districts.values()),
                  parks=[box(400, 400, 600, 600), box(10_400, 400, 10_600, 600)],
                  walkways=grid_lines(0, 0, 1000, 1000, 100) + grid_lines(10_000, 0, 11_000, 1000, 100))
    measure = chunked.measure_chunk

    def killed_on_the_second(layers, *args, **kwargs):
        if "E" in set(layers.districts["district"]):
            os.kill(os.getpid(), signal.SIGKILL)  # as the system's out-of-memory killer would
        return measure(layers, *args, **kwargs)

    monkeypatch.setattr(chunked, "measure_chunk", killed_on_the_second)
    with pytest.raises(GeoplanError, match=r"chunk 2 of 2.*GEOPLAN_THREADS=1"):
        chunked.run_coverage_chunked(ls, ["park_500"], None, GeometryStore(tmp_path), budget=1)  # type: ignore[arg-type]
