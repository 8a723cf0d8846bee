"""Demand: where the people (or the street length) are that a facility must serve.

Two kinds of demand:

* **Residential grid** (:func:`residential_grid`): residential land (居住用地) clipped to each
  district and cut by a regular grid (default 25 m). Each piece becomes one demand point that
  carries the exact area of its piece, so the points' areas sum to the residential area exactly.
* **Street samples** (:func:`street_samples`): lines of a class (main streets, other public
  roads, paths in riverside parks) clipped to each district and cut into equal pieces of at most
  ``street_sample_m`` metres; each piece's midpoint is one demand point carrying the piece's
  length.

Everything is vectorised with shapely 2; there is no Python loop over features.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._clip import polygonal
from geoplan._errors import ConfigError, InputDataError
from geoplan._groups import positions_by_code
from geoplan._lines import line_substrings
from geoplan._threads import prepared_for, private_copies, thread_map
from geoplan.crs import ensure_projected
from geoplan.vocab import LINEAR_KINDS

logger = logging.getLogger(__name__)

__all__ = [
    "LINEAR_KINDS",
    "RIVERSIDE_PARK_DISTANCE_M",
    "Demand",
    "GridPieces",
    "LineSamples",
    "demand_lines",
    "residential_grid",
    "residential_land",
    "street_samples",
]


RIVERSIDE_PARK_DISTANCE_M = 50.0
"""A park lies along water when it is within this distance of a water area or waterway."""


@dataclass(eq=False)
class LineSamples:
    """Street samples as arrays: the line each sample lies on and where along it.

    Holding these instead of one LineString and one Point per sample keeps the memory of a
    city's street demand to a few numbers per sample; the geometries of the samples of one
    district are built when they are needed (:meth:`pieces`, :meth:`points`) and freed after.

    Attributes
    ----------
    lines
        The street lines, clipped to their district (LineStrings).
    line
        Position in ``lines`` of each sample's line.
    start
        Metres from the line's start to the sample's start.
    length
        Length of each sample in metres.
    """

    lines: np.ndarray
    line: np.ndarray
    start: np.ndarray
    length: np.ndarray

    def pieces(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The LineString of each sample in ``idx``."""
        start, length = self.start[idx], self.length[idx]
        return line_substrings(self.lines[self.line[idx]], start, start + length)

    def points(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The midpoint of each sample in ``idx``."""
        return shapely.line_interpolate_point(self.lines[self.line[idx]],
                                              self.start[idx] + self.length[idx] / 2)


@dataclass(eq=False)
class GridPieces:
    """Residential grid pieces as arrays: the grid cell of each piece and where its point is.

    A piece is its grid cell where the cell lies wholly inside the residential land (most
    pieces); only the pieces the land's boundary cuts are kept as geometry, in the compact
    well-known binary (about a third of a GEOS polygon's memory). :meth:`pieces` builds the
    polygons of any subset anew (the same coordinates as cutting the grid again), so a city's
    residential demand costs a few numbers per piece while its polygons are built one district
    at a time and freed after.

    Attributes
    ----------
    ix, iy
        Column and row of each piece's grid cell (the cell spans ``ix * grid_m`` to
        ``(ix + 1) * grid_m`` in x, and the same in y).
    cut
        Position in ``cut_wkb`` of each piece the land's boundary cuts; -1 for a whole cell.
    cut_wkb
        The cut pieces as WKB.
    x, y
        Each piece's demand point (its centroid, or a point on its surface).
    grid_m
        Grid spacing in metres.
    held
        Every piece, built once, for a grid of at most :data:`GRID_HOLD_MAX` pieces (None
        above: built per subset).
    """

    ix: np.ndarray
    iy: np.ndarray
    cut: np.ndarray
    cut_wkb: np.ndarray
    x: np.ndarray
    y: np.ndarray
    grid_m: float
    held: np.ndarray | None = None

    def hold(self) -> None:
        """Build every piece once and keep them (a small grid: rebuilding costs more than the
        memory it saves; see :data:`GRID_HOLD_MAX`)."""
        self.held = None
        self.held = self.pieces()

    def pieces(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The Polygon (or MultiPolygon) of each piece in ``idx``."""
        if self.held is not None:
            return np.asarray(self.held[idx], dtype=object)
        g = self.grid_m
        cx, cy = self.ix[idx].astype(np.int64), self.iy[idx].astype(np.int64)
        out = np.asarray(shapely.box(cx * g, cy * g, (cx + 1) * g, (cy + 1) * g), dtype=object)
        pos = self.cut[idx]
        has = pos >= 0
        if has.any():
            out[has] = shapely.from_wkb(self.cut_wkb[pos[has]])
        return out

    def points(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The demand point of each piece in ``idx``."""
        return shapely.points(self.x[idx], self.y[idx])


class Demand:
    """Demand points of one kind, each carrying an amount (m² of land or m of street).

    Parameters
    ----------
    kind
        The demand kind: ``residential`` or one of :data:`LINEAR_KINDS`.
    points
        Shapely Points (analysis CRS), one per demand piece; None when ``samples`` gives them.
    pieces
        The piece each point stands for: a Polygon of residential land or a LineString of
        street; None when ``samples`` gives them.
    amount
        m² (residential) or m (streets) of each piece.
    district
        Index (position in the districts layer) of the district each piece lies in.
    crs
        The analysis CRS.
    samples
        Street samples (:class:`LineSamples`) or residential grid pieces (:class:`GridPieces`)
        as arrays, from which the points and pieces are built when asked for.
    """

    def __init__(self, kind: str, points: np.ndarray | None, pieces: np.ndarray | None,
                 amount: np.ndarray, district: np.ndarray, crs: object,
                 samples: LineSamples | GridPieces | None = None) -> None:
        if samples is None and (points is None or pieces is None):
            raise ValueError("Demand needs its points and pieces, or the samples that give them")
        self.kind = kind
        self._points = points
        self._pieces = pieces
        self.amount = amount
        self.district = district
        self.crs = crs
        self.samples = samples

    def __len__(self) -> int:
        return len(self.amount)

    @property
    def points(self) -> np.ndarray:
        """Shapely Points, one per demand piece (built anew from arrays: prefer :meth:`xy`)."""
        if self._points is not None:
            return self._points
        assert self.samples is not None
        return self.samples.points()

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every demand point (no geometry built for grid pieces)."""
        if isinstance(self.samples, GridPieces):
            return self.samples.x, self.samples.y
        pts = self.points
        return shapely.get_x(pts), shapely.get_y(pts)

    @property
    def pieces(self) -> np.ndarray:
        """Every demand piece (built anew from arrays: prefer :meth:`pieces_of`)."""
        if self._pieces is not None:
            return self._pieces
        assert self.samples is not None
        return self.samples.pieces()

    def pieces_of(self, idx: np.ndarray) -> np.ndarray:
        """The pieces at positions ``idx`` (built for just those when they are street samples)."""
        if self._pieces is not None:
            return self._pieces[idx]
        assert self.samples is not None
        return self.samples.pieces(idx)

    @property
    def unit(self) -> str:
        """``'m2'`` for residential demand, ``'m'`` for street length."""
        return "m" if self.kind in LINEAR_KINDS else "m2"

    @property
    def is_linear(self) -> bool:
        """True for street-length demand."""
        return self.kind in LINEAR_KINDS

    def totals(self, n_districts: int) -> np.ndarray:
        """Total amount per district (length ``n_districts``)."""
        return np.bincount(self.district, weights=self.amount, minlength=n_districts)

    def frame(self) -> gpd.GeoDataFrame:
        """The points as a GeoDataFrame (columns ``district``, ``amount``)."""
        return gpd.GeoDataFrame(
            {"district": self.district, "amount": self.amount},
            geometry=gpd.GeoSeries(self.points, crs=self.crs),
            crs=self.crs,
        )


def _empty(kind: str, crs: object) -> Demand:
    none = np.zeros(0, dtype=object)
    return Demand(kind, none, none.copy(), np.zeros(0), np.zeros(0, dtype=np.int64), crs)


def residential_land(residential: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Residential land inside each district, overlaps dissolved.

    Parameters
    ----------
    residential
        The canonical ``residential`` layer.
    districts
        The districts layer.

    Returns
    -------
    numpy.ndarray
        One (possibly empty) polygonal geometry per district, in district order.
    """
    ensure_projected(districts, "districts")
    ensure_projected(residential, "residential layer")
    dgeoms = districts.geometry.to_numpy()
    geoms = shapely.make_valid(residential.geometry.to_numpy())
    # each district's land from the polygons that meet it: the city-wide union intersected
    # with every district cost the whole city's outline once per district
    di, ri = shapely.STRtree(geoms).query(dgeoms, predicate="intersects")

    def land_of(d_rows: tuple[int, np.ndarray]) -> BaseGeometry:
        d, rows = d_rows
        if not len(rows):
            return shapely.Polygon()
        return shapely.intersection(shapely.union_all(geoms[np.sort(ri[rows])]), dgeoms[d])

    out = np.empty(len(dgeoms), dtype=object)
    out[:] = thread_map(land_of, enumerate(positions_by_code(di, len(dgeoms))))
    return polygonal(out)


BYTES_PER_GRID_CELL = 600
"""Estimated peak memory per candidate grid cell while the grid is cut: a shapely box (about
200 B with its GEOS object), its piece and point, and the index and mask arrays; deliberately
on the high side, since the check only has to stop grids that cannot fit at all."""


def available_memory() -> int:
    """Bytes of memory available to this process (Linux MemAvailable; 8 GiB when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 8 << 30


def check_grid_size(n_cells: int, grid_m: float) -> None:
    """Refuse a demand grid that would not fit in memory, before allocating it.

    Raises
    ------
    ConfigError
        Naming ``demand.grid_m``, the number of grid cells and the memory they would need.
    """
    need = n_cells * BYTES_PER_GRID_CELL
    have = available_memory()
    if need > 0.5 * have:
        raise ConfigError("configuration", [
            f"demand.grid_m: a {grid_m:g} m grid over the residential land makes about "
            f"{n_cells:,} grid cells, which need about {need / 2**30:.1f} GB of memory; this "
            f"machine has {have / 2**30:.1f} GB free. Use a coarser grid (25 m is the default; "
            f"{_suggest(n_cells, grid_m, have)} m would fit)"
        ])


def _suggest(n_cells: int, grid_m: float, have: int) -> str:
    fits = 0.25 * have / BYTES_PER_GRID_CELL
    return f"{max(grid_m * float(np.sqrt(n_cells / fits)), grid_m * 2):.0f}"


GRID_HOLD_MAX = 100_000
"""Up to this many residential grid pieces (about 60 MB as polygons) are built once and held;
above, each subset is built anew when needed (about 1 µs a piece) and freed after, so a city's
demand costs about 50 bytes a piece instead of about 600."""

GRID_CHUNK = 200_000
"""Grid cells cut against the land at a time (bounds the memory of the candidate boxes)."""


@dataclass(eq=False)
class _Chunk:
    """One chunk of cut grid cells, as arrays (see :class:`GridPieces`)."""

    cx: np.ndarray
    cy: np.ndarray
    cut: np.ndarray
    cut_wkb: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    owner: np.ndarray


def _cut_cells(parts: np.ndarray, spans: np.ndarray, owner: np.ndarray, local: np.ndarray,
               ix0: np.ndarray, iy0: np.ndarray, nx: np.ndarray, grid_m: float) -> _Chunk:
    """One chunk of candidate grid cells cut by their land part, as arrays.

    Cells wholly inside their part are kept as they are; cells its boundary crosses are
    intersected with it; cells with no land are dropped. Each piece's point is its centroid,
    or a point on its surface when the centroid falls outside (L-shaped pieces). Only the cut
    pieces are kept as geometry (WKB); the chunk's polygons are freed on return.

    The chunk prepares the parts it cuts; a part that spans chunks (``spans``) is cut by the
    others at the same time, on other threads, so the chunk prepares a copy of its own (see
    :mod:`geoplan._threads`).
    """
    cx = ix0[owner] + local % nx[owner]
    cy = iy0[owner] + local // nx[owner]
    cells = shapely.box(cx * grid_m, cy * grid_m, (cx + 1) * grid_m, (cy + 1) * grid_m)
    used, at = np.unique(owner, return_inverse=True)
    land = parts[used]  # the same objects
    land[spans[used]] = private_copies(land[spans[used]])
    shapely.prepare(land)
    land = land[at]
    inside = shapely.contains_properly(land, cells)
    hits = shapely.intersects(land, cells)
    pieces = np.asarray(np.where(inside, cells, None), dtype=object)
    edge = hits & ~inside
    if edge.any():
        pieces[edge] = polygonal(shapely.intersection(cells[edge], land[edge]))
    keep = hits.copy()
    area = np.zeros(len(cells))
    area[keep] = shapely.area(pieces[keep])
    keep &= area > 0
    pieces, edge = pieces[keep], edge[keep]
    points = shapely.centroid(pieces)
    outside = ~shapely.contains(pieces, points)
    if outside.any():
        points[outside] = shapely.point_on_surface(pieces[outside])
    cut = np.full(len(pieces), -1, dtype=np.int64)
    cut[edge] = np.arange(int(edge.sum()))
    return _Chunk(cx[keep], cy[keep], cut, np.asarray(shapely.to_wkb(pieces[edge]), dtype=object),
                  shapely.get_x(points), shapely.get_y(points), area[keep], owner[keep])


def _join_chunks(chunks: list[_Chunk], grid_m: float) -> tuple[GridPieces, np.ndarray, np.ndarray]:
    """The chunks as one :class:`GridPieces`, with each piece's area and land part."""
    if not chunks:
        chunks = [_Chunk(*(np.zeros(0, dtype=np.int64),) * 3, np.zeros(0, dtype=object),
                         np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))]
    offsets = np.cumsum([0] + [len(c.cut_wkb) for c in chunks[:-1]])
    cut = np.concatenate([np.where(c.cut >= 0, c.cut + o, -1) for c, o in zip(chunks, offsets,
                                                                              strict=True)])
    cells = GridPieces(
        ix=np.concatenate([c.cx for c in chunks]).astype(np.int32),
        iy=np.concatenate([c.cy for c in chunks]).astype(np.int32),
        cut=cut.astype(np.int32), cut_wkb=np.concatenate([c.cut_wkb for c in chunks]),
        x=np.concatenate([c.x for c in chunks]), y=np.concatenate([c.y for c in chunks]),
        grid_m=float(grid_m))
    return (cells, np.concatenate([c.area for c in chunks]),
            np.concatenate([c.owner for c in chunks]))


def residential_grid(
    residential: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    grid_m: float = 25.0,
    land: np.ndarray | None = None,
) -> Demand:
    """Cut residential land into grid pieces, one demand point per piece, held as arrays.

    The grid is aligned on multiples of ``grid_m`` in the analysis CRS, so results do not depend
    on the order of the input. A piece's point is its centroid, or a point on its surface when the
    centroid falls outside (L-shaped pieces).

    Parameters
    ----------
    residential
        The canonical ``residential`` layer (projected CRS, metres).
    districts
        The districts layer.
    grid_m
        Grid spacing in metres (> 0).
    land
        :func:`residential_land` of ``residential`` and ``districts`` when already made (the
        coverage context holds it); made here when None.

    Returns
    -------
    Demand
        Kind ``residential``; ``amount`` is the piece area in m²; the pieces and points as
        :class:`GridPieces` (built per subset by :meth:`Demand.pieces_of`).
    """
    ensure_projected(districts, "districts")
    ensure_projected(residential, "residential layer")
    if not grid_m > 0:
        raise InputDataError(f"demand grid spacing must be > 0 m, got {grid_m!r}")
    crs = districts.crs
    if land is None:
        land = residential_land(residential, districts)
    parts, dist_idx = shapely.get_parts(land, return_index=True)
    keep = shapely.area(parts) > 0
    parts, dist_idx = parts[keep], dist_idx[keep]
    if len(parts) == 0:
        return _empty("residential", crs)

    b = shapely.bounds(parts)
    ix0 = np.floor(b[:, 0] / grid_m).astype(np.int64)
    iy0 = np.floor(b[:, 1] / grid_m).astype(np.int64)
    ix1 = np.maximum(np.ceil(b[:, 2] / grid_m).astype(np.int64), ix0 + 1)
    iy1 = np.maximum(np.ceil(b[:, 3] / grid_m).astype(np.int64), iy0 + 1)
    nx, ny = ix1 - ix0, iy1 - iy0
    ncell = nx * ny
    check_grid_size(int(ncell.sum()), grid_m)
    owner = np.repeat(np.arange(len(parts)), ncell)
    local = np.arange(int(ncell.sum())) - np.repeat(np.cumsum(ncell) - ncell, ncell)
    # cut in chunks of cells: the candidate boxes of the whole city at once were the largest
    # peak of memory of the coverage step; each chunk keeps only the pieces that hold land
    # and only the cut pieces are kept as geometry: the whole cells are rebuilt from their
    # column and row when a district's pieces are needed (GridPieces)
    starts = np.arange(0, len(owner), GRID_CHUNK)
    slices = [(owner[a:a + GRID_CHUNK], local[a:a + GRID_CHUNK])
              for a in starts]  # views, no copies
    spans = np.zeros(len(parts), dtype=bool)  # the parts cut by more than one chunk
    spans[owner[starts[1:]][owner[starts[1:]] == owner[starts[1:] - 1]]] = True
    chunks = thread_map(lambda ol: _cut_cells(parts, spans, ol[0], ol[1], ix0, iy0, nx, grid_m),
                        slices, unit="chunk")
    del slices
    del local
    cells, area, owner = _join_chunks(chunks, grid_m)
    del chunks
    if len(area) <= GRID_HOLD_MAX:
        cells.hold()
    demand = Demand("residential", None, None, area, dist_idx[owner].astype(np.int64), crs,
                    samples=cells)
    logger.info(
        "residential demand: %d grid points (%.0f m grid) over %.2f km² of residential land",
        len(demand), grid_m, area.sum() / 1e6,
    )
    return demand


def demand_lines(layers: dict[str, gpd.GeoDataFrame], kind: str) -> np.ndarray:
    """The lines whose length is the demand of a linear kind (not yet clipped to districts).

    ``street_main``: roads of class ``main``. ``street_general``: every other public road
    (``general`` and public ``service`` roads). ``riverside_park_paths``: walkways inside parks
    that lie within :data:`RIVERSIDE_PARK_DISTANCE_M` of a water area or waterway. A stretch
    that two ways both run along (OSM ways sharing nodes) is counted once
    (:func:`without_repeated_segments`).

    Parameters
    ----------
    layers
        Canonical layers by kind (a :class:`~geoplan.layers.LayerSet` works too).
    kind
        One of :data:`LINEAR_KINDS`.

    Returns
    -------
    numpy.ndarray
        Shapely line geometries.
    """
    if kind == "street_main":
        roads = layers["roads"]
        return without_repeated_segments(
            roads.geometry.to_numpy()[(roads["road_class"] == "main").to_numpy()])
    if kind == "street_general":
        roads = layers["roads"]
        mask = (roads["road_class"] != "main").to_numpy() & roads["is_public"].to_numpy(dtype=bool)
        return without_repeated_segments(roads.geometry.to_numpy()[mask])
    if kind == "riverside_park_paths":
        parks = layers["parks"].geometry.to_numpy()
        water = np.concatenate([layers["water"].geometry.to_numpy(),
                                layers["waterways"].geometry.to_numpy()])
        walk = layers["walkways"].geometry.to_numpy()
        if len(parks) == 0 or len(water) == 0 or len(walk) == 0:
            return np.zeros(0, dtype=object)
        tree = shapely.STRtree(water)
        pi, _ = tree.query(parks, predicate="dwithin", distance=RIVERSIDE_PARK_DISTANCE_M)
        riverside = parks[np.unique(pi)]
        if len(riverside) == 0:
            return np.zeros(0, dtype=object)
        # each walkway cut by the riverside parts it meets, never by the whole city's: the
        # overlay of a walkway with the city-wide union was 51 of 53 s at 196 tiles
        parts = shapely.get_parts(shapely.union_all(riverside))
        wi, pi = shapely.STRtree(parts).query(walk, predicate="intersects")
        if len(wi) == 0:
            return np.zeros(0, dtype=object)
        order = np.lexsort((pi, wi))
        wi, pi = wi[order], pi[order]
        first = np.flatnonzero(np.r_[True, wi[1:] != wi[:-1]])
        count = np.diff(np.r_[first, len(wi)])
        clip = parts[pi[first]]
        several = np.flatnonzero(count > 1)  # walkways across two or more parts: all of them
        if len(several):
            groups = np.repeat(np.arange(len(several)), count[several])
            members = np.concatenate([pi[first[k]:first[k] + count[k]] for k in several])
            clip[several] = shapely.multipolygons(parts[members], indices=groups)
        return without_repeated_segments(_lineal(shapely.intersection(walk[wi[first]], clip)))
    raise ValueError(f"{kind!r} is not a linear demand kind; use one of {LINEAR_KINDS}")


def without_repeated_segments(lines: np.ndarray, tolerance_m: float = 1e-3) -> np.ndarray:
    """``lines`` with each straight segment that an earlier line already has taken out.

    Two OSM ways along the same nodes (a street mapped twice over a stretch, a bus route drawn
    as a way) are one street: counted twice, the stretch doubled the street demand and its
    uncovered length (1,644 m in the embedded extract's general roads, 4 % of 青羊区's
    uncovered length of 一般道路公厕500米, against the street gaps, which are a union). Segments
    are compared end points rounded to ``tolerance_m``, in either direction; a line that loses
    segments is split into its remaining runs; lines that lose none are returned as they are.

    Examples
    --------
    >>> a = shapely.LineString([(0, 0), (10, 0), (20, 0)])
    >>> b = shapely.LineString([(20, 0), (10, 0), (10, 10)])
    >>> [g.wkt for g in without_repeated_segments(np.array([a, b]))]
    ['LINESTRING (0 0, 10 0, 20 0)', 'LINESTRING (10 0, 10 10)']
    """
    lines = np.asarray(lines, dtype=object)
    if len(lines) < 2:
        return lines
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[1:] == owner[:-1]
    start, end, seg_owner = xy[:-1][same], xy[1:][same], owner[:-1][same]
    a, b = np.round(start / tolerance_m), np.round(end / tolerance_m)
    flip = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    key = np.column_stack([np.where(flip[:, None], b, a), np.where(flip[:, None], a, b)])
    _, first = np.unique(key, axis=0, return_index=True)
    repeated = np.ones(len(key), dtype=bool)
    repeated[first] = False  # the first line along a segment keeps it (lines in order)
    if not repeated.any():
        return lines
    hit = np.unique(seg_owner[repeated])
    keep = np.ones(len(lines), dtype=bool)
    keep[hit] = False
    runs: list[object] = []
    bounds = np.searchsorted(seg_owner, np.column_stack([hit, hit + 1]))  # owners are sorted
    for lo, hi in bounds.tolist():
        mine = np.arange(lo, hi)
        cut = np.flatnonzero(np.diff(repeated[mine].astype(np.int8)) != 0) + 1
        for run in np.split(mine, cut):
            if not repeated[run[0]]:
                runs.append(shapely.LineString(np.vstack([start[run], end[run[-1:]]])))
    return np.concatenate([lines[keep], np.asarray(runs, dtype=object)])


def _lineal(geoms: np.ndarray) -> np.ndarray:
    """Explode to single LineStrings and drop non-lines and zero lengths."""
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    if len(parts) == 0:
        return parts
    parts = parts[shapely.get_type_id(parts) == 1]
    return parts[shapely.length(parts) > 0]


def street_samples(
    lines: np.ndarray,
    districts: gpd.GeoDataFrame,
    kind: str,
    step_m: float = 25.0,
) -> Demand:
    """Sample lines every <= ``step_m`` metres, per district.

    Each line part inside a district is cut into ``ceil(length / step_m)`` equal pieces; each
    piece is one demand point at its midpoint carrying the piece length, so lengths sum exactly
    to the line length inside the district.

    Parameters
    ----------
    lines
        Line geometries (analysis CRS).
    districts
        The districts layer.
    kind
        The demand kind to record (one of :data:`LINEAR_KINDS`).
    step_m
        Maximum sampling step in metres (> 0).

    Returns
    -------
    Demand
        ``amount`` is the piece length in metres.
    """
    ensure_projected(districts, "districts")
    if not step_m > 0:
        raise InputDataError(f"street sampling step must be > 0 m, got {step_m!r}")
    crs = districts.crs
    lines = _lineal(lines)
    if len(lines) == 0:
        return _empty(kind, crs)
    dgeoms = districts.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    di, li = tree.query(dgeoms, predicate="intersects")
    with prepared_for(dgeoms):  # the districts' own shapes: not left prepared
        inside = shapely.contains_properly(dgeoms[di], lines[li])
    clipped = lines[li].copy()
    cross = ~inside  # only lines crossing a district line need the overlay
    clipped[cross] = shapely.intersection(lines[li][cross], dgeoms[di][cross])
    parts, pidx = shapely.get_parts(clipped, return_index=True)
    is_line = (shapely.get_type_id(parts) == 1)
    parts, pidx = parts[is_line], pidx[is_line]
    # multi-part results (MultiLineString) explode again
    more = shapely.get_type_id(parts) == 5
    if more.any():
        sub, sidx = shapely.get_parts(parts[more], return_index=True)
        parts = np.concatenate([parts[~more], sub])
        pidx = np.concatenate([pidx[~more], pidx[more][sidx]])
    length = shapely.length(parts)
    keep = length > 0
    parts, pidx, length = parts[keep], pidx[keep], length[keep]
    if len(parts) == 0:
        return _empty(kind, crs)
    n = np.maximum(np.ceil(length / step_m - 1e-9), 1).astype(np.int64)
    owner = np.repeat(np.arange(len(parts)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    piece_len = length[owner] / n[owner]
    start = k * piece_len
    district = di[pidx[owner]].astype(np.int64)
    # arrays only: the samples' lines and points are built district by district when needed
    samples = LineSamples(parts, owner, start, piece_len)
    demand = Demand(kind, None, None, piece_len, district, crs, samples=samples)
    logger.info("%s demand: %d samples over %.1f km", kind, len(demand), piece_len.sum() / 1e3)
    return demand
