"""Small static SVG maps of gap polygons for the per-district reports.

The SVG is written directly (paths, circles, text), not through matplotlib: a report has five
thumbnails per standard and district, and at city scale matplotlib's figure machinery was most
of the report step (about 40 ms per thumbnail against under 2 ms written directly). Text stays
SVG ``<text>`` so the browser draws the Chinese captions with its own fonts (no missing-glyph
boxes), and every text is XML-escaped. The thumbnails carry no element ids, so any number of
them can be inlined in one HTML page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["CJK_FONTS", "DistrictOutline", "gap_svg", "gap_view_box"]

CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
             "Hiragino Sans GB", "WenQuanYi Micro Hei", "SimHei", "DejaVu Sans", "sans-serif"]
"""Font families named in the SVG; the browser picks the first it has."""

_DPI = 72.0
_FONT = ", ".join(f"'{f}'" if " " in f else f for f in CJK_FONTS)


def _nice_length(span: float) -> float:
    """A round scale-bar length of about a quarter of ``span`` metres."""
    target = max(span / 4, 1.0)
    base = 10 ** np.floor(np.log10(target))
    for mult in (5, 2, 1):
        if mult * base <= target:
            return float(mult * base)
    return float(base)


def gap_view_box(gap: BaseGeometry, size_in: tuple[float, float] = (3.2, 2.6)) -> BaseGeometry:
    """The rectangle a gap thumbnail shows: the gap, padded, at the figure's aspect ratio."""
    minx, miny, maxx, maxy = gap.bounds
    span = max(maxx - minx, maxy - miny, 150.0)
    pad = span * 0.35
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_h = span / 2 + pad
    half_w = half_h * size_in[0] / size_in[1]
    return shapely.box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _objects(items: Sequence[BaseGeometry | None]) -> np.ndarray:
    """``items`` as a 1-D object array (for shapely's array functions)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


class _Canvas:
    """World metres to SVG pixels (y down), and SVG path data of shapely geometries."""

    def __init__(self, view: BaseGeometry, width: float, height: float) -> None:
        self.x0, _, _, self.y1 = view.bounds
        minx, _, maxx, _ = view.bounds
        self.scale = width / (maxx - minx)
        self.width, self.height = width, height

    def xy(self, coords: np.ndarray) -> np.ndarray:
        out = np.empty((len(coords), 2))
        out[:, 0] = (coords[:, 0] - self.x0) * self.scale
        out[:, 1] = (self.y1 - coords[:, 1]) * self.scale
        return out

    def _run(self, coords: np.ndarray, close: bool) -> str:
        px = self.xy(np.asarray(coords)[:, :2])
        # one printf-style call for the whole run: the same digits as f"{x:.1f}" per number
        pts = ("%.1f,%.1f " * len(px) % tuple(px.ravel().tolist()))[:-1]
        return f"M{pts}{'Z' if close else ''}"

    def path(self, geoms: Iterable[BaseGeometry | None]) -> str:
        """Path data of every polygon ring and line part of ``geoms``.

        Rings and lines are gathered with array calls and their points moved to the canvas at
        once; nested collections take the part-by-part route (:meth:`_path_parts`). Both give
        the same text.
        """
        arr = _objects([g for g in geoms if g is not None and not g.is_empty])
        if not len(arr):
            return ""
        parts = shapely.get_parts(arr)
        types = shapely.get_type_id(parts)
        if np.isin(types, (4, 5, 6, 7)).any():
            return self._path_parts(arr)
        # every ring (exterior, then holes) of each polygon and every line, in part order
        poly = np.flatnonzero(types == 3)
        line = np.flatnonzero(types == 1)
        rings, of_poly = shapely.get_rings(parts[poly], return_index=True)
        items = np.concatenate([rings, parts[line]])
        where = np.concatenate([poly[of_poly], line])
        closed = np.concatenate([np.ones(len(rings), dtype=bool), np.zeros(len(line), dtype=bool)])
        order = np.argsort(where, kind="stable")
        items, closed = items[order], closed[order]
        coords, of_item = shapely.get_coordinates(items, return_index=True)
        counts = np.bincount(of_item, minlength=len(items))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        px = self.xy(coords).ravel().tolist()
        runs: list[str] = []
        for start, n, close in zip(starts.tolist(), counts.tolist(), closed.tolist(), strict=True):
            if n < (3 if close else 2):
                continue
            pts = ("%.1f,%.1f " * n % tuple(px[2 * start:2 * (start + n)]))[:-1]
            runs.append(f"M{pts}{'Z' if close else ''}")
        return "".join(runs)

    def _path_parts(self, geoms: Iterable[BaseGeometry | None]) -> str:
        """:meth:`path` part by part (any nesting of collections)."""
        runs: list[str] = []
        for geom in geoms:
            if geom is None or geom.is_empty:
                continue
            for part in shapely.get_parts(geom):
                kind = part.geom_type
                if kind == "Polygon":
                    for ring in [part.exterior, *part.interiors]:
                        if len(ring.coords) >= 3:
                            runs.append(self._run(np.asarray(ring.coords), True))
                elif kind == "LineString" and len(part.coords) >= 2:
                    runs.append(self._run(np.asarray(part.coords), False))
                elif kind == "GeometryCollection" or kind.startswith("Multi"):
                    runs.append(self._path_parts([part]))
        return "".join(r for r in runs if r)


def _text(x: float, y: float, text: str, size: float, anchor: str = "start",
          weight: str = "normal", baseline: str = "auto") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
            f'font-weight="{weight}" dominant-baseline="{baseline}" fill="#111">'
            f"{escape(text)}</text>")


STREET_LABELS = 3
"""Named streets labelled per thumbnail at most (the longest pieces in view)."""


def _street_labels(cv: _Canvas, clipped: np.ndarray, names: Sequence[str]) -> list[str]:
    """Labels of the longest named streets in view, turned along their line (escaped).

    ``clipped`` are the roads clipped to the view (one per name).
    """
    if not len(names) or not len(clipped):
        return []
    length: dict[str, float] = {}
    where: dict[str, BaseGeometry] = {}
    for geom, name in zip(clipped, names, strict=True):
        name = str(name or "").strip()
        if not name or geom is None or geom.is_empty:
            continue
        pieces = list(getattr(geom, "geoms", [geom]))
        longest = max(pieces, key=lambda g: g.length)
        length[name] = length.get(name, 0.0) + geom.length
        if name not in where or longest.length > where[name].length:
            where[name] = longest
    out = []
    for name in sorted(length, key=lambda n: -length[n])[:STREET_LABELS]:
        line = where[name]
        if line.length * cv.scale < 40:  # too short to carry a label
            continue
        a, b = (cv.xy(np.array([[p.x, p.y]]))[0] for p in
                (line.interpolate(0.4, normalized=True), line.interpolate(0.6, normalized=True)))
        mid = cv.xy(np.array([[line.interpolate(0.5, normalized=True).x,
                               line.interpolate(0.5, normalized=True).y]]))[0]
        angle = float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        out.append(f'<text x="{mid[0]:.1f}" y="{mid[1]:.1f}" font-size="7.5" '
                   f'text-anchor="middle" dominant-baseline="middle" fill="#444" '
                   f'stroke="#f4f2ec" stroke-width="2.2" paint-order="stroke" '
                   f'transform="rotate({angle:.1f} {mid[0]:.1f} {mid[1]:.1f})">'
                   f"{escape(name)}</text>")
    return out


class DistrictOutline:
    """A district's outline prepared once for all the thumbnails of its page.

    Its boundary (the dashed line of each thumbnail, clipped to the view) and the simplified
    outline of the locator inset are the same for every gap of the district: made on first
    use and kept, not recomputed per thumbnail. Pass it as ``district`` to :func:`gap_svg`.
    """

    def __init__(self, geom: BaseGeometry) -> None:
        self.geom = geom
        self.is_empty = bool(geom.is_empty)
        self._boundary: BaseGeometry | None = None
        self._insets: dict[tuple[float, float], str] = {}

    @property
    def boundary(self) -> BaseGeometry:
        """The district's boundary (computed once)."""
        if self._boundary is None:
            self._boundary = self.geom.boundary
        return self._boundary

    def inset(self, w: float, h: float) -> str:
        """The locator inset's frame and outline path for a ``w`` × ``h`` thumbnail."""
        key = (w, h)
        if key not in self._insets:
            x0, y0, size, minx, maxy, scale = _inset_frame(self.geom, w, h)
            minx_, miny_, maxx_, maxy_ = self.geom.bounds
            span = max(maxx_ - minx_, maxy_ - miny_, 1.0)
            outline = shapely.simplify(self.geom, span / 150)
            rings = []
            for poly in getattr(outline, "geoms", [outline]):
                if poly.is_empty or not hasattr(poly, "exterior"):
                    continue
                pts = _inset_xy(np.asarray(poly.exterior.coords), x0, y0, minx, maxy, scale)
                rings.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
            self._insets[key] = (
                f'<g><rect x="{x0:.1f}" y="{y0:.1f}" width="{size:.1f}" height="{size:.1f}" '
                'fill="white" fill-opacity="0.85" stroke="#888" stroke-width="0.5"/>'
                f'<path d="{"".join(rings)}" fill="#e8e4da" stroke="#666" stroke-width="0.6"/>')
        return self._insets[key]


def _inset_frame(district: BaseGeometry, w: float, h: float
                 ) -> tuple[float, float, float, float, float, float]:
    """The inset's corner and size, and the district's left, top and scale in it."""
    size = 0.26 * h
    x0, y0 = w - size - 0.03 * w, h - size - 0.04 * h
    minx, miny, maxx, maxy = district.bounds
    span = max(maxx - minx, maxy - miny, 1.0)
    return x0, y0, size, minx, maxy, (size - 4) / span


def _inset_xy(coords: np.ndarray, x0: float, y0: float, minx: float, maxy: float,
              scale: float) -> np.ndarray:
    out = np.empty_like(coords)
    out[:, 0] = x0 + 2 + (coords[:, 0] - minx) * scale
    out[:, 1] = y0 + 2 + (maxy - coords[:, 1]) * scale
    return out


def _locator(district: DistrictOutline, gap: BaseGeometry, w: float, h: float) -> str:
    """A small inset (bottom right): the district's outline and where in it the gap lies."""
    x0, y0, _, minx, maxy, scale = _inset_frame(district.geom, w, h)
    c = _inset_xy(np.array([[gap.centroid.x, gap.centroid.y]]), x0, y0, minx, maxy, scale)[0]
    return (district.inset(w, h)
            + f'<circle cx="{c[0]:.1f}" cy="{c[1]:.1f}" r="2.6" fill="#d73027" stroke="#fff" '
            'stroke-width="0.8"/></g>')


def gap_svg(
    gap: BaseGeometry,
    *,
    district: BaseGeometry | DistrictOutline | None = None,
    roads: Sequence[BaseGeometry] = (),
    road_names: Sequence[str] = (),
    facilities: Sequence[BaseGeometry] = (),
    reached: BaseGeometry | Sequence[BaseGeometry] | None = None,
    caption: str = "",
    scale_label: str = "{n} m",
    north: str = "N",
    size_in: tuple[float, float] = (3.2, 2.6),
) -> str:
    """An inline SVG (``<svg …>…</svg>``) of one gap polygon and its surroundings.

    Parameters
    ----------
    gap
        The uncovered polygon, in a projected CRS (metres).
    district
        The district outline (drawn as a dashed line), or its :class:`DistrictOutline` (made
        once for all the thumbnails of a district).
    roads, facilities
        Road lines and facility points near the gap (same CRS); clipped to the view.
    road_names
        The name of each road (same order as ``roads``; '' for none): the longest named
        streets in view are labelled along their line, so the gap can be found on the ground.
    reached
        The area already served (drawn lightly), if known: one geometry or its parts (such as
        the per-district reach areas near the gap).
    caption
        Text drawn in the top-left corner (Chinese is fine: it stays text; it is escaped).
    scale_label
        Format of the scale-bar label, with ``{n}`` the length in metres.
    north
        The north arrow's letter.
    size_in
        Width and height in inches (at 72 px per inch).

    Returns
    -------
    str
        SVG markup without element ids, ready to inline in HTML.
    """
    view = gap_view_box(gap, size_in)
    w, h = size_in[0] * _DPI, size_in[1] * _DPI
    outline = (district if isinstance(district, DistrictOutline) or district is None
               else DistrictOutline(district))
    cv = _Canvas(view, w, h)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:g}pt" height="{h:g}pt" '
        f'viewBox="0 0 {w:g} {h:g}" font-family="{escape(_FONT)}">',
        f'<rect width="{w:g}" height="{h:g}" fill="#f4f2ec"/>',
    ]
    served = [reached] if isinstance(reached, BaseGeometry) else list(reached or ())
    # each part clipped on its own: parts of neighbouring districts may touch
    served_d = cv.path(shapely.intersection(
        _objects([p for p in served if p is not None and not p.is_empty]), view))
    if served_d:
        parts.append(f'<path d="{served_d}" fill="#4575b4" fill-opacity="0.18" fill-rule="evenodd"/>')
    clipped_roads = shapely.intersection(_objects(list(roads)), view)  # once: lines and labels
    roads_d = cv.path(clipped_roads)
    if roads_d:
        parts.append(f'<path d="{roads_d}" fill="none" stroke="#9a9a9a" stroke-width="0.8"/>')
    gap_d = cv.path([gap])
    if gap_d:
        parts.append(f'<path d="{gap_d}" fill="#54278f" fill-opacity="0.55" fill-rule="evenodd" '
                     'stroke="#54278f" stroke-width="1.2"/>')
    if outline is not None and not outline.is_empty:
        edge_d = cv.path([shapely.intersection(outline.boundary, view)])
        if edge_d:
            parts.append(f'<path d="{edge_d}" fill="none" stroke="#333333" stroke-width="1" '
                         'stroke-dasharray="3.7,1.6"/>')
    parts += _street_labels(cv, clipped_roads, road_names)
    pts = [p for p in facilities if p is not None and not p.is_empty and view.contains(p)]
    if pts:
        xy = cv.xy(shapely.get_coordinates(np.asarray(pts, dtype=object)))
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.4" fill="#1a9850" stroke="#222" '
                  'stroke-width="0.6"/>' for x, y in xy]
    # scale bar (bottom left) and north arrow (top right)
    metres = _nice_length(w / cv.scale)
    bar_px = metres * cv.scale
    x0, y0 = 0.06 * w, h - 0.08 * h
    parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x0 + bar_px:.1f}" y2="{y0:.1f}" '
                 'stroke="#222" stroke-width="2.2"/>')
    parts.append(_text(x0 + bar_px / 2, y0 - 0.03 * h - 1, scale_label.format(n=f"{metres:g}"), 8,
                       anchor="middle"))
    ax, top, base = 0.94 * w, 0.04 * h, 0.19 * h
    parts.append(f'<line x1="{ax:.1f}" y1="{base:.1f}" x2="{ax:.1f}" y2="{top + 5:.1f}" '
                 'stroke="#222" stroke-width="1"/>')
    parts.append(f'<path d="M{ax - 3:.1f},{top + 6:.1f}L{ax:.1f},{top:.1f}L{ax + 3:.1f},'
                 f'{top + 6:.1f}Z" fill="#222"/>')
    parts.append(_text(ax, base + 9, north, 8, anchor="middle"))
    if outline is not None and not outline.is_empty:
        parts.append(_locator(outline, gap, w, h))
    if caption:
        cx_, cy_ = 0.025 * w, 0.05 * h
        est = 9 * (sum(2 if ord(c) > 0x2E80 else 1.1 for c in caption) / 2 + 0.5)
        parts.append(f'<rect x="{cx_ - 1.5:.1f}" y="{cy_ - 1.5:.1f}" width="{est + 3:.1f}" '
                     'height="14" fill="white" fill-opacity="0.8"/>')
        parts.append(_text(cx_, cy_ + 9, caption, 9, weight="bold"))
    parts.append("</svg>")
    return "".join(parts)
