"""Analysis configuration: one YAML file per analysis, validated fully before any work starts.

:func:`load_config` reads the YAML, checks its structure with pydantic, then checks what
pydantic cannot (files exist, CRS names are known, standard ids exist) and raises one
:class:`~geoplan._errors.ConfigError` listing every problem with its key path.
Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geoplan._errors import ConfigError, CRSError, StandardError
from geoplan.layers.rules import LAYER_KINDS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSource(_Strict):
    """A planner's own file for one layer kind (GeoPackage, GeoJSON, Shapefile or CSV)."""

    path: Path
    crs: str | int = "wgs84"
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
    crs: str | int = "wgs84"
    name_field: str = "name"
    code_field: str | None = "adcode"
    layer: str | None = None
    include: list[str] | None = Field(None, description="district names to keep (default: all)")
    min_overlap_share: float = Field(
        0.01, ge=0, le=1, description="drop districts whose share inside the data is below this"
    )


class OsmSource(_Strict):
    """The OpenStreetMap extract (always WGS84)."""

    path: Path | None = None
    date: str | None = Field(None, description="data date, shown in reports")
    bounds: tuple[float, float, float, float] | None = Field(
        None, description="extract bounds (min lon, min lat, max lon, max lat) if the file has none"
    )


class DemandSettings(_Strict):
    """How demand is sampled and weighted."""

    grid_m: float = Field(25.0, gt=0, description="spacing of residential demand points")
    street_sample_m: float = Field(25.0, gt=0, le=25.0, description="sampling step along streets")
    max_snap_m: float = Field(100.0, gt=0, description="farther than this from a walkway = unreachable")
    population_raster: Path | None = None
    population_raster_crs: str | int | None = None
    population_weight: Literal["auto", "raster", "buildings", "area"] = "auto"
    default_levels: float = Field(6.0, gt=0, description="levels assumed for untagged residential buildings")


class DeadEndSettings(_Strict):
    """Thresholds for dead-end (断头路) detection; see :mod:`geoplan.deadends`."""

    edge_tolerance_m: float = Field(30.0, ge=0)
    candidate_radius_m: float = Field(150.0, gt=0)
    min_detour_ratio: float = Field(2.0, ge=1)
    connected_hop_m: float = Field(50.0, ge=0)
    targets: list[float] = Field(default_factory=lambda: [0.5, 0.7])
    min_opened: int = Field(3, ge=0)


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
    demand: DemandSettings = Field(default_factory=DemandSettings)
    deadends: DeadEndSettings = Field(default_factory=DeadEndSettings)
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    output: Path = Path("output")
    source_file: Path | None = None

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
    if not path.is_file():
        raise ConfigError(str(path), ["the configuration file does not exist"])
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["the file must hold a mapping of keys (name:, districts:, …)"])
    raw = {**raw, "source_file": path.resolve()}
    return config_from_dict(raw, base_dir=path.resolve().parent, source=str(path),
                            check_files=check_files)


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
        raise ConfigError(source, [_pydantic_problem(e) for e in exc.errors()]) from None
    problems = _semantic_problems(config, check_files=check_files)
    if problems:
        raise ConfigError(source, problems)
    return config


def _pydantic_problem(error: Any) -> str:
    loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown key (misspelt?)"
    if error["type"] == "missing":
        return f"{loc}: required key is missing"
    return f"{loc}: {error['msg']}"


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    def fix(value: Any) -> Any:
        if isinstance(value, str) and value:
            p = Path(os.path.expanduser(value))
            return p if p.is_absolute() else (base / p).resolve()
        return value

    for section, key in (("districts", "path"), ("osm", "path"), ("demand", "population_raster")):
        if isinstance(raw.get(section), dict) and key in raw[section]:
            raw[section] = {**raw[section], key: fix(raw[section][key])}
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


def _semantic_problems(config: AnalysisConfig, *, check_files: bool) -> list[str]:
    from geoplan.crs import parse_declared_crs, resolve_analysis_crs

    problems: list[str] = []

    def crs_ok(where: str, value: str | int | None) -> None:
        if value is None:
            return
        try:
            parse_declared_crs(value)
        except CRSError as exc:
            problems.append(f"{where}: {exc}")

    crs_ok("districts.crs", config.districts.crs)
    crs_ok("demand.population_raster_crs", config.demand.population_raster_crs)
    if str(config.crs).lower() not in ("auto", "utm"):
        try:
            resolve_analysis_crs(config.crs, None)
        except CRSError as exc:
            problems.append(f"crs: {exc}")
    sections = [("layers", config.layers)]
    sections += [(f"scenarios.{name}.layers", sc.layers) for name, sc in config.scenarios.items()]
    for where, layers in sections:
        unknown = [k for k in layers if k not in LAYER_KINDS]
        if unknown and where != "layers":
            problems.append(f"{where}: unknown layer kind(s) {unknown}; known: {', '.join(LAYER_KINDS)}")
        for kind, sources in layers.items():
            for i, src in enumerate(sources):
                crs_ok(f"{where}.{kind}[{i}].crs", src.crs)
                if check_files and not src.path.is_file():
                    problems.append(f"{where}.{kind}[{i}].path: file not found: {src.path}")
    if check_files:
        if not config.districts.path.is_file():
            problems.append(f"districts.path: file not found: {config.districts.path}")
        if config.osm.path is None and not config.layers:
            problems.append(
                "osm.path: no OSM file and no layer files are configured; give `osm: {path: ...}` "
                "or run `geoplan fetch CONFIG` to download one"
            )
        elif config.osm.path is not None and not config.osm.path.is_file():
            problems.append(
                f"osm.path: file not found: {config.osm.path}. Download it with "
                "`geoplan fetch CONFIG` (needs the internet) or point osm.path at an extract."
            )
        raster = config.demand.population_raster
        if raster is not None and not raster.is_file():
            problems.append(f"demand.population_raster: file not found: {raster}")
        if config.layers_catalog is not None and not config.layers_catalog.is_file():
            problems.append(f"layers_catalog: file not found: {config.layers_catalog}")
    problems += _standard_problems(config)
    return problems


def _standard_problems(config: AnalysisConfig) -> list[str]:
    try:
        from geoplan.standards import check_config_standards
    except ImportError:  # the standards catalog is not built yet
        return []
    try:
        check_config_standards(config)
    except StandardError as exc:
        return [str(exc)]
    except ConfigError as exc:
        return exc.problems
    return []
