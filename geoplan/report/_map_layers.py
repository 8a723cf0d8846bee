"""Compact, safe data layers for the meeting map.

folium's ``GeoJson`` writes every feature as indented GeoJSON with 6-decimal coordinates, and its
popups and tooltips put property values into the page with ``innerHTML``: a name such as
``"><img src=x onerror=alert(1)>`` in OSM or a planner's file runs as script when a feature is
clicked. :class:`DataLayer` replaces it for all of the map's data:

- properties are stored by column (no repeated keys), coordinates as one delta-encoded string
  per layer (the polyline algorithm at 1e-6 degrees, about 0.1 m; 1e-5 degrees on city-sized
  maps, see :mod:`geoplan.report._map_detail`, with the layer's ``scale`` in its spec), decoded
  by the page's runtime (``assets/geoplan_map.js``); this keeps the default run's map well
  under 3 MB;
- popups and tooltips are built with ``textContent`` only, so data is always shown as text;
  empty values are left out of a popup rather than shown blank, and each field may carry a
  unit written after its value.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure
from folium.map import Layer
from folium.template import Template

from geoplan.report._data import plain
from geoplan.report._map_detail import current as current_detail

SCALE = 1_000_000
"""Coordinates are stored as integers of 1e-6 degrees."""

Field = tuple[str, str, str]
"""A popup row: (property, label, unit written after the value or '')."""


@functools.lru_cache(maxsize=1)
def runtime_js() -> str:
    """The map's runtime script, safe to put inside a ``<script>`` element."""
    js = (resources.files("geoplan.report") / "assets" / "geoplan_map.js").read_text(
        encoding="utf-8")
    return js.replace("</script", "<\\/script")


_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` of a folium page.

    No ``<`` at all (nothing can end or bend the element), and no ``{{``, ``{%`` or ``{#``:
    folium renders each element's script and branca parses that output again as a Jinja
    template, so a name such as ``{{ 7*7 }}`` would otherwise be evaluated while the map is
    written. Both can only occur inside JSON strings, where the escapes keep the text as it is.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _JINJA_OPEN.sub(r"\\u007b", text.replace("<", "\\u003c"))


def add_runtime(m: folium.Map) -> None:
    """Put the runtime script into ``m``'s page header (after Leaflet)."""
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(f"<script>{runtime_js()}</script>"), name="geoplan_runtime_js")


def _polyline_chars(values: np.ndarray, starts: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The polyline characters of ``values`` (n, k) and each row's character count.

    ``starts`` (sorted row numbers, 0 first) restart the deltas: each run is encoded as if
    on its own.
    """
    v = np.asarray(values, dtype=np.int64)
    if v.ndim == 1:
        v = v[:, None]
    d = np.diff(v, axis=0, prepend=np.zeros((1, v.shape[1]), dtype=np.int64))
    if starts is not None and len(starts):
        d[starts] = v[starts]
    d = d.reshape(-1)
    z = (d << 1) ^ (d >> 63)
    shifts = 5 * np.arange(8, dtype=np.int64)
    groups = (z[:, None] >> shifts[None, :]) & 31
    n = 1 + ((z[:, None] >> shifts[None, 1:]) > 0).sum(axis=1)
    idx = np.arange(8)[None, :]
    chars = groups + 63 + np.where(idx < (n - 1)[:, None], 0x20, 0)
    return chars[idx < n[:, None]].astype(np.uint8), n.reshape(len(v), -1).sum(axis=1)


def polyline(values: np.ndarray) -> str:
    """Encode integer points with the polyline algorithm (zig-zag deltas in 5-bit groups).

    Parameters
    ----------
    values
        An integer array of shape (n, k) (or (n,)); each column is delta-encoded down the rows,
        the first row as a delta from 0, and the rows are written one after the other.

    Returns
    -------
    str
        ASCII characters 63–126.
    """
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return ""
    return _polyline_chars(v)[0].tobytes().decode("ascii")


def polyline_runs(values: np.ndarray, counts: Sequence[int] | np.ndarray) -> list[str]:
    """``values`` cut into runs of ``counts`` rows, each encoded as by :func:`polyline`.

    One pass over all runs (many small rings cost no more than one long line).
    """
    runs = np.asarray(counts, dtype=np.int64)
    if len(runs) == 0:
        return []
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return [""] * len(runs)
    ends = np.cumsum(runs)
    starts = ends - runs
    chars, per_row = _polyline_chars(v, starts[runs > 0])
    text = chars.tobytes().decode("ascii")
    at = np.concatenate([[0], np.cumsum(per_row)])
    return [text[a:b] for a, b in zip(at[starts].tolist(), at[ends].tolist(), strict=True)]


def _split(counts: np.ndarray, index: np.ndarray, n: int) -> list[list[int]]:
    """``counts`` grouped by ``index`` (sorted, values in 0..n-1) into n lists."""
    bounds = np.searchsorted(index, np.arange(n + 1))
    values = counts.tolist()
    return [values[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]


def encode_geometries(geoms: Sequence[Any], kind: str, scale: int = SCALE
                      ) -> tuple[str, list[Any] | None]:
    """One coordinate string and the part structure for ``geoms`` (WGS 84).

    ``kind`` is 'point' (each geometry's first point), 'line' (each a list of line lengths)
    or 'area' (each a list of polygons, each a list of ring lengths). Coordinates are stored as
    integers of 1/``scale`` degree.
    """
    arr = np.asarray(list(geoms), dtype=object)
    n = len(arr)
    parts: list[Any] | None = None
    if kind == "point":
        xy, index = shapely.get_coordinates(arr, return_index=True)
        first = np.full(n, -1, dtype=np.int64)
        first[index[::-1]] = np.arange(len(index))[::-1]
        flat = xy[first[first >= 0]]
    elif kind == "line":
        pieces, index = shapely.get_parts(arr, return_index=True)
        ok = ~shapely.is_empty(pieces)
        pieces, index = pieces[ok], index[ok]
        flat = shapely.get_coordinates(pieces)
        parts = _split(shapely.get_num_coordinates(pieces), index, n)
    else:
        polys, index = shapely.get_parts(arr, return_index=True)
        ok = (shapely.get_type_id(polys) == 3) & ~shapely.is_empty(polys)
        polys, index = polys[ok], index[ok]
        rings, ring_index = shapely.get_rings(polys, return_index=True)
        flat = shapely.get_coordinates(rings)
        per_poly = _split(shapely.get_num_coordinates(rings), ring_index, len(polys))
        bounds = np.searchsorted(index, np.arange(n + 1))
        parts = [per_poly[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(),
                                               strict=True)]
    ints = np.rint(np.asarray(flat, dtype=float).reshape(-1, 2) * scale).astype(np.int64)
    return polyline(ints), parts


def _kind(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type.dropna())
    if types <= {"Point", "MultiPoint"}:
        return "point"
    if types <= {"LineString", "MultiLineString", "LinearRing"}:
        return "line"
    return "area"


def _column(values: Sequence[Any]) -> list[Any]:
    out = []
    for v in values:
        v = plain(v)
        if isinstance(v, (bool, int, float, str)) or v is None:
            out.append(v)
        else:
            out.append(str(v))
    return out


class DataLayer(Layer):
    """A GeoDataFrame (WGS 84) drawn by the page runtime, with text-only popups and tooltips.

    Parameters
    ----------
    gdf
        Features in WGS 84; the columns named in ``fields``, ``tooltip`` and ``extra`` are kept.
    css_class
        Class names of every drawn path (tests and styles use them).
    style
        Leaflet path options shared by all features.
    fields
        Popup rows: (column, label, unit).
    popup_title
        A column shown as the popup's heading, or None.
    popup_note
        A sentence shown under the popup's rows (e.g. how a score is made), or None.
    tooltip
        A column shown on hover, or None; with ``tooltip_by_measure`` the column
        ``<tooltip>_<measure>`` of the chosen measure.
    fill_by
        ``{"prop", "colours", "byMeasure"}``: the fill colour from a class column.
    radius
        Circle-marker radius for point layers.
    interactive
        False for background layers (no popups, clicks pass through).
    show
        Whether the layer is on when the page opens.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.layer({{ this.spec_json }});
        {% endmacro %}
    """)

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        css_class: str,
        style: Mapping[str, Any],
        fields: Sequence[Field] = (),
        popup_title: str | None = None,
        popup_note: str | None = None,
        tooltip: str | None = None,
        tooltip_by_measure: bool = False,
        fill_by: Mapping[str, Any] | None = None,
        radius: float | None = None,
        interactive: bool = True,
        extra: Sequence[str] = (),
        show: bool = True,
    ) -> None:
        super().__init__(name=None, overlay=True, control=False, show=show)
        self._name = "GeoplanDataLayer"
        kind = _kind(gdf)
        scale = current_detail().scale
        coords, parts = encode_geometries(list(gdf.geometry), kind, scale)
        keep = [f[0] for f in fields] + list(extra)
        if popup_title:
            keep.append(popup_title)
        if tooltip:
            keep += ([f"{tooltip}_{m}" for m in ("buffer", "network", "population")]
                     if tooltip_by_measure else [tooltip])
        if fill_by:
            prop = str(fill_by["prop"])
            keep += ([f"{prop}_{m}" for m in ("buffer", "network", "population")]
                     if fill_by.get("byMeasure") else [prop])
        props = {c: _column(gdf[c].tolist()) for c in dict.fromkeys(keep) if c in gdf.columns}
        spec: dict[str, Any] = {
            "cls": css_class, "kind": kind, "n": len(gdf), "coords": coords, "props": props,
            "style": dict(style), "interactive": interactive,
            "fields": [list(f) for f in fields if f[0] in props] if interactive else [],
        }
        if parts is not None:
            spec["parts"] = parts
        if scale != SCALE:
            spec["scale"] = scale
        for key, value in (("popupTitle", popup_title), ("note", popup_note),
                           ("tooltip", tooltip if interactive else None),
                           ("fillBy", dict(fill_by) if fill_by else None), ("radius", radius)):
            if value:
                spec[key] = value
        if tooltip_by_measure:
            spec["tooltipByMeasure"] = True
        self.spec_json = script_json(spec)
        self.n_features = len(gdf)
        self.css_class = css_class


def add_layer(target: folium.Map | folium.FeatureGroup, gdf: gpd.GeoDataFrame, **kwargs: Any
              ) -> DataLayer | None:
    """Add ``gdf`` (WGS 84) to ``target`` as a :class:`DataLayer`; None when it is empty."""
    if len(gdf) == 0:
        return None
    layer = DataLayer(gdf, **kwargs)
    layer.add_to(target)
    return layer


__all__ = ["DataLayer", "Field", "add_layer", "add_runtime", "encode_geometries", "polyline", "polyline_runs",
           "runtime_js", "script_json"]
