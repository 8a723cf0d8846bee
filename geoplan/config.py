"""Analysis configuration: one YAML file per analysis, validated fully before any work starts.

:func:`load_config` reads the YAML, checks its structure with pydantic, then checks what
pydantic cannot (files exist, CRS names are known, standard ids exist) and raises one
:class:`~geoplan._errors.ConfigError` listing every problem with its key path.
Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geoplan._errors import ConfigError, CRSError, StandardError
from geoplan.standards import check_config_standards
from geoplan.vocab import DEFAULT_UNIT, LAYER_KINDS

MAX_UNIT_CHARS = 8
"""Longest word for the analysis units (``districts.unit``): it goes into titles and headers."""
MIN_GRID_M = 1.0
"""Finer demand grids than this measure nothing more (parcels are metres wide) and run out of memory."""
MAX_GRID_M = 500.0
"""Coarser demand grids than this miss whole blocks of housing."""


_FILE_CRS = ("what the file's coordinates are in (wgs84, gcj02, bd09, EPSG:4544 …); unset: the "
             "file's own CRS, else WGS 84")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FileSource(_Strict):
    """A planner's own file for one layer kind (GeoPackage, GeoJSON, Shapefile or CSV)."""

    path: Path
    crs: str | int | None = Field(None, description=_FILE_CRS)
    layer: str | None = Field(None, description="layer name inside a GeoPackage")
    lon: str | None = Field(None, description="CSV longitude column (auto-detected if omitted)")
    lat: str | None = Field(None, description="CSV latitude column (auto-detected if omitted)")
    columns: dict[str, str] = Field(
        default_factory=dict, description="canonical column -> column in the file"
    )
    mode: Literal["add", "replace"] = Field(
        "add", description="add to the OSM features of this kind, or replace them"
    )
    encoding: str | None = None


class DistrictsSource(_Strict):
    """District (区/县) polygons."""

    path: Path
    crs: str | int | None = Field(None, description=_FILE_CRS)
    name_field: str = "name"
    code_field: str | None = "adcode"
    layer: str | None = None
    encoding: str | None = Field(
        None, description="text encoding of the file's attributes when it is not UTF-8 (gbk, "
        "gb18030); a Shapefile's .cpg is read when this is not given")
    include: list[str] | None = Field(None, description="district names to keep (default: all)")
    unit: str = Field(
        DEFAULT_UNIT, description="what the districts are called in the Chinese reports, maps "
        "and workbook (区县, 街道, 社区, 网格…): a 街道 analysis reads 各街道覆盖率 and 本街道, "
        "never 区县"
    )
    min_inside_km2: float = Field(
        0.5, ge=0, description="analyse a district when at least this many km² of it lie inside "
        "the data, or at least half of it does (a partly covered district is analysed on that "
        "part, and says so; a small 街道 or 社区 inside the data is always analysed)"
    )
    min_overlap_share: float = Field(
        0.0, ge=0, le=1, description="also drop districts whose share inside the data is below "
        "this (0: decide by min_inside_km2 alone)"
    )


    @field_validator("unit")
    @classmethod
    def _unit_is_a_word(cls, value: str) -> str:
        value = value.strip()
        if not (0 < len(value) <= MAX_UNIT_CHARS and all(c.isalpha() for c in value)):
            raise ValueError(f"unit {value!r} is not a word: give what the districts are called, "
                             f"letters only, at most {MAX_UNIT_CHARS} characters (区县, 街道, 社区, 网格)")
        return value


class CensusDistrictsSource(_Strict):
    """Polygons of the districts the census counts people by (区县), for analysis units it does
    not name (街道, 社区, a grid); see :mod:`geoplan.coverage.census_areas`."""

    path: Path
    crs: str | int | None = Field(None, description=_FILE_CRS)
    name_field: str = Field("name", description="field with the 区县 names as the census "
                            "spells them")
    layer: str | None = None
    encoding: str | None = None

    def as_districts(self) -> DistrictsSource:
        """The same file read as a districts file (names required, no code field)."""
        return DistrictsSource(path=self.path, crs=self.crs, name_field=self.name_field,
                               code_field=None, layer=self.layer, encoding=self.encoding)


class OsmSource(_Strict):
    """The OpenStreetMap extract (always WGS84)."""

    path: Path | None = None
    date: str | None = Field(None, description="data date, shown in reports")
    bounds: tuple[float, float, float, float] | None = Field(
        None, description="extract bounds (min lon, min lat, max lon, max lat) if the file has none"
    )


FACILITY_SNAP_FACTOR = 2.0
"""Facilities snap up to this many times ``max_snap_m``: a school or clinic mapped as one point
in the middle of its grounds lies farther from the street than any home's door does (measured
in Chengdu: schools up to 160 m). Farther facilities are left out and logged."""


class SchoolSeatSettings(_Strict):
    """School-age children and school seats (学位); see :mod:`geoplan.coverage.people`.

    Age shares default to the 2020 census 0–14 share of the city (else national), split by
    single years (:func:`geoplan.census.age_shares`); class sizes to 建标102-2002 (45 primary,
    50 junior). ``default_classes`` is an assumption used only when the planner's file gives
    neither capacity, classes nor a site area with a configured norm; every school says which.
    A school serving several levels has each figure split among them by years, the assumed
    size too (a 24-class 完全中学 has 12 junior classes).
    """

    age_share_primary: float | None = Field(None, gt=0, lt=1, description="share of residents aged 6–11")
    age_share_junior: float | None = Field(None, gt=0, lt=1, description="share of residents aged 12–14")
    age_share_source: str | None = Field(None, description="citation of the age shares given")
    class_size_primary: int = Field(45, gt=0, le=200)
    class_size_junior: int = Field(50, gt=0, le=200)
    default_classes_primary: int = Field(24, gt=0, le=1000, description="assumed classes when unknown")
    default_classes_junior: int = Field(24, gt=0, le=1000, description="assumed classes when unknown")
    site_m2_per_pupil_primary: float | None = Field(None, gt=0, description="site-area norm (m²/pupil)")
    site_m2_per_pupil_junior: float | None = Field(None, gt=0, description="site-area norm (m²/pupil)")

    @model_validator(mode="after")
    def _shares_of_one_population(self) -> SchoolSeatSettings:
        if (self.age_share_primary or 0) + (self.age_share_junior or 0) >= 1:
            raise ValueError(
                f"age_share_primary ({self.age_share_primary}) and age_share_junior "
                f"({self.age_share_junior}) add up to 100 % or more of the residents; give each "
                "age group's share (the 2020 census: about 0.05 and 0.03)")
        return self


class DemandSettings(_Strict):
    """How demand is sampled and weighted."""

    grid_m: float = Field(25.0, ge=MIN_GRID_M, le=MAX_GRID_M,
                          description="spacing of residential demand points (1–500 m)")
    street_sample_m: float = Field(25.0, ge=1.0, le=25.0, description="sampling step along streets")
    max_snap_m: float = Field(100.0, gt=0, le=1000.0,
                              description="farther than this from a walkway = unreachable")
    population_raster: Path | None = None
    population_raster_crs: str | int | None = None
    population_weight: Literal["auto", "raster", "census", "buildings", "area"] = "auto"
    population_census: bool = Field(
        True, description="spread the shipped 2020 census residents per district over the homes")
    census_city: str | None = Field(
        None, description="city whose districts the census table is searched for (default: city)")
    census_districts: CensusDistrictsSource | None = Field(
        None, description="the census's 区县 polygons (e.g. layers/boundaries/510100_districts_"
        "gcj02.geojson, crs gcj02), for analysis units the census does not name (街道, 社区, a "
        "grid): each 区县's residents go to the units by residential land")
    default_levels: float = Field(6.0, gt=0, description="levels assumed for untagged residential buildings")
    schools: SchoolSeatSettings = Field(default_factory=SchoolSeatSettings)

    @model_validator(mode="after")
    def _weight_has_its_source(self) -> DemandSettings:
        """A population weight asked for by name needs its source (checked before any work)."""
        if self.population_weight == "raster" and self.population_raster is None:
            raise ValueError("population_weight is 'raster' but no population_raster is given")
        if self.population_weight == "census" and not self.population_census:
            raise ValueError("population_weight is 'census' but population_census is false")
        if self.population_weight == "census" and not self.census_city:
            raise ValueError("population_weight is 'census' but there is no city to look the "
                             "census up for: set `city:` (or demand.census_city)")
        if self.census_districts is not None and not self.population_census:
            raise ValueError("census_districts is given but population_census is false; drop "
                             "one of them")
        if self.census_districts is not None and not self.census_city:
            raise ValueError("census_districts is given but there is no city to look the census "
                             "up for: set `city:` (or demand.census_city)")
        return self


class DeadEndSettings(_Strict):
    """Thresholds for dead-end (断头路) detection; see :mod:`geoplan.deadends`."""

    edge_tolerance_m: float = Field(30.0, ge=0)
    candidate_radius_m: float = Field(150.0, gt=0)
    min_detour_ratio: float = Field(2.0, ge=1)
    connected_hop_m: float = Field(50.0, ge=0)
    targets: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [0.5, 0.7],
        description="shares of a district's dead ends to open (0–1], one check per share")
    min_opened: int = Field(3, ge=0)


class MapSettings(_Strict):
    """The meeting map's size budget; see :mod:`geoplan.report._map_index`.

    A map whose estimated size is above ``max_mb`` is written as an index map (``map.html``:
    every district's outline and shares, linked) with one detail page per district under
    ``maps/``; ``detail_margin_m`` is how far around its district a detail page draws.
    """

    max_mb: float = Field(5.0, gt=0, description="largest single map.html, in MB (10^6 bytes)")
    detail_margin_m: float = Field(500.0, ge=0, description="data drawn around a district on "
                                   "its detail page, in metres")


class GpkgSettings(_Strict):
    """What ``coverage.gpkg`` holds beyond the tables' layers.

    ``reached_edges`` is the walked network edge by edge (the layer ``reached``, one line per
    reached piece of walkway per standard and facility item: about four rows per walking
    edge): ``all`` writes it, ``none`` leaves it out, ``auto`` writes it up to
    :data:`geoplan.coverage.reached.REACHED_EDGES_AUTO_MAX` (100,000) walking-graph edges.
    The walking reach as polygons (the layer ``reach_areas``, per standard and district) is
    always written.
    """

    reached_edges: Literal["auto", "all", "none"] = Field(
        "auto", description="the walked network edge by edge in coverage.gpkg: auto (up to "
        "100,000 walking edges), all or none")


class Scenario(_Strict):
    """Planned facilities (挂图作战) added on top of the current layers, to compare coverage."""

    description: str | None = None
    layers: dict[str, list[FileSource]] = Field(default_factory=dict)


class AnalysisConfig(_Strict):
    """A validated analysis configuration. Paths are absolute."""

    name: str
    city: str | None = None
    description: str | None = None
    crs: str | int = Field("auto", description="analysis CRS: 'auto' (local UTM) or an EPSG code")
    districts: DistrictsSource
    osm: OsmSource = Field(default_factory=OsmSource)
    layers: dict[str, list[FileSource]] = Field(default_factory=dict)
    layers_catalog: Path | None = None
    standards: list[str | dict[str, Any]] | None = Field(
        None, description="standard ids (or {id: ..., overrides}) to check; default: all"
    )
    custom_standards: list[dict[str, Any]] = Field(default_factory=list)
    pack: str | None = Field(None, description="a standards pack (national, hebi_2018, "
                             "anyang_2023, …): its targets and target years; without "
                             "`standards:`, its standards")
    targets: dict[str, float] = Field(default_factory=dict, description="standard id -> target share")
    indicators: dict[Literal["park_area_per_person", "green_space_ratio", "green_coverage",
                             "road_area_per_person"], float] = Field(
        default_factory=dict, description="indicator id -> target (geoplan.indicators)")
    demand: DemandSettings = Field(default_factory=DemandSettings)
    deadends: DeadEndSettings = Field(default_factory=DeadEndSettings)
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    map: MapSettings = Field(default_factory=MapSettings)
    gpkg: GpkgSettings = Field(default_factory=GpkgSettings)
    output: Path = Path("output")
    source_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _census_city(cls, raw: Any) -> Any:
        """The census is looked up for the config's ``city`` unless ``demand.census_city`` says."""
        if isinstance(raw, dict) and raw.get("city"):
            demand = raw.get("demand")
            if demand is None:
                return {**raw, "demand": {"census_city": raw["city"]}}
            if isinstance(demand, dict) and demand.get("census_city") is None:
                return {**raw, "demand": {**demand, "census_city": raw["city"]}}
        return raw

    @field_validator("standards", mode="before")
    @classmethod
    def _standards_as_text(cls, value: Any) -> Any:
        """``standards: park_500, bus_stop_500`` (one line of text, as the notebooks and the
        command line take it) is the list of those ids."""
        if isinstance(value, str):
            return [s.strip() for s in value.replace("，", ",").split(",") if s.strip()]
        return value

    @field_validator("layers")
    @classmethod
    def _known_layer_kinds(cls, value: dict[str, list[FileSource]]) -> dict[str, list[FileSource]]:
        unknown = [k for k in value if k not in LAYER_KINDS]
        if unknown:
            raise ValueError(
                f"unknown layer kind(s) {unknown}; known kinds: {', '.join(LAYER_KINDS)}"
            )
        return value

    @property
    def base_dir(self) -> Path:
        """The folder relative paths were resolved against."""
        return self.source_file.parent if self.source_file else Path.cwd()


def load_config(path: str | os.PathLike[str], *, check_files: bool = True) -> AnalysisConfig:
    """Read and validate an analysis YAML file.

    Parameters
    ----------
    path
        The YAML file.
    check_files
        Also check that every referenced input file exists (the OSM file may be missing
        only if ``check_files`` is False, e.g. for ``geoplan fetch``).

    Raises
    ------
    ConfigError
        Listing every problem found, each with its key path.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(str(path), [
            "this is a folder, not a configuration file; give the YAML file "
            "(e.g. analyses/chengdu_core.yaml)"])
    if not path.is_file():
        raise ConfigError(str(path), [_missing_config(path)])
    try:
        raw = yaml.load(read_text_utf8(path, what="the configuration file"), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    except DuplicateKeyError as exc:
        raise ConfigError(str(path), [str(exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["the file must hold a mapping of keys (name:, districts:, …)"])
    raw = {**raw, "source_file": path.resolve()}
    return config_from_dict(raw, base_dir=path.resolve().parent, source=str(path),
                            check_files=check_files)


def read_text_utf8(path: Path, *, what: str) -> str:
    """The text of ``path``, which must be UTF-8 (a byte-order mark is fine).

    Raises
    ------
    ConfigError
        When the file is not UTF-8, saying which encoding it looks like and how to fix it.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = ""
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0  # not counted
        try:
            data.removeprefix(codecs.BOM_UTF8).decode("gb18030")
            guess = " (it looks like GBK/GB18030, common on Chinese Windows)"
            if bom:
                guess = (" (it starts with UTF-8's byte-order mark, but the text after it looks "
                         "like GBK/GB18030)")
        except UnicodeDecodeError:
            pass
        raise ConfigError(str(path), [
            f"{what} is not UTF-8{guess}: byte {exc.start + bom} cannot be decoded. Save it as "
            "UTF-8 (in Notepad: Save As, Encoding: UTF-8; in VS Code: Reopen/Save with Encoding)"
        ]) from None


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping names one key twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (YAML says it is an error;
    PyYAML would silently keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                first = seen[key].start_mark.line + 1
                raise DuplicateKeyError(
                    f"the key {key!r} appears twice (lines {first} and "
                    f"{key_node.start_mark.line + 1}); YAML keeps only one, so delete or merge "
                    "the other")
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def config_from_dict(
    raw: dict[str, Any],
    *,
    base_dir: Path,
    source: str = "configuration",
    check_files: bool = True,
) -> AnalysisConfig:
    """Validate a configuration given as a dict (see :func:`load_config`)."""
    raw = _resolve_paths(dict(raw), base_dir)
    raw["source_file"] = raw.get("source_file") or (base_dir / "_adhoc.yaml")
    try:
        config = AnalysisConfig.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        raise ConfigError(source, [_pydantic_problem(e) for e in errors]
                          + _problems_beside_type_errors(raw, errors, check_files)) from None
    problems = _semantic_problems(config, check_files=check_files)
    if problems:
        raise ConfigError(source, problems)
    return config


def _problems_beside_type_errors(raw: dict[str, Any], errors: list[Any],
                                 check_files: bool) -> list[str]:
    """The checks of meaning on the top-level keys whose types are right.

    So one run names every problem: ``name: 5`` and ``pack: nopack`` are both said, not the
    first now and the second after the fix. A key with a type error is left out of the checks.
    """
    from pydantic import TypeAdapter

    failed = {str(e["loc"][0]) if e["loc"] else "" for e in errors}
    if "" in failed:  # a problem of the whole file: nothing to check apart
        return []
    values: dict[str, Any] = {}
    for key, field in AnalysisConfig.model_fields.items():
        if key in failed or key not in raw or field.annotation is None:
            continue
        try:
            values[key] = TypeAdapter(field.annotation).validate_python(raw[key])
        except ValidationError:  # valid only with the whole file's context: not checked apart
            failed.add(key)
    config = AnalysisConfig.model_construct(**values)
    return _semantic_problems(config, check_files=check_files, skip=frozenset(failed))


def _missing_config(path: Path) -> str:
    """Why a config path leads nowhere, from where it was looked for, with the nearest config
    file by name in its folder (or in ``analyses/`` of the working folder) when there is one."""
    said = f"the configuration file does not exist (looked for {path.absolute()})"
    folders = [path.parent, Path("analyses")] if path.parent.is_dir() else [Path("analyses")]
    known = {str(p): p.stem for f in folders if f.is_dir()
             for p in sorted(f.glob("*.y*ml")) if p.suffix in (".yaml", ".yml")}
    # by the names without their suffix (a shared .yaml made xyz.yaml near xiamen.yaml); the
    # nearest, and those as near (chengdu.yaml is as near chengdu_core as chengdu_grid)
    score = {stem: difflib.SequenceMatcher(None, path.stem, stem).ratio()
             for stem in set(known.values())}
    best = max(score.values(), default=0.0)
    close = sorted((stem for stem, r in score.items() if r >= max(0.6, best - 0.05)),
                   key=lambda stem: (-score[stem], stem))[:3]
    if close:
        near = [p for stem in close for p, name in known.items() if name == stem]
        return f"{said}; did you mean {' or '.join(near[:3])}?"
    return (f"{said}; give the path of an analysis config from the folder you run in "
            f"({Path.cwd()}), e.g. analyses/chengdu_core.yaml in geoplan's own folder")


def _pydantic_problem(error: Any) -> str:
    # list positions as [i], keys joined by dots: osm.bounds[3], as standards[1] reads
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".") \
        or "(top level)"
    if error["type"] == "extra_forbidden":
        known = _keys_at(error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1, cutoff=0.6)
        return f"{loc}: unknown key" + (f" (did you mean {close[0]!r}?)" if close else
                                        " (misspelt?)" if not known else
                                        f"; the keys here are {', '.join(sorted(known))}")
    if error["type"] == "missing":
        return f"{loc}: required key is missing"
    if error["type"] == "value_error":  # a validator's own sentence, without pydantic's prefix
        return f"{loc}: {error['msg'].removeprefix('Value error, ')}"
    if error["type"] in ("float_parsing", "int_parsing", "float_type", "int_type") \
            and isinstance(error.get("input"), str):
        return f"{loc}: {_not_a_number(error['input'], loc, whole=error['type'].startswith('int'))}"
    return f"{loc}: {error['msg']}"


def _not_a_number(text: str, loc: str, *, whole: bool) -> str:
    """What to write instead of ``text`` where the config takes a number (``whole``: an
    integer), with the number it likely meant when that is plain (``25m`` → 25, ``80%`` →
    0.8); nothing guessed from ``1,000``, which could be a thousand or one.

    Examples
    --------
    >>> _not_a_number("25m", "demand.grid_m", whole=False).split("; ")[1]
    "write the number alone, without its unit (the key's name says it), e.g. grid_m: 25"
    >>> _not_a_number("80%", "targets.park_500", whole=False)
    "'80%' is not a number; a share is written as a fraction, e.g. park_500: 0.8"
    >>> _not_a_number("1,000", "demand.max_snap_m", whole=False)
    "'1,000' is not a number; write digits and a decimal point only (no unit, % or thousands separator)"
    """
    value = text.strip()
    key = loc.rsplit(".", 1)[-1]

    def example(number: str) -> str:  # a list item has no key of its own to write
        return number if key.endswith("]") else f"{key}: {number}"

    if whole and re.fullmatch(r"[-+]?\d+\.\d*", value):
        return f"{text!r} is not a whole number, e.g. {example(str(round(float(value))))}"
    percent = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)\s*%", value)
    if percent and not whole:
        return (f"{text!r} is not a number; a share is written as a fraction, "
                f"e.g. {example(f'{float(percent[1]) / 100:g}')}")
    unit = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)\s*[^\W\d_]+²?", value)
    if unit:
        return (f"{text!r} is not a number; write the number alone, without its unit (the key's "
                f"name says it), e.g. {example(unit[1])}")
    return (f"{text!r} is not a number; write digits and a decimal point only (no unit, % or "
            "thousands separator)")


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys a config section takes, found by following ``loc`` (keys and list positions,
    as in a pydantic error) from the top of the config: a section's field, a dict's own key
    (a layer kind, a scenario's name) or a list position at each step; empty where it leads
    to no section of set keys."""
    annotation: Any = AnalysisConfig
    for part in loc:
        annotation = _section(annotation)
        if isinstance(part, int):
            continue
        if _is_model(annotation):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = _section(annotation)
    return [k for k in annotation.model_fields if k != "source_file"] if _is_model(annotation) else []


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _section(annotation: Any) -> Any:
    """A field's type without what wraps a section: an Optional, a list, Annotated."""
    while not _is_model(annotation) and typing.get_origin(annotation) is not dict:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not inner:
            return annotation
        annotation = next((a for a in inner if _is_model(a) or typing.get_origin(a) is dict),
                          inner[0])
    return annotation


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    def fix(value: Any) -> Any:
        if isinstance(value, str) and value:
            p = Path(os.path.expanduser(value))
            if p.is_absolute():
                return p
            try:
                return (base / p).resolve()
            except (OSError, RuntimeError):  # a symlink loop: the file check names the path
                return Path(os.path.abspath(base / p))
        return value

    for section, key in (("districts", "path"), ("osm", "path"), ("demand", "population_raster")):
        if isinstance(raw.get(section), dict) and key in raw[section]:
            raw[section] = {**raw[section], key: fix(raw[section][key])}
    demand = raw.get("demand")
    if isinstance(demand, dict) and isinstance(demand.get("census_districts"), dict) \
            and "path" in demand["census_districts"]:
        zones = demand["census_districts"]
        raw["demand"] = {**demand, "census_districts": {**zones, "path": fix(zones["path"])}}
    for key in ("output", "layers_catalog"):
        if key in raw:
            raw[key] = fix(raw[key])
    def fix_layers(layers: Any) -> Any:
        if not isinstance(layers, dict):
            return layers
        fixed = {}
        for kind, sources in layers.items():
            if isinstance(sources, dict):
                sources = [sources]
            if isinstance(sources, list):
                sources = [
                    {**s, "path": fix(s["path"])} if isinstance(s, dict) and "path" in s else s
                    for s in sources
                ]
            fixed[kind] = sources
        return fixed

    raw["layers"] = fix_layers(raw.get("layers", {}))
    if isinstance(raw.get("scenarios"), dict):
        raw["scenarios"] = {
            name: {**spec, "layers": fix_layers(spec.get("layers", {}))} if isinstance(spec, dict) else spec
            for name, spec in raw["scenarios"].items()
        }
    return raw


def _semantic_problems(config: AnalysisConfig, *, check_files: bool,
                       skip: frozenset[str] = frozenset()) -> list[str]:
    """The checks of meaning (CRS, encodings, files, standards) of a typed config; the
    top-level keys in ``skip`` (with type errors, said already) are not checked."""
    from geoplan.crs import parse_declared_crs, resolve_analysis_crs

    problems: list[str] = []

    def ok(*keys: str) -> bool:
        return not skip.intersection(keys)

    def encoding_ok(where: str, value: str | None) -> None:
        if value is None:
            return
        try:
            codecs.lookup(value)
        except LookupError:
            problems.append(f"{where}: unknown encoding {value!r}; use utf-8, gb18030 or gbk")

    def crs_ok(where: str, value: str | int | None) -> None:
        if value is None:
            return
        try:
            parse_declared_crs(value)
        except CRSError as exc:
            problems.append(f"{where}: {exc}")

    def file_ok(where: str, path: Path) -> None:
        problem = file_problem(where, path)
        if problem is not None:
            problems.append(problem)

    if ok("districts"):
        crs_ok("districts.crs", config.districts.crs)
    zones = None
    if ok("demand"):
        crs_ok("demand.population_raster_crs", config.demand.population_raster_crs)
        zones = config.demand.census_districts
    if zones is not None:
        crs_ok("demand.census_districts.crs", zones.crs)
        encoding_ok("demand.census_districts.encoding", zones.encoding)
    bounds = config.osm.bounds if ok("osm") else None
    if bounds is not None:
        west, south, east, north = bounds
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):  # finite: pydantic
            problems.append(f"osm.bounds: {list(bounds)} must be [min lon, min lat, max lon, "
                            "max lat] in degrees, each minimum below its maximum")
    if ok("crs") and str(config.crs).lower() not in ("auto", "utm"):
        try:
            resolve_analysis_crs(config.crs, None)
        except CRSError as exc:
            problems.append(f"crs: {exc}")
    sections = [("layers", config.layers)] if ok("layers") else []
    if ok("scenarios"):
        sections += [(f"scenarios.{name}.layers", sc.layers)
                     for name, sc in config.scenarios.items()]
    for where, layers in sections:
        unknown = [k for k in layers if k not in LAYER_KINDS]
        if unknown and where != "layers":
            problems.append(f"{where}: unknown layer kind(s) {unknown}; known: {', '.join(LAYER_KINDS)}")
        for kind, sources in layers.items():
            first: dict[tuple[Path, str | None], int] = {}
            for i, src in enumerate(sources):
                j = first.setdefault((src.path, src.layer), i)
                if j != i:  # its features would be counted twice
                    problems.append(f"{where}.{kind}[{i}]: the same file as {where}.{kind}[{j}] "
                                    f"({src.path.name}); list it once")
                crs_ok(f"{where}.{kind}[{i}].crs", src.crs)
                # a scenario's files are checked when it is measured: a draft scenario whose
                # file is not there yet must not stop today's analysis
                if check_files and where == "layers":
                    file_ok(f"{where}.{kind}[{i}].path", src.path)
                encoding_ok(f"{where}.{kind}[{i}].encoding", src.encoding)
    if ok("districts"):
        encoding_ok("districts.encoding", config.districts.encoding)
    if check_files:
        if ok("districts"):
            file_ok("districts.path", config.districts.path)
        if ok("osm", "layers"):
            _osm_file_ok(config, problems, file_ok)
        raster = config.demand.population_raster if ok("demand") else None
        if raster is not None:
            file_ok("demand.population_raster", raster)
        if zones is not None:
            file_ok("demand.census_districts.path", zones.path)
        if ok("layers_catalog") and config.layers_catalog is not None:
            file_ok("layers_catalog", config.layers_catalog)
    if ok("standards", "custom_standards", "targets", "pack"):
        problems += _standard_problems(config)
    return problems


def file_problem(where: str, path: Path) -> str | None:
    """What is wrong with the input file ``path`` given at key ``where`` (None: a file)."""
    if path.is_dir():
        return f"{where}: {path} is a folder; give the file inside it"
    if path.exists() and not path.is_file():
        return f"{where}: {path} is not a regular file (a device or pipe); give a data file"
    if not path.is_file():
        return f"{where}: file not found: {path}"
    return None


def _osm_file_ok(config: AnalysisConfig, problems: list[str],
                 file_ok: Callable[[str, Path], None]) -> None:
    """The OSM file's check: given and there, or layer files instead."""
    if config.osm.path is None and not config.layers:
        problems.append(
            "osm.path: no OSM file and no layer files are configured; give `osm: {path: ...}` "
            "or run `geoplan fetch CONFIG` to download one"
        )
    elif config.osm.path is not None and config.osm.path.exists() \
            and not config.osm.path.is_file():
        file_ok("osm.path", config.osm.path)  # a folder or a device
    elif config.osm.path is not None and not config.osm.path.is_file():
        problems.append(
            f"osm.path: file not found: {config.osm.path}. Download it with "
            "`geoplan fetch CONFIG` (needs the internet) or point osm.path at an extract."
        )


def _standard_problems(config: AnalysisConfig) -> list[str]:
    try:
        check_config_standards(config)
    except StandardError as exc:
        return [str(exc)]
    except ConfigError as exc:
        return exc.problems
    return []
