"""Small static SVG maps of gap polygons for the per-district reports.

Text is written as SVG ``<text>`` (``svg.fonttype: 'none'``), not as glyph outlines, so the
browser draws the Chinese captions with its own fonts: no missing-glyph boxes whatever fonts
matplotlib finds on the machine that wrote the report. The figure is built with matplotlib's
object API (no pyplot state), so reports can be written from worker threads.
"""

from __future__ import annotations

import io
import itertools
import re
import warnings
from collections.abc import Sequence
from typing import Any, cast

import matplotlib
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry.base import BaseGeometry

CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
             "Hiragino Sans GB", "WenQuanYi Micro Hei", "SimHei", "DejaVu Sans", "sans-serif"]
"""Font families named in the SVG; the browser picks the first it has."""

_RC = {"svg.fonttype": "none", "font.family": "sans-serif", "font.sans-serif": CJK_FONTS,
       "svg.hashsalt": "geoplan"}
_COUNTER = itertools.count(1)


def _polygon_path(geom: BaseGeometry) -> MplPath | None:
    """A matplotlib path of a (multi)polygon, holes included."""
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in polys:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _draw_polygons(ax: Axes, geoms: Sequence[BaseGeometry], **style: Any) -> None:
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type in ("Polygon", "MultiPolygon"):
                path = _polygon_path(part)
                if path is not None:
                    ax.add_patch(PathPatch(path, **style))


def _draw_lines(ax: Axes, geoms: Sequence[BaseGeometry], **style: Any) -> None:
    """All line parts of ``geoms`` as one collection (one SVG group, fast to write)."""
    segments = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "LineString":
                segments.append(np.asarray(part.coords)[:, :2])
    if segments:
        ax.add_collection(LineCollection(segments, **style))


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


def gap_svg(
    gap: BaseGeometry,
    *,
    district: BaseGeometry | None = None,
    roads: Sequence[BaseGeometry] = (),
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
        The district outline (drawn as a thin line).
    roads, facilities
        Road lines and facility points near the gap (same CRS); clipped to the view.
    reached
        The area already served (drawn lightly), if known: one geometry or its parts (such as
        the per-district reach areas near the gap).
    caption
        Text drawn in the top-left corner (Chinese is fine: it stays text).
    scale_label
        Format of the scale-bar label, with ``{n}`` the length in metres.
    north
        The north arrow's letter.

    Returns
    -------
    str
        SVG markup with element ids made unique, ready to inline in HTML.
    """
    view = gap_view_box(gap, size_in)
    minx, miny, maxx, maxy = view.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = (maxx - minx) / 2, (maxy - miny) / 2

    with matplotlib.rc_context(cast(Any, _RC)), warnings.catch_warnings():
        # layout may measure CJK text with a font that lacks it; the browser draws the text
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        warnings.filterwarnings("ignore", message=r"findfont: ")
        fig = Figure(figsize=size_in, dpi=72)
        FigureCanvasSVG(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(cx - half_w, cx + half_w)
        ax.set_ylim(cy - half_h, cy + half_h)
        ax.set_aspect("equal")
        frame = _polygon_path(view)
        if frame is not None:
            ax.add_patch(PathPatch(frame, facecolor="#f4f2ec", edgecolor="none"))
        parts = ([reached] if isinstance(reached, BaseGeometry) else list(reached or ()))
        parts = [p for p in parts if p is not None and not p.is_empty]
        if parts:  # each part clipped on its own: parts of neighbouring districts may touch
            _draw_polygons(ax, [shapely.intersection(p, view) for p in parts],
                           facecolor="#4575b4", alpha=0.18, edgecolor="none")
        clipped_roads = [shapely.intersection(r, view) for r in roads]
        _draw_lines(ax, clipped_roads, colors="#9a9a9a", linewidths=0.8)
        _draw_polygons(ax, [gap], facecolor="#54278f", alpha=0.55, edgecolor="#54278f",
                       linewidth=1.2)
        if district is not None:
            _draw_lines(ax, [shapely.intersection(district.boundary, view)], colors="#333333",
                        linewidths=1.0, linestyles="--")
        pts = [p for p in facilities if p is not None and not p.is_empty and view.contains(p)]
        if pts:
            xy = np.array([[p.x, p.y] for p in pts])
            ax.scatter(xy[:, 0], xy[:, 1], s=18, c="#1a9850", edgecolors="#222", linewidths=0.6,
                       zorder=5)
        # scale bar (bottom left) and north arrow (top right)
        length = _nice_length(2 * half_w)
        x0, y0 = cx - half_w + 0.06 * 2 * half_w, cy - half_h + 0.08 * 2 * half_h
        ax.plot([x0, x0 + length], [y0, y0], color="#222", linewidth=2.2, solid_capstyle="butt")
        ax.text(x0 + length / 2, y0 + 0.03 * 2 * half_h, scale_label.format(n=f"{length:g}"),
                ha="center", va="bottom", fontsize=8, color="#222")
        ax.annotate(north, xy=(cx + half_w * 0.88, cy + half_h * 0.92),
                    xytext=(cx + half_w * 0.88, cy + half_h * 0.62), ha="center", va="center",
                    fontsize=8, arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1})
        if caption:
            ax.text(cx - half_w * 0.95, cy + half_h * 0.9, caption, ha="left", va="top",
                    fontsize=9, color="#111", fontweight="bold",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5})
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buf.getvalue())


def _inline(svg: str) -> str:
    """Strip the XML prologue and make every id unique within the HTML page."""
    start = svg.find("<svg")
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg[start:], flags=re.DOTALL)
    prefix = f"g{next(_COUNTER)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'\bhref="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    return svg
