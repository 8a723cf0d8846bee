"""The district pass: each district's pieces built once for the standards of a pass, and the
results the same however the standards are grouped into passes."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan.coverage import engine, run_coverage
from geoplan.coverage.demand import GridPieces
from geoplan.standards import resolve_standards
from tests._synthetic import P, box, frame, grid_lines, layerset

BASKET = [{"label": "clinic", "layer": "services", "filter": {"kind": "clinic"}},
          {"label": "market", "layer": "services", "filter": {"kind": "market"}}]


def _case():
    # two districts of homes; a bus stop, a park and two services, streets every 100 m
    ls = layerset({"A": box(0, 0, 1000, 1000), "B": box(1000, 0, 2000, 1000)},
                  residential=[box(50, 50, 950, 950), box(1050, 50, 1950, 950)],
                  bus_stops=[P(300, 500)], parks=[box(1500, 400, 1600, 500)],
                  services=frame("services", [P(200, 200), P(1800, 800)],
                                 kind=["clinic", "market"]),
                  walkways=grid_lines(0, 0, 2000, 1000, 100))
    stds = resolve_standards(["bus_stop_500", "park_500",
                              {"id": "life_circle_15min", "basket": BASKET}])
    return ls, stds


def test_pass_groups_follow_the_fraction_budget(monkeypatch):
    stds = resolve_standards(None)
    groups = engine._pass_groups(stds)
    assert [s.id for g in groups for s in g] == [s.id for s in stds]  # all, in order
    for g in groups:
        held = sum(1 + (len(s.facility_sets) if s.basket else 0) for s in g)
        assert held <= engine.FRACTIONS_PER_PASS or len(g) == 1
    # the catalog: the 9 standards before the 5-minute life circle share a pass, which has
    # 1 + 11 fractions and a pass of its own
    assert [len(g) for g in groups][:2] == [9, 1]
    assert groups[1][0].id == "life_circle_5min"
    monkeypatch.setattr(engine, "FRACTIONS_PER_PASS", 1)
    assert [len(g) for g in engine._pass_groups(stds)] == [1] * len(stds)


def test_pass_groups_hold_more_standards_while_their_fractions_are_small(monkeypatch):
    stds = resolve_standards(None)
    n = sum(1 + (len(s.facility_sets) if s.basket else 0) for s in stds)
    # a chunk of a city: every fraction array of every standard in 64 MB: one pass
    few = {"residential": 40_000, "streets": 60_000}
    assert 8 * n * 60_000 < engine.FRACTION_BYTES_PER_PASS
    assert [len(g) for g in engine._pass_groups(stds, few)] == [len(stds)]
    # a city measured whole near the chunking size: passes by count, as without sizes
    many = {"residential": 3_000_000, "streets": 3_000_000}
    assert engine._pass_groups(stds, many) == engine._pass_groups(stds)
    # in between, by bytes: a pass stops where 64 MB of arrays would be passed
    monkeypatch.setattr(engine, "FRACTIONS_PER_PASS", 1)
    half = int(engine.FRACTION_BYTES_PER_PASS / (8 * n)) * 2
    groups = engine._pass_groups(stds, {"residential": half, "streets": half})
    assert [s.id for g in groups for s in g] == [s.id for s in stds] and len(groups) >= 2
    for g in groups:
        size = sum(8 * (1 + (len(s.facility_sets) if s.basket else 0)) * half for s in g)
        assert size <= engine.FRACTION_BYTES_PER_PASS or len(g) == 1


def test_grouping_changes_nothing_and_pieces_are_built_once_per_pass(monkeypatch):
    ls, stds = _case()
    built: list[int] = []
    real = GridPieces.pieces

    def counted(self, idx=slice(None)):
        out = real(self, idx)
        built.append(len(out))
        return out

    monkeypatch.setattr(GridPieces, "pieces", counted)
    monkeypatch.setattr(engine, "FRACTIONS_PER_PASS", 100)
    together = run_coverage(ls, stds)
    n_together = len(built)
    built.clear()
    monkeypatch.setattr(engine, "FRACTIONS_PER_PASS", 1)
    monkeypatch.setattr(engine, "FRACTION_BYTES_PER_PASS", 0)
    alone = run_coverage(ls, stds)
    n_alone = len(built)
    # one pass: each district's pieces once (2 districts); one pass per standard: 3 times more
    # (the district boxes, the walk-band layout and the basket's item gaps build the same
    # pieces in both runs)
    assert n_alone - n_together == 2 * (len(stds) - 1)
    for a, b in ((together.table, alone.table), (together.items, alone.items)):
        assert a.equals(b)
    for name in ("gaps", "item_gaps", "walk_bands", "reach_areas"):
        a, b = getattr(together, name), getattr(alone, name)
        assert len(a) == len(b) > 0
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
        assert a.geometry.geom_equals_exact(b.geometry, 0).all()


def test_gaps_of_one_pass_on_paper():
    # district A: homes 50..950 square, one bus stop at (300, 500), radius 500: the buffer
    # view's gap is the homes outside the circle; district B has no bus stop within 500 m of
    # any of its homes (the nearest is 750 m from B's land), so its gap is all its homes
    ls, stds = _case()
    res = run_coverage(ls, [stds[0]])
    gaps = res.gaps[res.gaps["view"] == "buffer"]
    a = gaps.loc[gaps["district"] == "A", "area_m2"].sum()
    b = gaps.loc[gaps["district"] == "B", "area_m2"].sum()
    circle = P(300, 500).buffer(500, quad_segs=64)  # near the buffers' polygon
    want_a = 900 * 900 - shapely.intersection(box(50, 50, 950, 950), circle).area
    assert a == pytest.approx(want_a, rel=2e-3)
    assert b == pytest.approx(900 * 900)
    row = res.table.set_index("district").loc["B"]
    assert row["share_buffer"] == 0.0 and np.isclose(row["uncovered_area_m2"], 900 * 900)


def test_street_pieces_away_from_the_served_area_are_their_own_gap_unchanged():
    """The buffer view differences only the street pieces that meet the served area: the
    others come out as they went in, and the stretches are those of differencing every
    uncovered piece."""
    from geoplan.coverage.by_district import DistrictWork, _street_district
    from geoplan.coverage.gaps import street_gap_lines

    served = shapely.box(0, 0, 100, 100)
    pieces = np.array([
        shapely.LineString([(10, 50), (90, 50)]),      # covered
        shapely.LineString([(90, 50), (110, 50)]),     # half: 10 m uncovered
        shapely.LineString([(110, 50), (160, 50)]),    # away
        shapely.LineString([(160, 50), (160, 120)]),   # away
        shapely.LineString([(100, 100), (130, 130)]),  # touches the corner only
        shapely.LineString([(0, 300), (40, 300)]),     # away, and alone
    ], dtype=object)
    work = DistrictWork("toilet_main_300", "main_streets", [], np.zeros(len(pieces), bool))
    frac, found = _street_district(work, pieces, np.arange(len(pieces)), served, "A")
    assert frac == pytest.approx([1.0, 0.5, 0.0, 0.0, 0.0, 0.0], abs=1e-12)
    buffer = next(f for f in found if f["view"].iloc[0] == "buffer")
    # (100,50)-(160,50)-(160,120) joined: 130 m; the diagonal 42.43 m; the lone piece 40 m
    assert sorted(buffer["length_m"].round(6)) == pytest.approx(
        sorted([130.0, round(30 * 2 ** 0.5, 6), 40.0]))
    plain = shapely.difference(pieces[frac < 1 - 1e-9], served)
    lines, _ = street_gap_lines(plain)
    assert sorted(shapely.to_wkt(lines)) == sorted(shapely.to_wkt(buffer.geometry.to_numpy()))
