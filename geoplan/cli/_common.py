"""Helpers shared by the command modules: inputs, config, output folder, layers."""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from geoplan._errors import ConfigError

# the heavy modules are imported where they are used, so that building the parser
# (``geoplan --help``, a usage error) stays quick
if TYPE_CHECKING:
    import pandas as pd

    from geoplan._outdir import OutputRun
    from geoplan.config import AnalysisConfig
    from geoplan.layers.load import LayerSet
    from geoplan.results import CoverageResult
    from geoplan.standards import Standard


def add_input_args(parser: argparse.ArgumentParser) -> None:
    """Add the CONFIG argument and the ad-hoc input flags to ``parser``."""
    parser.add_argument("config", nargs="?", metavar="CONFIG",
                        help="analysis config (analyses/<city>.yaml); or use the flags below")
    group = parser.add_argument_group("ad-hoc inputs (instead of, or overriding, CONFIG)")
    group.add_argument("--osm", metavar="FILE", help="OSM extract (.osm, .osm.bz2, .pbf)")
    group.add_argument("--osm-bounds", metavar="W,S,E,N", type=lon_lat_box,
                       help="the extract's edge in WGS 84 degrees (min lon, min lat, max lon, "
                       "max lat) when its file has no bounds header (osm.bounds in a config)")
    group.add_argument("--districts", metavar="FILE",
                       help="district polygons (GeoJSON, GeoPackage, Shapefile)")
    group.add_argument("--districts-crs", metavar="CRS",
                       help="CRS of the district file: wgs84, gcj02, bd09, cgcs2000 or EPSG:nnnn "
                       "(default wgs84)")
    group.add_argument("--district-name-field", metavar="FIELD", help="district name field (default: name)")
    group.add_argument("--district-code-field", metavar="FIELD",
                       help="district code field (adcode …): tells apart districts of one name")
    group.add_argument("--districts-encoding", metavar="ENCODING",
                       help="text encoding of the district file's names when not UTF-8 (gbk, "
                       "gb18030)")
    group.add_argument("--crs", metavar="EPSG", help="analysis CRS (default: local UTM zone)")
    group.add_argument("--min-inside-km2", metavar="KM2", type=float,
                       help="analyse a district when at least this many km² of it lie inside the "
                       "data, or half of it does (default 0.5; districts.min_inside_km2 in a "
                       "config)")
    parser.add_argument("--out", metavar="DIR", type=folder_name,
                        help="output folder (default: the config's `output`)")
    add_verbosity_args(parser)


def lon_lat_box(text: str) -> tuple[float, float, float, float]:
    """An ``--osm-bounds`` value: min lon, min lat, max lon, max lat, comma-separated.

    Parameters
    ----------
    text
        The flag's value as typed (a full-width comma is taken too).

    Returns
    -------
    tuple of float
        The box, as ``osm.bounds`` in a config takes it.

    Raises
    ------
    argparse.ArgumentTypeError
        Unless it is four finite numbers, longitudes within ±180 and latitudes within ±90
        degrees, each minimum below its maximum: a usage error (exit code 2) that names
        the flag, before any config is read.

    Examples
    --------
    >>> lon_lat_box("104.04, 30.65，104.12,30.71")
    (104.04, 30.65, 104.12, 30.71)
    """
    parts = [p.strip() for p in text.replace("，", ",").split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    ok = (len(values) == 4 and all(math.isfinite(v) for v in values)
          and -180 <= values[0] < values[2] <= 180 and -90 <= values[1] < values[3] <= 90)
    if not ok:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give four numbers, min lon, min lat, max lon, max lat in WGS 84 "
            "degrees, each minimum below its maximum, e.g. 104.04,30.65,104.12,30.71")
    west, south, east, north = values
    return west, south, east, north


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more (0 workers would wait for ever)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def add_verbosity_args(parser: argparse.ArgumentParser) -> None:
    """Accept -v/-q after the command too (``geoplan run CONFIG -q``)."""
    parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="only warnings and errors")


def config_from_args(args: argparse.Namespace) -> AnalysisConfig:
    """The analysis config from CONFIG and/or the ad-hoc flags.

    Raises
    ------
    ConfigError
        If neither a config nor --osm/--districts are given, or the result is invalid.
    """
    from geoplan.config import config_from_dict, load_config

    if args.config:
        config = load_config(args.config)
        updates: dict[str, object] = {}
        if args.osm:
            updates["osm"] = config.osm.model_copy(update={"path": Path(args.osm).resolve(), "bounds": None})
        if getattr(args, "osm_bounds", None):
            osm = updates.get("osm", config.osm)
            updates["osm"] = osm.model_copy(update={"bounds": args.osm_bounds})  # type: ignore[attr-defined]
        district_updates: dict[str, object] = {}
        if args.districts:
            district_updates["path"] = Path(args.districts).resolve()
        if args.districts_crs:
            district_updates["crs"] = args.districts_crs
        if args.district_name_field:
            district_updates["name_field"] = args.district_name_field
        if getattr(args, "district_code_field", None):
            district_updates["code_field"] = args.district_code_field
        if args.districts_encoding:
            district_updates["encoding"] = args.districts_encoding
        if getattr(args, "min_inside_km2", None) is not None:
            district_updates["min_inside_km2"] = args.min_inside_km2
        if district_updates:
            updates["districts"] = config.districts.model_copy(update=district_updates)
        if args.crs:
            updates["crs"] = args.crs
        if updates:
            merged = config.model_dump(exclude={"source_file"})
            for key, value in updates.items():
                merged[key] = value.model_dump() if hasattr(value, "model_dump") else value
            config = config_from_dict(merged, base_dir=config.base_dir, source=str(args.config))
        return config
    if not (args.osm and args.districts):
        raise ConfigError("command line", [
            "give an analysis config (e.g. geoplan run analyses/chengdu_core.yaml) "
            "or both --osm FILE and --districts FILE"
        ])
    raw: dict[str, object] = {
        "name": Path(args.osm).name.split(".")[0],
        "osm": {"path": str(Path(args.osm).resolve()),
                **({"bounds": args.osm_bounds} if getattr(args, "osm_bounds", None) else {})},
        "districts": {
            "path": str(Path(args.districts).resolve()),
            **({"crs": args.districts_crs} if args.districts_crs else {}),
            "name_field": args.district_name_field or "name",
            **({"code_field": args.district_code_field}
               if getattr(args, "district_code_field", None) else {}),
            **({"encoding": args.districts_encoding} if args.districts_encoding else {}),
            **({"min_inside_km2": args.min_inside_km2}
               if getattr(args, "min_inside_km2", None) is not None else {}),
        },
        "output": str(Path(args.out or "output").resolve()),
    }
    if args.crs:
        raw["crs"] = args.crs
    return config_from_dict(raw, base_dir=Path.cwd(), source="command line")


# Config keys a message may name, and the flag that sets each without a config (in order).
_FLAGS = (
    (re.compile(r" \(or districts\.crs: \S+ in the config\)"), ""),
    (re.compile(r"`districts\.crs:`"), "`--districts-crs`"),
    (re.compile(r"\(or set `districts\.encoding: (\S+)` in the config\)"),
     r"(or give `--districts-encoding \1`)"),
    (re.compile(r"`districts\.encoding: (\S+)` \(or gb18030\) in the config"),
     r"`--districts-encoding \1` (or gb18030)"),
    (re.compile(r"Set districts\.encoding: "), "Give --districts-encoding "),
    (re.compile(r"(?<![\w.])districts\.encoding"), "--districts-encoding"),
    (re.compile(r"(?<![\w.])districts\.name_field"), "--district-name-field"),
    (re.compile(r"give a districts\.code_field"), "give a --district-code-field"),
    (re.compile(r"(?<![\w.])districts\.code_field"), "--district-code-field"),
    # no flag picks districts: that takes a config
    (re.compile(r"with districts\.include"), "in a config (districts.include: [...])"),
    (re.compile(r"^standards: ", re.MULTILINE), "--standards: "),
    (re.compile(r"(?<![\w.])standards\[\d+\]"), "--standards"),
    (re.compile(r"(?<![\w.])districts\.min_inside_km2"), "--min-inside-km2"),
    (re.compile(r"(?<![\w.])districts\.crs"), "--districts-crs"),
    (re.compile(r"(?<![\w.])districts\.path"), "--districts"),
    (re.compile(r"(?<![\w.])osm\.path"), "--osm"),
    (re.compile(r"Set osm\.bounds in the config"), "Pass --osm-bounds W,S,E,N"),
    (re.compile(r"(?<![\w.])osm\.bounds"), "--osm-bounds"),
    (re.compile(r"^(\s*- )?crs: ", re.MULTILINE), r"\1--crs: "),  # the analysis CRS's key
)


BASELINE_FILE = "an older OSM extract of the same area (.osm, .osm.bz2 or .pbf)"
"""What ``--baseline`` takes (``geoplan run`` and ``geoplan deadends``)."""


def given_file(path: str | None, flag: str, what: str) -> None:
    """Check, before any work, that a file given with ``flag`` on the command line is there.

    Parameters
    ----------
    path
        The flag's value (None: the flag was not given, nothing to check).
    flag
        The flag, as the message names it (``--baseline``).
    what
        What the flag takes, said as the fix.

    Raises
    ------
    ConfigError
        Naming the flag, the path as looked for and what the flag takes (exit code 2, as a
        missing ``--osm`` file), instead of after the layers have loaded.
    """
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise ConfigError("command line", [f"{flag}: {p.absolute()} is a folder; give {what}"])
    if not p.is_file():
        raise ConfigError("command line", [
            f"{flag}: file not found: {p.absolute()}; give {what}"])


def is_adhoc(args: argparse.Namespace) -> bool:
    """Whether the inputs come from the ad-hoc flags alone, with no config file."""
    return not getattr(args, "config", None) and bool(getattr(args, "districts", None))


def in_flags(message: str) -> str:
    """``message`` with the config keys it names given as the flags that set them.

    Examples
    --------
    >>> in_flags("set districts.name_field to one of ['NAME']")
    "set --district-name-field to one of ['NAME']"
    >>> in_flags("Set `districts.crs:` to what the coordinates are in")
    'Set `--districts-crs` to what the coordinates are in'
    >>> in_flags("  - osm.path: file not found"), in_flags("  - crs: analysis CRS '4326' …")
    ('  - --osm: file not found', "  - --crs: analysis CRS '4326' …")
    >>> in_flags("pick the districts you want with districts.include, or give a districts.code_field")
    'pick the districts you want in a config (districts.include: [...]), or give a --district-code-field'
    >>> in_flags("x.osm has no bounds header. Set osm.bounds in the config to give it exactly.")
    'x.osm has no bounds header. Pass --osm-bounds W,S,E,N to give it exactly.'
    >>> in_flags("  - standards[0]: unknown standard id 'park500'")
    "  - --standards: unknown standard id 'park500'"
    """
    for key, flag in _FLAGS:
        message = key.sub(flag, message)
    return message


class FlagWording(logging.Formatter):
    """Word the config keys in log messages as flags (for a run from ad-hoc flags).

    A formatter, not a filter: a filter would rewrite the record itself, which every other
    handler of the record then prints reworded.
    """

    def format(self, record: logging.LogRecord) -> str:
        return in_flags(super().format(record))


def folder_name(text: str) -> str:
    """An ``--out`` value: refused when empty (``--out ""`` fell back to the config's folder
    in silence)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the folder name is empty; give a folder, or leave "
                                         "--out out to use the config's output")
    return text


def output_dir(args: argparse.Namespace, config: AnalysisConfig) -> Path:
    """The output folder (--out or the config's), checked writable before any work."""
    from geoplan._io import check_output_folder

    return check_output_folder(Path(args.out).resolve() if getattr(args, "out", None) else config.output)


def staged_output(args: argparse.Namespace, config: AnalysisConfig, command: str) -> OutputRun:
    """The output folder of a command as one run's output (staged, locked, with run.json).

    Use as ``with staged_output(args, config, "layers") as run:``, write into ``run.path``,
    and finish with ``run.commit(written)``; see :class:`geoplan._outdir.OutputRun`. The other
    files of a previous run of the same analysis (same config and input files) are kept, so
    ``geoplan map`` then ``geoplan report`` fill one folder; another analysis' files are not.
    """
    from geoplan._outdir import OutputRun

    return OutputRun(output_dir(args, config), command=command, config=config,
                     keep_same_analysis=True)


def load_layerset(config: AnalysisConfig) -> LayerSet:
    """Load the analysis' layers (parsed OSM layers are cached by file content)."""
    from geoplan.layers.load import load_layers

    return load_layers(config)


def coverage_as_run(config: AnalysisConfig, layerset: LayerSet, standards: list[Standard],
                    spill_dir: Path, progress: bool = False) -> CoverageResult:
    """The coverage of ``layerset`` measured as ``geoplan run`` measures it: a city chunk by
    chunk of districts, its largest frames held on disk in ``spill_dir`` (a staging folder)."""
    from geoplan.pipeline import compute_results

    result, _, _ = compute_results(config, layerset, standards=standards, steps=("coverage",),
                                   progress=progress, spill_dir=spill_dir)
    assert result is not None
    return result


def print_table(frame: pd.DataFrame, *, title: str | None = None,
                cut: Sequence[str] = ("district",)) -> None:
    """Print a table for the terminal, Chinese names aligned reasonably; text cells as one
    clean line each (:func:`geoplan._text.as_text`: a name can carry a terminal's escapes),
    those of the columns ``cut`` at most :data:`geoplan._text.NAME_COLUMNS` wide."""
    import pandas as pd

    from geoplan._text import NAME_COLUMNS, as_text, cut_to_columns

    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or isinstance(frame[col].dtype, pd.StringDtype):
            frame[col] = [cut_to_columns(as_text(v), NAME_COLUMNS) if col in cut else as_text(v)
                          for v in frame[col]]
    if title:
        print(as_text(title))
    with pd.option_context("display.width", 200, "display.max_columns", 50,
                           "display.max_rows", 500, "display.unicode.east_asian_width", True):
        print(frame.to_string(index=False))


def progress_enabled() -> bool:
    """Progress bars on an interactive terminal, off in CI or when GEOPLAN_NO_PROGRESS is set."""
    return sys.stderr.isatty() and not os.environ.get("CI") and not os.environ.get("GEOPLAN_NO_PROGRESS")


def with_standards(config: AnalysisConfig, ids: str | None) -> AnalysisConfig:
    """The config restricted to the comma-separated standard ids (validated by the caller)."""
    if not ids:
        return config
    chosen = [s.strip() for s in ids.split(",") if s.strip()]
    return config.model_copy(update={"standards": chosen})
