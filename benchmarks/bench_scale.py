"""How geoplan's cost grows with the city: ``geoplan run`` on mirror-tiled copies of the extract.

The embedded extract (``layers/chengdu/chengdu_core_2018.osm.pbf``) is clipped to its bounds and
laid out k × k times, every other column flipped east–west and every other row flipped
north–south, so that a street cut by an edge of the extract meets its own mirror image at the
seam (the point where it crosses the edge becomes one shared node). Ids are renumbered, the
file gets a bounds header, and each tile (or each block of b × b tiles) is one rectangular
district, written as GeoJSON in WGS 84 next to one analysis config per size.

Each size then runs ``geoplan run`` cold (no layer cache) in a subprocess of the installed
package, and the script prints, per step, the wall time and the step's own peak resident memory
(both logged by the run itself), the walking graph's size, and the growth exponent of every
step fitted as ``time ∝ edges^a`` by least squares over the sizes from 4 tiles up.

Usage::

    python benchmarks/bench_scale.py                    # 1, 4, 16, 64 tiles
    python benchmarks/bench_scale.py --sizes 1,4 --keep /tmp/tiles
    python benchmarks/bench_scale.py --sizes 196        # ~1M walking edges (~200×)

Multipolygon relations are kept only in tiles where all their members lie inside the bounds
(101 of the 121 relations are cut by the edge and left out); closed ways with area tags are clipped
as polygons, every other way as a line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import shapely
from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[1]
EXTRACT = ROOT / "layers" / "chengdu" / "chengdu_core_2018.osm.pbf"
BOUNDS = (104.0421, 30.6528, 104.1296, 30.7279)  # from the XML edition's header
STEPS = ("layers", "coverage", "sites", "deadends", "tables", "map", "report")


# ----------------------------------------------------------------------------------------------
# the template: the extract clipped to its bounds, in original coordinates
# ----------------------------------------------------------------------------------------------

@dataclass
class Template:
    """The clipped extract: nodes (lon, lat, tags, on-edge flag), ways and relations."""

    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    on_edge: list[bool] = field(default_factory=list)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)
    relations: list[tuple[list[tuple[str, int, str]], dict[str, str]]] = field(default_factory=list)


def _is_area(refs: list[int], tags: dict[str, str]) -> bool:
    closed = len(refs) > 3 and refs[0] == refs[-1]
    if not closed:
        return False
    return tags.get("area") == "yes" or not any(k in tags for k in ("highway", "barrier", "railway"))


def make_template(path: Path = EXTRACT, bounds: tuple[float, ...] = BOUNDS) -> Template:
    """Clip the extract to ``bounds``: lines at the edge get a node on the edge."""
    x0, y0, x1, y1 = bounds
    frame = box(x0, y0, x1, y1)
    nodes: dict[int, tuple[float, float, dict[str, str]]] = {}
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    rels: list[tuple[list[tuple[str, int, str]], dict[str, str]]] = []
    for o in osmium.FileProcessor(str(path)):
        if o.is_node():
            nodes[o.id] = (o.location.lon, o.location.lat, dict(o.tags))
        elif o.is_way():
            ways[o.id] = ([n.ref for n in o.nodes], dict(o.tags))
        elif o.is_relation():
            rels.append(([(m.type, m.ref, m.role) for m in o.members], dict(o.tags)))
    t = Template()
    local: dict[int, int] = {}

    def inside(x: float, y: float) -> bool:
        return x0 <= x <= x1 and y0 <= y <= y1

    def add(x: float, y: float, tags: dict[str, str], edge: bool) -> int:
        t.lon.append(x)
        t.lat.append(y)
        t.tags.append(tags)
        t.on_edge.append(edge)
        return len(t.lon) - 1

    def node_ix(ref: int) -> int:
        if ref not in local:
            x, y, tags = nodes[ref]
            local[ref] = add(x, y, tags, False)
        return local[ref]

    def edge_point(a: tuple[float, float], b: tuple[float, float]) -> int:
        cut = shapely.intersection(shapely.LineString([a, b]), frame.exterior)
        p = shapely.get_coordinates(cut)[0]
        x = min(max(p[0], x0), x1)
        y = min(max(p[1], y0), y1)
        # exactly on the edge, so that the mirror tile puts its copy at the same place
        for lo, hi, val, setter in ((x0, x1, x, "x"), (y0, y1, y, "y")):
            if abs(val - lo) < 1e-9:
                val = lo
            elif abs(val - hi) < 1e-9:
                val = hi
            if setter == "x":
                x = val
            else:
                y = val
        return add(x, y, {}, True)

    way_map: dict[int, int] = {}
    for wid, (refs, tags) in ways.items():
        refs = [r for r in refs if r in nodes]
        if len(refs) < 2:
            continue
        xy = [(nodes[r][0], nodes[r][1]) for r in refs]
        ins = [inside(*p) for p in xy]
        if all(ins):
            way_map[wid] = len(t.ways)
            t.ways.append(([node_ix(r) for r in refs], tags))
            continue
        if _is_area(refs, tags):
            poly = shapely.Polygon(xy)
            if not poly.is_valid:
                poly = shapely.make_valid(poly)
            clipped = shapely.intersection(poly, frame)
            for part in shapely.get_parts(clipped):
                if part.geom_type != "Polygon" or part.area <= 0:
                    continue
                ring = shapely.get_coordinates(part.exterior)
                ids = [add(float(x), float(y), {}, False) for x, y in ring[:-1]]
                t.ways.append(([*ids, ids[0]], tags))
            continue
        run: list[int] = []
        for i, r in enumerate(refs):
            if ins[i]:
                if not run and i > 0:
                    run.append(edge_point(xy[i - 1], xy[i]))
                run.append(node_ix(r))
            elif run:
                run.append(edge_point(xy[i - 1], xy[i]))
                if len(run) >= 2:
                    t.ways.append((run, tags))
                run = []
            elif i > 0 and ins[i - 1] is False:
                seg = shapely.LineString([xy[i - 1], xy[i]])
                if seg.intersects(frame):  # passes through the frame between two outside nodes
                    cut = shapely.intersection(seg, frame)
                    c = shapely.get_coordinates(cut)
                    if len(c) == 2:
                        t.ways.append(([add(*c[0], {}, True), add(*c[1], {}, True)], tags))
        if len(run) >= 2:
            t.ways.append((run, tags))
    for members, tags in rels:
        ok = all(m[0] == "w" and m[1] in way_map for m in members)
        if ok:
            t.relations.append(([(m[0], way_map[m[1]], m[2]) for m in members], tags))
    return t


# ----------------------------------------------------------------------------------------------
# the tiled city
# ----------------------------------------------------------------------------------------------

def write_city(t: Template, k: int, folder: Path, block: int = 1,
               bounds: tuple[float, ...] = BOUNDS) -> Path:
    """Write the k × k tiled extract, its districts and its config into ``folder``."""
    x0, y0, x1, y1 = bounds
    w, h = x1 - x0, y1 - y0
    lon = np.asarray(t.lon)
    lat = np.asarray(t.lat)
    on_edge = np.asarray(t.on_edge)
    n = len(lon)
    pbf = folder / f"tiled_{k}x{k}.osm.pbf"
    if pbf.exists():
        pbf.unlink()
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(osmium.osm.Location(x0, y0),
                                  osmium.osm.Location(x0 + k * w, y0 + k * h)))
    shared: dict[tuple[int, int], int] = {}
    ids = np.zeros((k * k, n), dtype=np.int64)
    with osmium.SimpleWriter(str(pbf), header=header) as writer:
        for ti in range(k * k):
            i, j = divmod(ti, k)
            gx = x0 + i * w + (lon - x0) if i % 2 == 0 else x0 + (i + 1) * w - (lon - x0)
            gy = y0 + j * h + (lat - y0) if j % 2 == 0 else y0 + (j + 1) * h - (lat - y0)
            base = ti * n + 1
            for q in range(n):
                nid = base + q
                if on_edge[q]:
                    ck = (round(gx[q] * 1e7), round(gy[q] * 1e7))
                    if ck in shared:
                        ids[ti, q] = shared[ck]
                        continue
                    shared[ck] = nid
                ids[ti, q] = nid
                writer.add_node(osmium.osm.mutable.Node(
                    id=nid, location=(float(gx[q]), float(gy[q])), tags=t.tags[q], version=1))
        nw = len(t.ways)
        for ti in range(k * k):
            for wi, (refs, tags) in enumerate(t.ways):
                writer.add_way(osmium.osm.mutable.Way(
                    id=ti * nw + wi + 1, nodes=[int(x) for x in ids[ti, refs]], tags=tags, version=1))
        for ti in range(k * k):
            for ri, (members, tags) in enumerate(t.relations):
                writer.add_relation(osmium.osm.mutable.Relation(
                    id=ti * len(t.relations) + ri + 1,
                    members=[(typ, ti * nw + ref + 1, role) for typ, ref, role in members],
                    tags=tags, version=1))
    feats = []
    nb = math.ceil(k / block)
    for bi in range(nb):
        for bj in range(nb):
            ring = box(x0 + bi * block * w, y0 + bj * block * h,
                       x0 + min(k, (bi + 1) * block) * w, y0 + min(k, (bj + 1) * block) * h)
            code = f"T{bi:02d}{bj:02d}"
            feats.append({"type": "Feature", "properties": {"name": f"tile {bi}-{bj}", "code": code},
                          "geometry": shapely.geometry.mapping(ring)})
    (folder / f"districts_{k}x{k}.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    cfg = folder / f"tiled_{k}x{k}.yaml"
    cfg.write_text(
        f"name: tiled Chengdu {k}x{k}\ncity: 成都\ncrs: auto\n"
        f"districts:\n  path: districts_{k}x{k}.geojson\n  crs: wgs84\n  name_field: name\n"
        f"  code_field: code\n  min_overlap_share: 0.01\n"
        f"osm:\n  path: {pbf.name}\n  date: 2018-06\n"
        f"  bounds: [{x0}, {y0}, {x0 + k * w:.7f}, {y0 + k * h:.7f}]\n"
        f"targets:\n  park_service_coverage: 0.8\n"
        f"demand:\n  grid_m: 25\n  max_snap_m: 100\n"
        f"output: out_{k}x{k}\n", encoding="utf-8")
    return cfg


# ----------------------------------------------------------------------------------------------
# running and reading the log
# ----------------------------------------------------------------------------------------------

_STEP = re.compile(r"INFO: (\w+) done in ([\d.]+) s \(CPU ([\d.]+) s, peak RSS ([\d.?]+) MB"
                   r"(?:, held after ([\d.?]+) MB|, [\w ]+)?\)")  # or "written side by side"
_GRAPH = re.compile(r"walking graph: (\d+) nodes, (\d+) edges")
_COV = re.compile(r"coverage: \d+ standards × \d+ districts in [\d.]+ s \((.*)\)")


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of ``pid`` and all its descendants, summed (MB; Linux).

    PSS shares each page among the processes that map it, so forked workers and children are
    counted once with their parent: the run's whole memory at this moment.
    """
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup", encoding="ascii") as fh:
                total += next(float(x.split()[1]) for x in fh if x.startswith("Pss:")) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            continue  # ended meanwhile
    return total


class _PssSampler:
    """The largest :func:`_tree_pss_mb` of a process seen once a second, on a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.peak = max(self.peak, _tree_pss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_size(cfg: Path, out: Path) -> dict[str, object]:
    """Run ``geoplan run`` on ``cfg`` in a subprocess; parse step times and memory.

    Besides the run's own figures per step, the whole run's memory (its processes' PSS
    summed) is sampled once a second: ``pss_peak`` (a sample can miss a short peak).
    """
    env = dict(os.environ, GEOPLAN_NO_CACHE="1")
    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = out.parent / f"{cfg.stem}.log"  # written as the run goes: a killed run still tells
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "geoplan", "run", str(cfg), "--out",
                                 str(out)], stdout=subprocess.DEVNULL, stderr=fh, env=env,
                                cwd=cfg.parent)
        sampler = _PssSampler(proc.pid)
        code = proc.wait()
        pss_peak = sampler.stop()
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    stderr = log.read_text(encoding="utf-8")
    if code != 0:
        raise RuntimeError(f"geoplan run {cfg} failed ({code}):\n{stderr[-3000:]}")
    # step -> (wall s, peak RSS MB, CPU s)
    steps = {m[1]: (float(m[2]), float(m[4]) if m[4] != "?" else math.nan, float(m[3]))
             for m in _STEP.finditer(stderr)}
    # step -> resident MB of the run's process after it (what the next step starts from)
    held = {m[1]: float(m[5]) for m in _STEP.finditer(stderr) if m[5] not in (None, "?")}
    g = _GRAPH.search(stderr)
    cov = _COV.search(stderr)
    sub = {}
    if cov:
        for part in cov[1].split(", "):
            name, sec, _ = part.rsplit(" ", 2)
            sub[f"coverage:{name}"] = float(sec)
    return {"wall": wall, "cpu": cpu, "pss_peak": pss_peak, "steps": steps, "held": held,
            "nodes": int(g[1]) if g else 0,
            "edges": int(g[2]) if g else 0, "sub": sub}


def fit_exponent(edges: list[int], secs: list[float]) -> float:
    """Least-squares slope of log(time) against log(edges)."""
    x, y = np.log(np.asarray(edges, float)), np.log(np.maximum(np.asarray(secs, float), 1e-3))
    if len(x) < 2 or np.ptp(x) == 0:
        return math.nan
    return float(np.polyfit(x, y, 1)[0])


def table(results: dict[int, dict[str, object]], fit_from: int = 4) -> str:
    """The markdown scale table: one row per size, growth exponents in the last rows.

    Each step cell is ``wall s / CPU s / peak MB``. The exponents are fitted on CPU time (the
    machine is shared, and CPU time is what other jobs disturb least) and on wall time.
    """
    sizes = sorted(results)
    steps = {k: results[k]["steps"] for k in sizes}
    names = [s for s in STEPS if any(s in steps[k] for k in sizes)]  # type: ignore[operator]
    head = ["tiles", "walking edges", "wall s", "CPU s", "peak RSS MB", "sampled PSS MB", *names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for k in sizes:
        r, st = results[k], steps[k]
        peak = max((v[1] for v in st.values()), default=math.nan)  # type: ignore[union-attr]
        pss = r.get("pss_peak")  # measured since 2026-12-04
        cells = [f"{k}", f"{r['edges']:,}", f"{r['wall']:.0f}", f"{r['cpu']:.0f}", f"{peak:.0f}",
                 f"{pss:.0f}" if isinstance(pss, float) else "–"]
        cells += [f"{st[s][0]:.1f} / {st[s][2]:.1f} / {st[s][1]:.0f}" if s in st else "–"  # type: ignore[index,operator]
                  for s in names]
        lines.append("| " + " | ".join(cells) + " |")
    fit = [k for k in sizes if k >= fit_from]
    if len(fit) >= 2:
        e = [results[k]["edges"] for k in fit]  # type: ignore[misc]
        for label, col, total in (("CPU", 2, "cpu"), ("wall", 0, "wall")):
            cells = [f"exponent {fit[0]}–{fit[-1]} ({label})", "",
                     f"{fit_exponent(e, [results[k]['wall'] for k in fit]):.2f}" if label == "wall" else "",
                     f"{fit_exponent(e, [results[k][total] for k in fit]):.2f}" if label == "CPU" else "",
                     f"{fit_exponent(e, [max(v[1] for v in steps[k].values()) for k in fit]):.2f}",  # type: ignore[union-attr]
                     ""]
            cells += [f"{fit_exponent(e, [steps[k][s][col] for k in fit]):.2f}"  # type: ignore[index]
                      if all(s in steps[k] for k in fit) else "–" for s in names]  # type: ignore[operator]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the tiled cities, run each, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,4,16,64",
                    help="numbers of tiles, each a square (1,4,16,64; 196 is about 1M edges)")
    ap.add_argument("--block", type=int, default=1, help="tiles per district side (default 1)")
    ap.add_argument("--keep", metavar="DIR", help="build and run in DIR and keep it")
    ap.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    ap.add_argument("--table", nargs="+", metavar="JSON",
                    help="only print the table from saved --json files (sizes merged)")
    args = ap.parse_args(argv)
    if args.table:
        merged: dict[int, dict[str, object]] = {}
        for f in args.table:
            merged.update({int(k): v for k, v in json.loads(Path(f).read_text("utf-8")).items()})
        print(table(merged))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    for s in sizes:
        if math.isqrt(s) ** 2 != s:
            ap.error(f"size {s} is not a square number of tiles")
    if args.keep:
        return _bench(args, sizes, Path(args.keep))
    with tempfile.TemporaryDirectory(prefix="geoplan-scale-") as tmp:  # gigabytes at 196 tiles
        return _bench(args, sizes, Path(tmp))


def _bench(args: argparse.Namespace, sizes: list[int], folder: Path) -> int:
    """Write each size's city into ``folder``, run it, and print the table."""
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    template = make_template()
    print(f"template: {len(template.lon):,} nodes, {len(template.ways):,} ways, "
          f"{len(template.relations)} relations ({time.perf_counter() - t0:.1f} s)", flush=True)
    from machine_speed import describe, machine_speed

    results: dict[int, dict[str, object]] = {}
    for s in sizes:
        k = math.isqrt(s)
        speed = machine_speed()
        print(f"{s:>4} tiles: before, {describe(speed)}", flush=True)
        t0 = time.perf_counter()
        cfg = write_city(template, k, folder, block=args.block)
        print(f"{s:>4} tiles: city written in {time.perf_counter() - t0:.1f} s; running…", flush=True)
        results[s] = run_size(cfg, folder / f"out_{k}x{k}")
        r = results[s]
        after = machine_speed()
        r["machine_ms"] = {"before": speed, "after": after}
        print(f"{s:>4} tiles: {r['edges']:,} edges, wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s; "
              + ", ".join(f"{n} {v[0]:.1f} s/{v[2]:.1f} s CPU/{v[1]:.0f} MB"
                          for n, v in r["steps"].items()),  # type: ignore[union-attr]
              flush=True)
        print(f"     load average {os.getloadavg()[0]:.1f}; after, {describe(after)}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
