"""``geoplan layers``: load every layer, print per-district counts, write layers.gpkg/csv."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    load_layerset,
    print_table,
    progress_enabled,
    staged_output,
)

if TYPE_CHECKING:
    import pandas as pd

    from geoplan.layers.load import LayerSet


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``layers`` command."""
    parser = sub.add_parser(
        "layers", help="load and check every layer; write layers.gpkg and layers.csv",
        description="Load the OSM extract, planners' files and districts into canonical layers "
        "in the analysis CRS, print per-district counts, and write layers.gpkg (one layer per "
        "kind, for QGIS) and layers.csv (the counts) to the output folder.",
    )
    add_input_args(parser)
    parser.set_defaults(func=run)


def write_layers(layerset: LayerSet, out: Path) -> tuple[pd.DataFrame, list[Path]]:
    """Write ``layers.gpkg`` and ``layers.csv`` into ``out``; return the summary and paths."""
    from geoplan._io import write_csv, write_gpkg
    from geoplan.layers.load import district_summary

    summary = district_summary(layerset)
    from geoplan.report.qgis_styles import styler

    gpkg = write_gpkg(layerset.layers, out / "layers.gpkg", styles=styler(unit=layerset.unit))
    csv = write_csv(summary, out / "layers.csv")
    written = [gpkg, csv]
    if len(layerset.issues):
        written.append(write_csv(layerset.issues, out / "layer_issues.csv"))
    return summary, written


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan layers``."""
    import pandas as pd

    from geoplan._progress import set_progress
    from geoplan._text import first_named
    from geoplan.cli._format import MANY_DISTRICTS
    from geoplan.layers.load import CITY_COUNTS
    from geoplan.vocab import WHOLE_DISTRICT_SHARE

    config = config_from_args(args)
    set_progress(progress_enabled())  # the OSM pass's bar, as in `geoplan run`
    with staged_output(args, config, "layers") as run:
        layerset = load_layerset(config)
        summary, written = write_layers(layerset, run.path)
        written = run.commit(written)
    show = summary[["district", "inside_km2", "inside_share", "roads", "roads_km", "walkways_km",
                    "parks", "green_space", "toilets", "schools", "bus_stops", "residential",
                    "residential_ha", "buildings", "water", "services"]].copy()
    show["inside_km2"] = show["inside_km2"].round(2)
    show["inside_share"] = (100 * show["inside_share"]).round(0).astype(int).astype(str) + "%"
    for col in ("roads_km", "walkways_km", "residential_ha"):
        show[col] = show[col].round(1)
    crs = layerset.crs.to_string()
    if len(show) > MANY_DISTRICTS:  # a city: its totals; each district's row is in layers.csv
        # lengths and areas add up over the districts; a feature across a district line is
        # counted once
        once = summary.attrs.get(CITY_COUNTS, {})
        numbers = show.drop(columns=["district", "inside_share"])
        city = pd.DataFrame([{"district": f"{len(show)} districts", **{
            c: int(once.get(c, numbers[c].sum())) if pd.api.types.is_integer_dtype(numbers[c])
            else round(float(numbers[c].sum()), 1) for c in numbers.columns}}])
        print_table(city, title=f"{config.name}: layers of the city (CRS {crs}); each "
                                "district's row: layers.csv")
    else:
        print_table(show, title=f"{config.name}: layers per district (CRS {crs})")
    partial = summary.loc[summary["inside_share"] < WHOLE_DISTRICT_SHARE, "district"].tolist()
    if partial:
        print(f"note: {first_named(partial, MANY_DISTRICTS)} lie only partly inside the data; "
              "figures cover that part.")
    if len(layerset.issues):
        print(issues_line(layerset.issues))
    for path in written:
        print(f"wrote {path}")
    return 0


def issues_line(issues: pd.DataFrame) -> str:
    """What ``layer_issues.csv`` holds, in a line: its counts by action, in the order first
    met (features repaired, rejected, excluded; a file's datum check kept as read; the
    districts of the file not analysed), each said as the file says it.

    Parameters
    ----------
    issues
        The layer set's issues (``layer``, ``source``, ``issue``, ``count``, ``action``).

    Returns
    -------
    str
        For example ``"layer issues: 16 not analysed (districts), 15 repaired; see
        layer_issues.csv"``.
    """
    counts = issues.groupby("action", sort=False)["count"].sum()
    said = [f"{int(n)} {action}" + (" (districts)" if action == "not analysed" else "")
            for action, n in counts.items()]
    return "layer issues: " + ", ".join(said) + "; see layer_issues.csv"
