"""Demand held as arrays: street samples built per district, the grid cut in chunks."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan.coverage import demand as demand_mod
from geoplan.coverage.demand import Demand, LineSamples, residential_grid, street_samples
from tests._synthetic import box, layerset, line


def test_street_samples_are_arrays_and_any_subset_builds_the_same_pieces():
    # an L-shaped 710 m street and a 260 m one, across two districts
    ls = layerset({"A": box(-50, -50, 300, 600), "B": box(300, -50, 700, 600)})
    streets = np.array([line((0, 0), (510, 0), (510, 200)), line((100, 300), (360, 300))])
    dem = street_samples(streets, ls.districts, "street_main", 25)
    assert isinstance(dem.samples, LineSamples) and dem._pieces is None and dem._points is None
    every = dem.pieces
    # on paper: A holds x < 300 of both streets, B the rest (the corner lies mid-sample)
    assert dem.totals(2) == pytest.approx([300 + 200, 210 + 200 + 60])
    assert shapely.length(every) == pytest.approx(dem.amount, rel=1e-9)
    for d in (0, 1):
        mine = np.flatnonzero(dem.district == d)
        assert shapely.equals_exact(dem.pieces_of(mine), every[mine], tolerance=1e-9).all()
    # the corner sample bends with the street, and its point is its midpoint
    corner = np.flatnonzero(shapely.get_num_coordinates(every) == 3)
    assert len(corner) == 1
    mid = shapely.line_interpolate_point(every, 0.5, normalized=True)
    assert shapely.distance(mid, dem.points).max() < 1e-9


def test_demand_needs_geometries_or_samples():
    with pytest.raises(ValueError, match="samples"):
        Demand("street_main", None, None, np.zeros(0), np.zeros(0, dtype=np.int64), None)


def test_grid_cut_in_chunks_is_the_grid_cut_at_once(monkeypatch):
    ell = shapely.difference(box(0, 0, 330, 330), box(130, 130, 330, 330))
    ls = layerset({"A": box(0, 0, 200, 400), "B": box(200, 0, 400, 400)},
                  residential=[ell, box(100, 100, 370, 210)])
    whole = residential_grid(ls["residential"], ls.districts, grid_m=25)
    monkeypatch.setattr(demand_mod, "GRID_CHUNK", 7)  # many chunks, some of one part's cells
    chunked = residential_grid(ls["residential"], ls.districts, grid_m=25)
    assert len(chunked) == len(whole) > 100
    assert shapely.equals_exact(chunked.pieces, whole.pieces, tolerance=0).all()
    assert (chunked.amount == whole.amount).all() and (chunked.district == whole.district).all()
