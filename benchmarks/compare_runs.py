"""Compare two ``geoplan run`` output folders: same shares, gaps, sites and dead ends to 1e-9.

Usage::

    python benchmarks/compare_runs.py BASELINE_DIR NEW_DIR

Tables (coverage, items, gaps, sites, dead ends, layers, residents, children, seats,
data checks) must match cell by cell: text exactly, numbers
to 1e-9 (relative, or absolute below 1). The GeoPackage layers (gaps, street gaps, facilities,
reached edges, suggested sites, dead ends) must have the same rows with the same attributes and
geometries whose symmetric difference is at most 1e-9 of their size; the reach areas, a drawing
made from lines simplified at 1 m and 2 m, to 1e-3 of their area (:data:`DRAWN`). A layer only
the new run writes is named as added (with its QGIS style row), not counted as a difference; a
layer the new run no longer writes is a difference. Exit code 0 when all match.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

TOL = 1e-9


def _close(a: pd.Series, b: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        x, y = a.to_numpy(float), b.to_numpy(float)
        return bool(np.allclose(x, y, rtol=TOL, atol=TOL, equal_nan=True))
    return bool((a.fillna("").astype(str).to_numpy() == b.fillna("").astype(str).to_numpy()).all())


def compare_table(a: pd.DataFrame, b: pd.DataFrame, name: str) -> list[str]:
    """Problems between two tables (same columns, rows, values to 1e-9)."""
    gone = [c for c in a.columns if c not in b.columns]
    if gone:
        return [f"{name}: columns missing: {gone}"]
    added = [c for c in b.columns if c not in a.columns]
    if added:
        print(f"note: {name}: new columns {added} (not compared)")
    if len(a) != len(b):
        return [f"{name}: {len(a)} rows vs {len(b)}"]
    return [f"{name}: column {c} differs" for c in a.columns if not _close(a[c], b[c])]


DRAWN = {"reach_areas": 1e-3}
"""Layers drawn for the map and reports, and the share of its area each shape may differ by:
a reach area buffers reached lines simplified twice (1 m, then 2 m), so how the lines are cut
into pieces moves its outline by up to about 2 m (0.02-0.07 % of a basket standard's area when
its items' pieces were merged into stretches, 2026-12-03)."""


def _geom_ok(a: np.ndarray, b: np.ndarray, tol: float = TOL) -> bool:
    if len(a) != len(b):
        return False
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    ta, tb = shapely.get_type_id(a), shapely.get_type_id(b)
    if (ta != tb).any():
        return False
    if (ta == 0).all():  # points
        return bool(np.allclose(shapely.get_coordinates(a), shapely.get_coordinates(b), atol=1e-6))
    size = np.where(np.isin(ta, [3, 6]), shapely.area(a), shapely.length(a))
    if np.isin(ta, [3, 6]).all():
        diff = shapely.area(shapely.symmetric_difference(a, b))
        return bool((diff <= np.maximum(size, 1.0) * tol + 1e-6).all())
    # lines: the same length, and every point of each within a micrometre of the other (a line
    # drawn the other way round, or nodes a rounding apart, is the same line; their symmetric
    # difference would be the whole line)
    same_length = np.abs(size - shapely.length(b)) <= np.maximum(size, 1.0) * 1e-9
    return bool((same_length & (shapely.hausdorff_distance(a, b) <= 1e-6)).all())


ADDED: list[str] = []
"""Layers only the new run wrote (``file:layer``), filled by :func:`compare_gpkg`."""


def compare_gpkg(a: Path, b: Path) -> list[str]:
    """Problems between the layers of two GeoPackages (layers only ``b`` has go to ADDED)."""
    out = []
    la = {n for n, _ in pyogrio.list_layers(a)}
    lb = {n for n, _ in pyogrio.list_layers(b)}
    if la - lb:
        out.append(f"{a.name}: layers missing in the new run: {sorted(la - lb)}")
    ADDED.extend(f"{b.name}:{n}" for n in sorted(lb - la))
    for layer in sorted(la & lb):
        ga = pyogrio.read_dataframe(a, layer=layer)
        gb = pyogrio.read_dataframe(b, layer=layer)
        if "f_table_name" in gb.columns:  # the styles of added layers are new, not different
            gb = gb.loc[~gb["f_table_name"].isin(lb - la)].reset_index(drop=True)
        if "geometry" not in ga.columns:  # a table such as the QGIS styles: its stamps may differ
            stamps = [c for c in ga.columns if c.lower().endswith("time")]
            out += compare_table(pd.DataFrame(ga.drop(columns=stamps)),
                                 pd.DataFrame(gb.drop(columns=stamps, errors="ignore")),
                                 f"{a.name}:{layer}")
            continue
        cols = [c for c in ga.columns if c != "geometry"]
        out += compare_table(pd.DataFrame(ga[cols]),
                             pd.DataFrame(gb[[c for c in gb.columns if c != "geometry"]]),
                             f"{a.name}:{layer}")
        if not _geom_ok(ga.geometry.to_numpy(), gb.geometry.to_numpy(), DRAWN.get(layer, TOL)):
            out.append(f"{a.name}:{layer}: geometries differ")
    return out


CSVS = ("coverage.csv", "coverage_items.csv", "gaps.csv", "sites.csv", "deadends.csv",
        "layers.csv", "residents.csv", "children.csv", "seats.csv", "data_checks.csv")
"""The run's tables compared (those present in the baseline)."""


def compare(base: Path, new: Path) -> list[str]:
    """Every difference between the outputs in ``base`` and ``new``."""
    problems = []
    for csv in CSVS:
        if (base / csv).exists():
            problems += compare_table(pd.read_csv(base / csv), pd.read_csv(new / csv), csv)
    for gpkg in ("coverage.gpkg", "sites.gpkg", "deadends.gpkg"):
        if (base / gpkg).exists():
            problems += compare_gpkg(base / gpkg, new / gpkg)
    return problems


def main() -> int:
    """Compare and print; exit 1 on any difference."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", type=Path, help="output folder of the baseline run")
    parser.add_argument("new", type=Path, help="output folder of the new run")
    args = parser.parse_args()
    for folder in (args.baseline, args.new):
        if not folder.is_dir():
            parser.error(f"{folder}: no such folder (give two `geoplan run --out` folders)")
    base, new = args.baseline, args.new
    problems = compare(base, new)
    for p in problems:
        print(p)
    if ADDED:
        print(f"added in the new run: {', '.join(ADDED)}")
    print("same outputs" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
