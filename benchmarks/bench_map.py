"""The meeting map at city scale: file size per layer, write time and load time in Chromium.

For each analysis config given (the default run, or the tiled cities that
``benchmarks/bench_scale.py --keep DIR`` builds), the script computes the run's results once
(coverage, sites, dead ends, data checks) and keeps them in a pickle next to the output, so that
reruns time the map alone. It then

- writes ``map.html`` with :func:`geoplan.report.maps.write_map` and records the wall and CPU
  seconds of that call (and optionally profiles it with ``--profile``: a pyinstrument text
  report beside the map);
- splits the file into its parts: the bytes of each data layer (by CSS class), and the rest
  (Leaflet, the runtime, the live scenario's data, controls);
- opens the map in headless Chromium (``/usr/bin/chromium`` through Playwright, the web
  blocked) and records, from navigation start, the first contentful paint, the moment the
  first district is drawn (the first ``path.gp-coverage`` in the page, then one frame), and
  the load event.

Usage::

    python benchmarks/bench_map.py analyses/chengdu_core.yaml /tmp/tiles/tiled_2x2.yaml
    python benchmarks/bench_map.py CONFIG --work /tmp/bench-map --repeats 3 --json out.json
    python benchmarks/bench_map.py --table a.json b.json    # one table from saved runs

The CPU seconds are the steadier measure on a shared machine; the load average is printed with
each run.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import pickle
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
_LAYER = re.compile(r"geoplan\.layer\(")
_GRAPH = re.compile(r"walking graph: (\d+) nodes, (\d+) edges")
_CLS = re.compile(r'"cls":"([^"]*)"')


def results(config_path: Path, work: Path) -> dict[str, Any]:
    """The run's results for the map (computed once, then read from ``work``)."""
    cache = work / "results.pkl"
    if cache.exists() and cache.stat().st_mtime > config_path.stat().st_mtime:
        with cache.open("rb") as f:
            return pickle.load(f)
    from geoplan.config import load_config
    from geoplan.data_checks import data_checks
    from geoplan.layers.load import load_layers
    from geoplan.pipeline import compute_results
    from geoplan.standards import check_config_standards

    seen: list[str] = []

    class _Graph(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = _Graph(level=logging.INFO)
    root = logging.getLogger("geoplan")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    config = load_config(config_path)
    layerset = load_layers(config)
    standards = check_config_standards(config)
    coverage, deadends, sites = compute_results(config, layerset, standards=standards)
    checks = data_checks(layerset, coverage, deadends, standards, layerset.datum)
    root.removeHandler(handler)
    graph = [g for g in map(_GRAPH.search, seen) if g is not None]
    out = {"walk_edges": int(graph[0][2]) if graph else None, "config": config,
           "layerset": layerset, "coverage": coverage, "deadends": deadends,
           "sites": sites, "checks": checks}
    with cache.open("wb") as sink:
        pickle.dump(out, sink, protocol=5)
    return out


def write_once(res: dict[str, Any], out: Path, profile: bool) -> tuple[float, float]:
    """Write the map into ``out``; wall and CPU seconds."""
    from geoplan._processes import cpu_seconds
    from geoplan.report.maps import write_map

    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    # CPU of this process and of the district pages' forked workers
    wall, cpu = time.perf_counter(), cpu_seconds()
    write_map(res["layerset"], res["coverage"], res["deadends"], res["config"], out,
              sites=res["sites"], checks=res["checks"])
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    if profiler is not None:
        profiler.stop()
        (out / "map_profile.txt").write_text(profiler.output_text(unicode=True, show_all=False),
                                             encoding="utf-8")
    return wall, cpu


def layer_bytes(page: str) -> dict[str, int]:
    """Bytes of the page by part: each data layer's spec by its main CSS class, and the rest."""
    sizes: dict[str, int] = {}
    covered = 0
    for match in _LAYER.finditer(page):
        start = match.end()
        end = page.find("});", start)
        end = len(page) if end < 0 else end + 1
        spec = page[start:end]
        cls = _CLS.search(spec[:400]) or _CLS.search(spec)
        name = "?" if cls is None else cls.group(1).split()[0]
        if name.startswith("gp-fac"):
            name = cls.group(1).split()[-1] if cls else name
        sizes[name] = sizes.get(name, 0) + len(spec.encode("utf-8"))
        covered += end - start
    sizes["(rest: Leaflet, runtime, scenario, controls)"] = (
        len(page.encode("utf-8")) - sum(sizes.values()))
    return sizes


_TIMING = """
window.__gp_first = null;
new MutationObserver(function(list, obs) {
  if (window.__gp_first === null && document.querySelector('path.gp-coverage')) {
    var t = performance.now();
    requestAnimationFrame(function() { requestAnimationFrame(function() {
      window.__gp_first = performance.now(); window.__gp_dom = t; }); });
    obs.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def chromium_times(path: Path, repeats: int) -> dict[str, float]:
    """Median ms from navigation start: first paint, first district drawn, load event."""
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, float]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1366, "height": 860},
                                          locale="zh-CN")
            page = context.new_page()
            errors: list[str] = []

            def on_error(e: Any, errors: list[str] = errors) -> None:
                errors.append(str(e))

            def on_console(m: Any, errors: list[str] = errors) -> None:
                if m.type == "error":
                    errors.append(m.text)

            page.on("pageerror", on_error)
            page.on("console", on_console)
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                ("file:", "data:", "blob:", "about:")) else r.abort())
            page.add_init_script(_TIMING)
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=600_000)
            page.wait_for_function("window.__gp_first !== null", timeout=600_000)
            t = page.evaluate("""() => {
                const nav = performance.getEntriesByType('navigation')[0];
                const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                return {fcp: fcp ? fcp.startTime : null, district: window.__gp_first,
                        load: nav.loadEventEnd,
                        heap: performance.memory ? performance.memory.usedJSHeapSize : null};
            }""")
            runs.append({k: float(v) for k, v in t.items() if v is not None})
            runs[-1]["errors"] = float(len(errors))
            for e in errors[:3]:
                print(f"  page error: {e[:200]}", file=sys.stderr)
            context.close()
        browser.close()
    return {k: statistics.median(r[k] for r in runs if k in r) for k in runs[0]}


def measure(config: Path, work: Path, repeats: int, profile: bool) -> dict[str, Any]:
    """Every figure of one config."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = results(config, work)
    prep = time.perf_counter() - t0
    out = work / "map"
    out.mkdir(exist_ok=True)
    wall, cpu = write_once(res, out, profile)
    page = (out / "map.html").read_text(encoding="utf-8")
    row: dict[str, Any] = {
        "config": str(config), "districts": len(res["layerset"].districts),
        "walk_edges": res.get("walk_edges"), "map_bytes": len(page.encode("utf-8")),
        "write_wall_s": round(wall, 2), "write_cpu_s": round(cpu, 2),
        "layers": layer_bytes(page), "results_s": round(prep, 1),
        "load_average": os.getloadavg()[0],
    }
    row.update({f"chromium_{k}" + ("" if k == "errors" else "_ms"): round(v) for k, v in
                chromium_times(out / "map.html", repeats).items()})
    return row


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    """The summary table (markdown) and each run's bytes per layer."""
    lines = ["| config | districts | walking edges | map MB | write wall s | write CPU s | "
             "first paint ms | first district ms | load ms | page errors | load avg |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        edges = r.get("walk_edges")
        edge_txt = "?" if edges is None else f"{edges:,}"
        lines.append(
            f"| {Path(r['config']).name} | {r['districts']} | {edge_txt} | {_mb(r['map_bytes'])} "
            f"| {r['write_wall_s']} | {r['write_cpu_s']} | {r.get('chromium_fcp_ms', '?')} "
            f"| {r.get('chromium_district_ms', '?')} | {r.get('chromium_load_ms', '?')} "
            f"| {r.get('chromium_errors', '?')} | {r['load_average']:.1f} |")
    sized = [r for r in rows if r.get("walk_edges") and r["walk_edges"] > 0]
    if len(sized) >= 2:
        a, b = sized[0], sized[-1]
        k = math.log(b["walk_edges"] / a["walk_edges"])
        lines.append(f"\nexponent (write CPU, {Path(a['config']).name} → {Path(b['config']).name}):"
                     f" {math.log(b['write_cpu_s'] / a['write_cpu_s']) / k:.2f}; "
                     f"(map bytes): {math.log(b['map_bytes'] / a['map_bytes']) / k:.2f}")
    names = sorted({n for r in rows for n in r["layers"]},
                   key=lambda n: -max(r["layers"].get(n, 0) for r in rows))
    lines += ["", "| layer (MB) | " + " | ".join(Path(r["config"]).name for r in rows) + " |",
              "|---|" + "---:|" * len(rows)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(_mb(r["layers"].get(n, 0)) for r in rows) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="*", type=Path, help="analysis configs (YAML)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/geoplan-bench-map"),
                    help="folder for the cached results and maps (one subfolder per config)")
    ap.add_argument("--repeats", type=int, default=3, help="Chromium loads per map (median)")
    ap.add_argument("--profile", action="store_true", help="profile write_map (pyinstrument)")
    ap.add_argument("--json", type=Path, help="also write the measurements as JSON")
    ap.add_argument("--table", nargs="+", type=Path, metavar="JSON",
                    help="print one table from saved --json files and exit")
    args = ap.parse_args(argv)
    if args.table:
        rows = [r for p in args.table for r in json.loads(p.read_text(encoding="utf-8"))]
        print(table(rows))
        return 0
    if not args.configs:
        args.configs = [ROOT / "analyses" / "chengdu_core.yaml"]
    rows = []
    for config in args.configs:
        work = args.work / config.stem
        print(f"{config}: measuring (load average {os.getloadavg()[0]:.1f})", file=sys.stderr)
        rows.append(measure(config.resolve(), work, args.repeats, args.profile))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
