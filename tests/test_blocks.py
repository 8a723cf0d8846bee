"""A city's frames written a block of rows at a time: the same files as written whole.

The tables step writes ``coverage.gpkg``'s large layers and ``gaps.csv`` in blocks of rows
(:meth:`geoplan.results.CoverageResult.in_blocks`) so that a whole city's gaps are never in
memory at once. Each file must be what the whole frame gives: same rows, same columns and
types, and the same declared geometry type even when the first block holds only single
polygons and a later one the multi polygons that make the layer MultiPolygon.
"""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geoplan._io import HAS_Z, LayerBlocks, geometry_kinds, layer_geometry_type, write_csv, write_gpkg
from geoplan.results._spill import GeometryStore, SpilledFrame, row_blocks
from geoplan.results.coverage import ON_DISK

CRS = "EPSG:32648"

SQUARE = shapely.box(0, 0, 1, 1)
TWO = shapely.MultiPolygon([shapely.box(2, 0, 3, 1), shapely.box(4, 0, 5, 1)])
LINE = shapely.LineString([(0, 0), (1, 1)])


NAMES = ["=HYPERLINK(\"x\")", "路", "+1", "a,b"]


def _frame(geoms: list) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({
        "name": [NAMES[i % 4] for i in range(n)],
        "rank": np.arange(n, dtype="int64"),
        "area": np.linspace(0.5, 2.5, n),
        "people": [np.nan if i % 3 else float(i) for i in range(n)],
    }, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def _blocks(frame: gpd.GeoDataFrame, rows: int) -> LayerBlocks:
    def gen():
        for lo in range(0, max(len(frame), 1), rows):
            yield frame.iloc[lo:lo + rows]
    return LayerBlocks(gen, geometry_kinds(frame.geometry.to_numpy()))


@pytest.mark.parametrize(("geoms", "declared"), [
    ([SQUARE] * 5 + [TWO] * 2, "MultiPolygon"),    # singles first, promoted like the whole
    ([LINE] * 7, "LineString"),
    ([SQUARE, LINE, TWO, SQUARE, None, LINE, SQUARE], "Unknown"),
    ([shapely.Point(0, 0, 5), shapely.Point(1, 1, 2)] * 3, "Point Z"),
    ([], "Unknown"),
])
def test_a_layer_in_blocks_is_the_layer_written_whole(tmp_path, geoms, declared) -> None:
    frame = _frame(geoms)
    whole = write_gpkg({"gaps": frame}, tmp_path / "whole.gpkg")
    blocks = write_gpkg({"gaps": _blocks(frame, 2)}, tmp_path / "blocks.gpkg")
    types = {p.name: dict(pyogrio.list_layers(p))["gaps"] for p in (whole, blocks)}
    assert types == {"whole.gpkg": declared, "blocks.gpkg": declared}
    a = gpd.read_file(whole, layer="gaps")
    b = gpd.read_file(blocks, layer="gaps")
    assert pyogrio.read_info(blocks, layer="gaps")["features"] == len(frame)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert list(a.dtypes) == list(b.dtypes)
    assert all(shapely.equals_exact(x, y, 0) if x is not None else y is None
               for x, y in zip(a.geometry, b.geometry, strict=True))


def test_the_declared_type_is_pyogrio_s_choice_for_the_whole_frame() -> None:
    def kinds(*geoms):
        return geometry_kinds(np.array(geoms, dtype=object))

    assert layer_geometry_type(kinds(SQUARE, SQUARE)) == ("Polygon", False)
    assert layer_geometry_type(kinds(SQUARE, TWO, None)) == ("MultiPolygon", True)
    assert layer_geometry_type(kinds(LINE, shapely.MultiLineString([LINE]))) == (
        "MultiLineString", True)
    assert layer_geometry_type(kinds(SQUARE, LINE)) == ("Unknown", False)
    assert layer_geometry_type(kinds(None)) == ("Unknown", False)
    z = kinds(shapely.Point(0, 0, 1), shapely.Point(0, 0))
    assert list(z) == [HAS_Z, 0] and layer_geometry_type(z) == ("Point Z", False)


def test_csv_in_blocks_is_the_csv_written_whole_byte_for_byte(tmp_path) -> None:
    frame = pd.DataFrame(_frame([SQUARE] * 9).drop(columns="geometry"))
    frame.loc[4, "name"] = "line\rbreak"
    whole = write_csv(frame, tmp_path / "whole.csv")
    blocks = write_csv((frame.iloc[lo:lo + 4] for lo in range(0, 9, 4)), tmp_path / "b.csv")
    assert blocks.read_bytes() == whole.read_bytes()
    assert whole.read_bytes().startswith("\ufeffname,".encode("utf-8"))
    assert b"'=HYPERLINK" in whole.read_bytes()  # still neutralised, block by block


def test_a_spilled_frame_in_blocks_is_the_frame_in_order(tmp_path) -> None:
    frame = _frame([SQUARE, TWO, None, LINE, SQUARE, shapely.Point(0, 0, 1), SQUARE])
    spilled = SpilledFrame.write(frame, GeometryStore(tmp_path))
    assert list(spilled.kinds) == list(geometry_kinds(frame.geometry.to_numpy()))
    assert list(spilled.kinds) == [3, 6, -1, 1, 3, HAS_Z, 3]
    parts = list(spilled.blocks(3))
    assert [len(p) for p in parts] == [3, 3, 1]
    back = pd.concat(parts)
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")),
                                  pd.DataFrame(frame.drop(columns="geometry")))
    assert [g is None or shapely.equals_exact(g, h, 0)
            for g, h in zip(back.geometry, frame.geometry, strict=True)] == [True] * 7
    assert list(spilled.take(np.array([6, 1])).kinds) == [3, 6]
    assert list(SpilledFrame.concat([spilled, spilled], CRS, spilled.store).kinds) == (
        list(spilled.kinds) * 2)
    empty = SpilledFrame.write(frame.iloc[:0], spilled.store)
    assert [len(p) for p in empty.blocks(3)] == [0]
    with pytest.raises(ValueError):
        next(spilled.blocks(0))
    # blocks also end at a byte budget, each keeping at least one row. WKB bytes: a square
    # 93 (9 + 4 + 5 points × 16), the two squares 9 + 2 × 93, None nothing, the line 41,
    # the point with z 29: within 100 bytes only the None and the line share a block
    sizes = np.maximum(spilled.lengths, 0)
    assert sizes.tolist() == [93, 195, 0, 41, 93, 29, 93]
    cut = list(spilled.blocks(100, max_bytes=100))
    assert [len(p) for p in cut] == [1, 1, 2, 1, 1, 1]
    assert list(row_blocks(7, 3, np.array([5, 5, 5, 20, 1, 1, 1]), 10)) == [
        (0, 2), (2, 3), (3, 4), (4, 7)]


def test_the_result_s_frames_in_blocks_and_attributes_held_either_way(chengdu_results,
                                                                      tmp_path) -> None:
    coverage = chengdu_results[0]
    held = copy.copy(coverage)
    store = GeometryStore(tmp_path)
    for name in ON_DISK:
        held.keep_on_disk(name, getattr(coverage, name), store)
    for name in ON_DISK:
        whole = getattr(coverage, name)
        for result in (coverage, held):
            parts = list(result.in_blocks(name, rows=500))
            assert [len(p) for p in parts[:-1]] == [500] * (len(parts) - 1), name
            assert sum(len(p) for p in parts) == len(whole)
            joined = pd.concat(parts)
            pd.testing.assert_frame_equal(pd.DataFrame(joined.drop(columns="geometry")),
                                          pd.DataFrame(whole.drop(columns="geometry")))
            assert shapely.equals_exact(joined.geometry.to_numpy(), whole.geometry.to_numpy(),
                                        0).all(), name
            pd.testing.assert_frame_equal(result.attributes(name),
                                          pd.DataFrame(whole.drop(columns="geometry")))
            assert list(result.geometry_kinds(name)) == list(
                geometry_kinds(whole.geometry.to_numpy()))


def _cells(path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_workbook_lists_the_same_gaps_from_frames_on_disk_located_in_blocks(
        chengdu_layers, chengdu_results, tmp_path, monkeypatch) -> None:
    """Held on disk, the workbook reads the gaps' attributes only and locates them a block of
    rows at a time: the sheets hold what they hold from the frames in memory."""
    import geoplan.results.coverage as results_coverage
    from geoplan.report.tables import write_workbook

    coverage, deadends, sites = chengdu_results
    held = copy.copy(coverage)
    store = GeometryStore(tmp_path)
    for name in ON_DISK:
        held.keep_on_disk(name, getattr(coverage, name), store)
    monkeypatch.setattr(results_coverage.CoverageResult.in_blocks, "__defaults__", (300,))
    assert len(list(held.in_blocks("gaps"))) > 3
    # both books stamped with the same minute (two writes could straddle one and differ)
    import datetime as dt

    import geoplan.report.tables as tables

    class _Fixed(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 1, 1, 12, 0)

    monkeypatch.setattr(tables, "datetime", _Fixed)
    memory = write_workbook(coverage, deadends, tmp_path / "memory.xlsx", sites=sites,
                            layerset=chengdu_layers)
    disk = write_workbook(held, deadends, tmp_path / "disk.xlsx", sites=sites,
                          layerset=chengdu_layers)
    a, b = _cells(memory), _cells(disk)
    assert a == b
    gap_rows = [r for rows in a.values() for r in rows
                if len(r) > 6 and isinstance(r[2], int) and isinstance(r[6], float)
                and 100 < r[6] < 110]
    assert len(gap_rows) > 1000  # the gap lists, with their places, are there to compare
