"""District polygons: read, convert, select and clip to the data."""

from __future__ import annotations

import functools
import logging
import re

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputDataError
from geoplan._text import as_text, first_named, share_text
from geoplan.config import DistrictsSource
from geoplan.crs import DeclaredCRS, declared_or_own, file_to_wgs84, parse_declared_crs
from geoplan.layers.files import read_vector
from geoplan.layers.schema import conform
from geoplan.vocab import WHOLE_DISTRICT_SHARE

logger = logging.getLogger(__name__)


def read_districts(source: DistrictsSource, key: str = "districts") -> gpd.GeoDataFrame:
    """Read the district file into WGS84 with ``district`` and ``code`` columns.

    ``key`` is the config key of the file, as the error messages name it.

    Raises
    ------
    InputDataError
        If the file has no features, lacks the name field, or ``include`` names districts the
        file does not have.
    """
    where = "" if key == "districts" else f"{key}: "  # the districts file is the usual one
    try:
        raw = read_vector(source.path, layer=source.layer, encoding=source.encoding,
                          encoding_key=f"{key}.encoding", layer_key=f"{key}.layer")
    except InputDataError as exc:
        if not where:
            raise
        raise InputDataError(f"{where}{exc}") from exc.__cause__
    if len(raw) == 0:
        raise InputDataError(
            f"{where}district file {source.path} has no features. Give a file with the district "
            "(区/县) polygons of your city."
        )
    fields = [c for c in raw.columns if c != raw.geometry.name]
    if not fields:
        raise InputDataError(
            f"{where}district file {source.path} has shapes but no attributes, so no district names"
            + (": a Shapefile needs its .dbf file beside the .shp (same name)"
               if source.path.suffix.lower() == ".shp" else "; give a file with a name field"))
    if source.name_field not in raw.columns:
        raise InputDataError(
            f"district file {source.path} has no field {source.name_field!r}; set "
            f"{key}.name_field to one of {[c for c in raw.columns if c != 'geometry']}"
        )
    _check_polygons(raw, source, where)
    frame = file_to_wgs84(raw, source.crs, source=str(source.path), key=f"{key}.crs")
    frame["district"] = [as_text(v) for v in frame[source.name_field]]
    _warn_if_garbled(frame["district"].tolist(), source, key)
    code_field = source.code_field if source.code_field in frame.columns else None
    frame["code"] = [as_text(v) for v in frame[code_field]] if code_field else ""
    frame["name"] = frame["district"]
    frame["source"] = source.path.name
    frame["source_id"] = [str(i) for i in range(len(frame))]
    if source.include:
        frame = _included(frame, source, key)
    _refuse_unnamed(frame, source, key)
    frame = _unique_names(frame, source, key)
    frame["geometry"] = _valid_shapes(frame, source, key)
    return frame.reset_index(drop=True)


def _valid_shapes(frame: gpd.GeoDataFrame, source: DistrictsSource, key: str) -> np.ndarray:
    """The districts' shapes made valid, saying which were repaired; a shape that encloses no
    area (a ring whose points lie on a line) is refused by name: it would be left out of every
    table without a word."""
    geoms = frame.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    fixed = shapely.make_valid(geoms)
    flat = np.flatnonzero(shapely.area(fixed) <= 0)
    if len(flat):
        names = first_named([str(frame["district"].iloc[i]) for i in flat], 10)
        raise InputDataError(
            f"district file {source.path}: {len(flat)} of {len(frame)} districts enclose no area "
            f"({names}): their rings run along a line or collapse to points. Redraw them (QGIS: "
            f"Check Validity, Fix Geometries), or leave them out with {key}.include."
        )
    if invalid.any():
        names = first_named([str(d) for d in frame["district"][invalid]], 10)
        logger.info("%sdistrict file %s: repaired %d invalid district shape(s) (rings that cross "
                    "themselves or each other): %s; check them in QGIS (Check Validity)",
                    "" if key == "districts" else f"{key}: ", source.path.name,
                    int(invalid.sum()), names)
    return fixed


def declared_crs(source: DistrictsSource) -> DeclaredCRS:
    """What the district file's coordinates are taken to be in: its ``crs``, else the file's
    own CRS, else WGS 84 (as :func:`read_districts` reads them)."""
    if source.crs is not None:
        return parse_declared_crs(source.crs)
    try:
        own = pyogrio.read_info(source.path, layer=source.layer)["crs"]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError):
        own = None  # unreadable: reading the file says why
    return declared_or_own(None, pyproj.CRS.from_user_input(own) if own else None)


def _included(frame: gpd.GeoDataFrame, source: DistrictsSource,
              key: str = "districts") -> gpd.GeoDataFrame:
    """The districts ``include`` names, by name or, for a name the file repeats, by the
    "name (code)" that :func:`_unique_names` gives it (the name a batch job is given)."""
    wanted = set(source.include or [])
    named = frame["district"].isin(wanted).to_numpy()
    by_code = (frame["district"] + " (" + frame["code"] + ")").to_numpy()
    coded = ~named & (frame["code"] != "").to_numpy() & np.isin(by_code, list(wanted))
    unknown = sorted(wanted - set(frame["district"][named]) - set(by_code[coded]))
    if unknown:
        raise InputDataError(
            f"{key}.include names {unknown}, which {source.path.name} does not have; "
            f"its districts are {sorted(frame['district'])}"
        )
    frame = frame.copy()
    frame.loc[coded, "district"] = by_code[coded]
    frame["name"] = frame["district"]
    return frame.loc[named | coded]


def _refuse_unnamed(frame: gpd.GeoDataFrame, source: DistrictsSource,
                    key: str = "districts") -> None:
    """Districts are keyed by name: refuse features whose name field is empty."""
    empty = np.flatnonzero(frame["district"].to_numpy() == "")
    if len(empty) == 0:
        return
    rows = first_named([int(frame["source_id"].iloc[i]) + 1 for i in empty], 10)
    raise InputDataError(
        f"district file {source.path}: {len(empty)} of {len(frame)} features have no name in "
        f"field {source.name_field!r} (features {rows}). Fill in their names, or pick the "
        f"named districts with {key}.include."
    )


_CJK = re.compile("[\u4e00-\u9fff]")
_LATIN1_HIGH = re.compile("[\u00a0-\u00ff]")


def reread(name: str) -> tuple[str, str] | None:
    """``name`` as it reads in the encoding it was likely written in, when it looks like Chinese
    text decoded in the wrong one: GBK bytes read as Latin-1 (a Shapefile without its .cpg:
    ``³É»ªÇø``) or UTF-8 bytes read as GBK (a .cpg that says GBK over UTF-8: ``鎴愬崕鍖``).
    Returns (the name re-read, the encoding to declare), or None.

    Examples
    --------
    >>> reread("³É»ªÇø")
    ('成华区', 'gbk')
    >>> reread("鎴愬崕鍖")
    ('成华', 'utf-8')
    >>> reread("成华区") is None and reread("Müller") is None
    True
    """
    if not _CJK.search(name) and _LATIN1_HIGH.search(name):
        try:
            fixed = name.encode("latin-1").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return None
        encoding = "gbk"
    elif _CJK.search(name):
        try:  # a last character cut in half by the wrong decoding is dropped
            fixed = name.encode("gb18030").decode("utf-8", errors="replace").rstrip("\ufffd")
        except UnicodeEncodeError:
            return None
        if "\ufffd" in fixed or fixed == name:
            return None
        encoding = "utf-8"
    else:
        return None
    cjk = len(_CJK.findall(fixed))
    return (fixed, encoding) if cjk >= 2 and cjk * 2 >= len(fixed.replace(" ", "")) else None


def _warn_if_garbled(names: list[str], source: DistrictsSource, key: str = "districts") -> None:
    """Say so when the district names look like Chinese read in the wrong encoding."""
    garbled = [(n, r) for n in names if (r := reread(n)) is not None]
    if not garbled or len(garbled) < len(names) / 2:
        return
    name, (fixed, encoding) = garbled[0]
    logger.warning("%s: the district names look garbled (%d of %d): %r reads as %r in %s. Set "
                   "%s.encoding: %s (a Shapefile's .cpg file may be missing or wrong)",
                   source.path, len(garbled), len(names), name, fixed, encoding.upper(), key,
                   encoding)


def _check_polygons(raw: gpd.GeoDataFrame, source: DistrictsSource, where: str = "") -> None:
    """Refuse district features that are not areas (points, lines, empty geometries);
    ``where`` starts the message (the config key of a file other than the districts)."""
    geoms = raw.geometry.to_numpy()
    # a GeoJSON coordinate that is no number (["104.12", 30.66]) is read as no geometry
    kinds = np.array(["no geometry, or one that could not be read: a coordinate that is not a "
                      "number?" if g is None or shapely.is_empty(g) else g.geom_type for g in geoms])
    bad = ~np.isin(kinds, ["Polygon", "MultiPolygon"])
    if bad.any():
        rows = np.flatnonzero(bad)
        names = [as_text(v) for v in raw[source.name_field]] if source.name_field in raw else rows
        found = first_named([f"{names[i]} ({kinds[i]})" for i in rows], 5)
        raise InputDataError(
            f"{where}district file {source.path}: {len(rows)} of {len(raw)} features are not "
            "polygons: "
            f"{found}. Districts must be areas (Polygon or MultiPolygon); export the "
            "district boundaries as polygons, not their centre points or outlines."
        )


@functools.lru_cache(maxsize=128)
def _say_once(warning: str) -> None:
    """Log ``warning`` the first time only: a run reads its districts file more than once (the
    layers, the datum check, the census shares)."""
    logger.warning(warning)


def _unique_names(frame: gpd.GeoDataFrame, source: DistrictsSource,
                  key: str = "districts") -> gpd.GeoDataFrame:
    """Districts are keyed by name: make repeated names unique with their code, or refuse."""
    repeated = frame["district"].duplicated(keep=False)
    if not repeated.any():
        return frame
    names = sorted(set(frame.loc[repeated, "district"]))
    codes = frame.loc[repeated, "code"]
    if (codes != "").all() and not frame.loc[repeated, ["district", "code"]].duplicated().any():
        frame = frame.copy()
        frame.loc[repeated, "district"] = (frame.loc[repeated, "district"] + " ("
                                           + frame.loc[repeated, "code"] + ")")
        clash = frame["district"].duplicated(keep=False)
        if clash.any():  # "dup (c1)" made from a repeated name is another district's name
            raise InputDataError(
                f"district file {source.path} names {names} more than once, and naming them "
                f"by name and code would repeat another district's name: "
                f"{sorted(set(frame.loc[clash, 'district']))}. Make the names unique in the "
                f"file (field {source.name_field!r}), or pick the districts you want with "
                f"{key}.include.")
        frame["name"] = frame["district"]
        _say_once(f"district file {source.path.name} names {names} more than once; these "
                  "districts are called by name and code instead: "
                  f"{sorted(frame.loc[repeated, 'district'])}")
        return frame
    raise InputDataError(
        f"district file {source.path} has the same name more than once in field "
        f"{source.name_field!r}: {names}. Make the names unique in the file, pick the districts "
        f"you want with {key}.include, or give a {key}.code_field whose codes tell them "
        "apart."
    )


_NAMED_AT_MOST = 12
"""Districts a warning names; beyond, it counts them (`inside_share` in the tables has every one)."""

LEFT_OUT_ISSUE = "left_out_districts"
"""The layer issue (and data check) naming the districts of the file that are not analysed
(:func:`clip_districts` leaves them out)."""

MOSTLY_INSIDE = 0.5
"""A district with at least this share of its area inside the data is analysed whatever its
size (``min_inside_km2`` leaves out only the slivers of districts the data barely reaches)."""


def clip_districts(
    districts: gpd.GeoDataFrame,
    data_extent: BaseGeometry,
    min_overlap_share: float = 0.0,
    *,
    data_source: str,
    min_inside_km2: float = 0.5,
    say_partial: bool = True,
) -> gpd.GeoDataFrame:
    """Keep the districts the data covers, clipped to the data's extent (projected CRS).

    ``say_partial``: warn of the districts only partly inside the data (False for a batch
    job, whose city task says it of all of them once).

    Adds ``full_area_m2`` (whole district), ``area_m2`` (part inside the data),
    ``inside_km2`` (the same in km²) and ``inside_share``. A district is analysed when at least
    ``min_inside_km2`` of it lies inside the data, or at least :data:`MOSTLY_INSIDE` of it does
    (and, when ``min_overlap_share`` > 0, at least that share): a 3 km² neighbourhood extract of
    a 388 km² district is analysed on its 3 km², and every table says how much of the district
    that is; a 0.3 km² 社区 inside the data is analysed whole, however small.

    Raises
    ------
    InputDataError
        If no district overlaps the data at all, with both extents to help spot a CRS mistake,
        or if every overlap is below the thresholds, naming the config key and the flag.
    """
    full = districts.geometry.area.to_numpy()
    inside = shapely.intersection(districts.geometry.to_numpy(), data_extent)
    area = shapely.area(inside)
    share = np.divide(area, full, out=np.zeros_like(area), where=full > 0)
    # the area threshold leaves out the slivers of districts the data barely reaches, never
    # a small unit (a 街道 or 社区) the data covers
    big_enough = (area >= max(min_inside_km2 * 1e6, 1e-6)) | ((share >= MOSTLY_INSIDE) & (area > 0))
    keep = big_enough & (share >= min_overlap_share)
    if not keep.any() and (share > 0).any():
        best = int(np.argmax(area))
        raise InputDataError(
            f"the districts barely overlap the data in {data_source}: the most, "
            f"{districts['district'].iloc[best]}, has {area[best] / 1e6:.3f} km² "
            f"({share[best]:.2%} of its area) inside, below districts.min_inside_km2 "
            f"({min_inside_km2:g} km²) and under {MOSTLY_INSIDE:.0%} of it"
            + (f" or districts.min_overlap_share ({min_overlap_share:.0%})" if min_overlap_share else "")
            + ". Lower it (--min-inside-km2 on the command line) to analyse that part, or use "
            "data that covers the district."
        )
    if not keep.any():
        d_bounds = np.round(districts.to_crs("EPSG:4326").total_bounds, 4).tolist()
        e_bounds = np.round(
            gpd.GeoSeries([data_extent], crs=districts.crs).to_crs("EPSG:4326").total_bounds, 4
        ).tolist()
        raise InputDataError(
            f"no district overlaps the data in {data_source}: districts span lon/lat {d_bounds}, "
            f"the data spans {e_bounds}. Check that the district file and the OSM extract cover "
            "the same city, and that districts.crs is declared correctly (gcj02/bd09/wgs84)."
        )
    dropped = [f"{d} ({a / 1e6:.2f} km²)" for d, a, k in
               zip(districts["district"], area, keep, strict=True) if not k and a > 0]
    if dropped:
        (logger.warning if say_partial else logger.info)(
            "districts with under %g km² and under %.0f%% of their area inside the data, left "
            "out: %s (--min-inside-km2 lowers the bar)", min_inside_km2, 100 * MOSTLY_INSIDE,
            first_named(dropped, _NAMED_AT_MOST))
    outside = [str(d) for d, a in zip(districts["district"], area, strict=True) if a <= 0]
    if outside and say_partial:  # a city's whole file over a few districts' data: named, not
        # a warning (the usual case)
        logger.info("%d district(s) lie outside the data and are not analysed: %s",
                    len(outside), first_named(outside, _NAMED_AT_MOST))
    out = districts.loc[keep].copy()
    out["full_area_m2"] = full[keep]
    out["area_m2"] = area[keep]
    out["inside_km2"] = area[keep] / 1e6
    out["inside_share"] = share[keep]
    out = out.set_geometry(gpd.GeoSeries(inside[keep], index=out.index, crs=districts.crs))
    partial = out.loc[out["inside_share"] < WHOLE_DISTRICT_SHARE]
    if len(partial) and say_partial:
        named = [f"{d} ({k:.1f} km², {share_text(s)})" for d, k, s in
                 zip(partial["district"], partial["inside_km2"], partial["inside_share"],
                     strict=True)]
        logger.warning("districts only partly inside the data: results cover that part only: "
                       "%s", first_named(named, _NAMED_AT_MOST))
    return conform(out, "districts")
