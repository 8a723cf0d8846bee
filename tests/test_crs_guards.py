"""Every public measure that works in metres refuses a geographic CRS, saying how to fix it.

Before the guards, ``residential_grid`` on EPSG:4326 returned one point "of" 3.6e-5 m² and a
500 "m" buffer in degrees covered 785,083 m², silently.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan._errors import CRSError
from geoplan.config import DeadEndSettings
from geoplan.coverage import run_coverage
from geoplan.coverage.buffers import union_of_buffers
from geoplan.coverage.demand import residential_grid, residential_land, street_samples
from geoplan.deadends import run_deadends
from geoplan.siting import suggest_sites
from geoplan.standards import resolve_standards
from tests._synthetic import box, layerset, line

LONLAT = "EPSG:4326"


def _degrees(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(LONLAT)


@pytest.fixture(scope="module")
def projected():
    return layerset({"A": box(0, 0, 1000, 1000)}, residential=[box(100, 100, 400, 400)],
                    walkways=[line((0, 500), (1000, 500))], parks=[box(600, 600, 700, 700)])


@pytest.fixture(scope="module")
def geographic(projected):
    layers = {k: _degrees(v) for k, v in projected.layers.items()}
    return dataclasses.replace(projected, layers=layers, crs=gpd.GeoSeries([], crs=LONLAT).crs)


def _refused(call) -> str:
    with pytest.raises(CRSError) as err:
        call()
    text = str(err.value)
    assert "to_crs" in text or "Reproject" in text, text  # says how to fix it
    return text


def test_demand_functions_refuse_degrees(geographic):
    res, dist = geographic["residential"], geographic["districts"]
    _refused(lambda: residential_grid(res, dist, 25.0))
    _refused(lambda: residential_land(res, dist))
    _refused(lambda: street_samples(np.array([shapely.LineString([(104, 30), (104.01, 30)])]),
                                    dist, "street_main", 25.0))


def test_buffers_refuse_degrees_but_take_metres(projected):
    parks_deg = _degrees(projected["parks"]).geometry
    _refused(lambda: union_of_buffers(parks_deg, np.array([500.0])))
    served = union_of_buffers(projected["parks"].geometry, np.array([500.0]))
    # a 100 m square buffered by 500 m: square + 4 sides × 500 + a circle of 500 m
    expected = 100 * 100 + 4 * 100 * 500 + np.pi * 500**2
    assert served.area == pytest.approx(expected, rel=1e-3)


def test_whole_steps_refuse_degrees(geographic, projected):
    standards = resolve_standards(["park_500"])
    _refused(lambda: run_coverage(geographic, standards))
    _refused(lambda: run_deadends(geographic, DeadEndSettings()))
    coverage = run_coverage(projected, standards)
    bad = dataclasses.replace(coverage, districts=_degrees(coverage.districts),
                              gaps=_degrees(coverage.gaps))
    _refused(lambda: suggest_sites(bad, standards))
    # the same step in metres works: the park (600..700 m) is 283 m from the residential block
    # (100..400 m) at the nearest corners, so its 500 m buffer covers the block only in part;
    # sites are suggested in the analysis CRS, on the block's uncovered land
    sites = suggest_sites(coverage, standards).table
    assert len(sites) >= 1 and sites.crs == projected.crs
    assert shapely.covers(box(100, 100, 400, 400), sites.geometry.to_numpy()).all()
