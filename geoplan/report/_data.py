"""Small helpers shared by the map, the reports and the workbook.

They read the coverage and dead-end results by attribute (the documented contracts of
:mod:`geoplan.coverage` and :mod:`geoplan.deadends`) and tolerate a missing result or an
empty frame, so that a map or a report can still be written when one step produced nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

if TYPE_CHECKING:
    from geoplan.results import CoverageResult


COORD_DECIMALS = 6
"""Decimals kept in WGS84 coordinates written to HTML (~0.1 m)."""


def frame(result: Any, attr: str) -> pd.DataFrame:
    """``result.attr`` as a DataFrame, or an empty one when the result or attribute is missing."""
    value = getattr(result, attr, None) if result is not None else None
    if value is None:
        return pd.DataFrame()
    return value


def geoframe(result: Any, attr: str) -> gpd.GeoDataFrame | None:
    """``result.attr`` when it is a non-empty GeoDataFrame, else None."""
    value = getattr(result, attr, None) if result is not None else None
    if isinstance(value, gpd.GeoDataFrame) and len(value) and value.crs is not None:
        return value
    return None


def standards_order(coverage: CoverageResult | None) -> list[str]:
    """Standard ids in the order of the coverage table (first seen first)."""
    table = frame(coverage, "table")
    if "standard" not in table.columns:
        return []
    return list(dict.fromkeys(table["standard"].astype(str)))


def standard_rows(coverage: CoverageResult | None) -> dict[str, dict[str, Any]]:
    """Standard id -> its descriptive fields (names, radius, target) from the coverage table."""
    table = frame(coverage, "table")
    out: dict[str, dict[str, Any]] = {}
    keep = ("standard", "name_zh", "name_en", "radius_m", "target", "demand_kind")
    for _, row in table.iterrows():
        sid = str(row["standard"])
        if sid not in out:
            out[sid] = {k: row[k] for k in keep if k in table.columns}
    return out


_LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString


def simplify_drawn(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Shapes simplified for drawing: lines by Douglas-Peucker, the rest topology-preserving.

    A line drawn on a map has no topology to keep (its parts may cross), and plain
    Douglas-Peucker takes about a quarter of the time of the topology-preserving simplifier on
    lines (16-tile city: street gaps 0.99 -> 0.24 CPU s) for the same vertices to within a
    few; polygons keep the topology-preserving simplifier, which never drops a small polygon.

    Parameters
    ----------
    geoms
        Geometries in a projected CRS (metres).
    tolerance
        Simplification tolerance in metres; 0 returns ``geoms`` unchanged.

    Returns
    -------
    numpy.ndarray
        The simplified geometries, in order.
    """
    geoms = np.asarray(geoms, dtype=object)
    if tolerance <= 0 or not len(geoms):
        return geoms
    out = np.empty(len(geoms), dtype=object)
    lines = np.isin(shapely.get_type_id(geoms), _LINE_TYPES)
    out[lines] = shapely.simplify(geoms[lines], tolerance, preserve_topology=False)
    out[~lines] = shapely.simplify(geoms[~lines], tolerance, preserve_topology=True)
    return out


_WGS84 = CRS.from_epsg(4326)
_TRANSFORMERS: dict[int, tuple[Any, Transformer]] = {}


def _to_wgs84_transformer(crs: Any) -> Transformer:
    """The transformer from ``crs`` to WGS 84 (x, y order), made once per CRS object.

    Keyed by the object itself: a page's frames share their layers' CRS object, and hashing a
    CRS (its WKT) costs more than the transform of a small frame.
    """
    hit = _TRANSFORMERS.get(id(crs))
    if hit is not None and hit[0] is crs:
        return hit[1]
    if len(_TRANSFORMERS) > 32:
        _TRANSFORMERS.clear()
    transformer = Transformer.from_crs(crs, _WGS84, always_xy=True)
    _TRANSFORMERS[id(crs)] = (crs, transformer)  # the CRS held, so its id is not reused
    return transformer


def wgs84_rounded(geoms: np.ndarray, crs: Any) -> np.ndarray:
    """``geoms`` (2D, in the projected ``crs``) in WGS 84, coordinates rounded to
    :data:`COORD_DECIMALS` decimals: the coordinates geopandas' ``to_crs`` gives, rounded."""
    geoms = np.asarray(geoms, dtype=object)
    coords = shapely.get_coordinates(geoms)
    if not len(coords):
        return geoms.copy()
    lon, lat = _to_wgs84_transformer(crs).transform(coords[:, 0], coords[:, 1])
    moved = np.round(np.column_stack([lon, lat]), COORD_DECIMALS)
    return np.asarray(shapely.set_coordinates(geoms.copy(), moved), dtype=object)


def to_wgs84(gdf: gpd.GeoDataFrame, *, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """Simplify (in the projected CRS, metres) then reproject to WGS84 and round coordinates.

    Rounding to :data:`COORD_DECIMALS` decimals keeps the HTML small; empty geometries left by
    simplification are dropped.
    """
    crs, geoms = gdf.crs, gdf.geometry.to_numpy()
    if crs is None or not crs.is_projected or shapely.has_z(geoms).any():
        return _to_wgs84_frame(gdf, simplify_m)
    if simplify_m > 0:
        geoms = simplify_drawn(geoms, simplify_m)
    geoms = wgs84_rounded(geoms, crs)
    out = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=_WGS84))
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    return out if keep.all() else out.loc[keep]


def _to_wgs84_frame(gdf: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoDataFrame:
    """:func:`to_wgs84` through geopandas, for a geographic CRS or 3D shapes."""
    out = gdf
    if simplify_m > 0 and out.crs is not None and out.crs.is_projected:
        out = out.set_geometry(simplify_drawn(out.geometry.to_numpy(), simplify_m), crs=out.crs)
    out = out.to_crs("EPSG:4326")
    geoms = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, COORD_DECIMALS))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326"))
    return out.loc[~out.geometry.is_empty & out.geometry.notna()]


def plain(value: Any) -> Any:
    """A JSON/Excel-friendly Python value: numpy scalars unwrapped, NaN as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def coverage_class(share: Any, target: Any) -> str:
    """The colour class of a district: 'pass', 'near', 'low', 'poor' or 'nodata'."""
    share, target = plain(share), plain(target)
    if share is None:
        return "nodata"
    if target is None or target <= 0 or share >= target:
        return "pass"
    ratio = share / target
    return "near" if ratio >= 0.75 else "low" if ratio >= 0.5 else "poor"


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def slugify(text: str, *, fallback: str) -> str:
    """An ASCII file-name-safe slug of ``text`` (letters, digits, ``-``, ``_``), or ``fallback``.

    Chinese characters have no ASCII spelling here (no pinyin tables are shipped), so a purely
    Chinese name gives ``fallback``; callers keep the real name inside the page.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", ascii_text).strip("-_").lower()[:40].strip("-_")
    return slug or fallback


_NOT_WORD = re.compile(r"[^\w-]+")


def file_stem(text: str, *, fallback: str) -> str:
    """``text`` as one safe file name: letters of any script (Chinese kept, so that 一期 and
    二期 stay apart), digits, ``-`` and ``_``; no path separators, no dots, at most 60
    characters; ``fallback`` when nothing is left.

    Examples
    --------
    >>> file_stem("../../一期 东区", fallback="s"), file_stem("..", fallback="s")
    ('一期-东区', 's')
    """
    stem = _NOT_WORD.sub("-", unicodedata.normalize("NFC", text)).strip("-_")[:60].strip("-_")
    return stem or fallback


def district_slugs(names: Iterable[str], codes: Iterable[str] | None = None) -> list[str]:
    """Unique, file-name-safe slugs for districts, in order.

    Each slug is ``<NN>-<code or name>`` (``NN`` the district's position, so slugs stay
    unique and sort like the index), e.g. ``01-510104`` for 锦江区 with its adcode; without
    a code the name as :func:`file_stem` keeps it (Chinese kept: a folder of 街道 pages named
    ``01-district``, ``02-district`` told a planner nothing).

    >>> district_slugs(["锦江区", "../青羊 区", "=1+1"], ["510104", "", None])
    ['01-510104', '02-青羊-区', '03-1-1']
    """
    names = list(names)
    codes = list(codes) if codes is not None else [""] * len(names)
    width = max(2, len(str(len(names))))
    slugs = []
    for i, (name, code) in enumerate(zip(names, codes, strict=True), start=1):
        part = slugify(str(code or ""), fallback="") or file_stem(str(name), fallback="district")
        slugs.append(f"{i:0{width}d}-{part}")
    return slugs


def fmt_share(value: Any) -> str:
    """A share (0–1) as a percentage with one decimal, or an em dash when missing."""
    value = plain(value)
    if value is None:
        return "—"
    return f"{100 * float(value):.1f}%"


def change_text(then: str | None, now: str | None) -> str | None:
    """``now``, preceded by ``then`` and an arrow when both are known and read differently
    (a scenario's map: "39.4% → 47.4%", "未达标 → 达标"); a missing value is None or "—"."""
    missing = (None, "—")
    return now if now in missing or then in missing or then == now else f"{then} → {now}"


def fmt_share_change(before: Any, after: Any) -> str:
    """:func:`fmt_share` of ``after``, with ``before`` and an arrow where they read differently
    (:func:`change_text`)."""
    return str(change_text(fmt_share(before), fmt_share(after)))


def fmt_number(value: Any, decimals: int = 0) -> str:
    """A number with thousands separators, or an em dash when missing."""
    value = plain(value)
    if value is None:
        return "—"
    try:
        return f"{float(value):,.{decimals}f}"
    except (TypeError, ValueError):
        return str(value)  # e.g. a radius rule such as "500/300"


def census_citation(coverage: Any, lang: str) -> str | None:
    """The data source line of the census residents the coverage spread over the homes (each
    source the census file cites, once), or None without census residents."""
    people = getattr(coverage, "people", None)
    residents = getattr(people, "residents", None)
    if residents is None or "census_source" not in residents:
        return None
    cited = [str(s) for s in dict.fromkeys(residents["census_source"].dropna())
             if str(s).strip()]
    if not cited:
        return None
    said = "; ".join(cited)
    # "区、县", not "区县": the census's units, which a page of 街道 must not rename
    return (f"人口：2020年第七次全国人口普查常住人口，按区、县（{said}）" if lang == "zh" else
            f"Population: 2020 census residents per district ({said})")


def people_as_land(table: pd.DataFrame, tol: float = 1e-9) -> bool:
    """Whether every population share of ``table`` equals its land share (both measures), as
    when residents are spread evenly over each district's residential land.

    >>> t = pd.DataFrame({"share_buffer": [0.5, 0.2], "share_population_buffer": [0.5, None],
    ...                   "share_network": [0.4, 0.1], "share_population_network": [0.4, None]})
    >>> people_as_land(t), people_as_land(t.assign(share_population_buffer=[0.52, None]))
    (True, False)
    """
    pairs = (("share_buffer", "share_population_buffer"),
             ("share_network", "share_population_network"))
    if not all(a in table and b in table for a, b in pairs):
        return False
    seen = False
    for land, people in pairs:
        a = pd.to_numeric(table[land], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(table[people], errors="coerce").to_numpy(dtype=float)
        both = np.isfinite(a) & np.isfinite(b)
        seen |= bool(both.any())
        if not np.allclose(a[both], b[both], rtol=0.0, atol=tol):
            return False
    return seen
