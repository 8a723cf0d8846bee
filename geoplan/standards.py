"""The standards catalog: service-radius standards as data, with provenance.

The default catalog ships as package data (``geoplan/data/standards.yaml``). An analysis config
chooses standards by id (``standards:``), overrides any field (``{id: park_500, radius_m: 400}``
or ``targets: {park_500: 0.9}``) and adds its own (``custom_standards:``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geoplan._errors import ConfigError, StandardError
from geoplan.vocab import DemandKind


class StandardsChoice(Protocol):
    """What :func:`check_config_standards` reads of a config (an
    :class:`~geoplan.config.AnalysisConfig` has all three)."""

    @property
    def standards(self) -> Sequence[str | Mapping[str, Any]] | None: ...

    @property
    def custom_standards(self) -> Sequence[Mapping[str, Any]] | None: ...

    @property
    def targets(self) -> Mapping[str, float] | None: ...



class FacilitySet(BaseModel):
    """A layer kind and a filter on its canonical columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    layer: Literal["parks", "green_space", "toilets", "schools", "bus_stops", "services"]
    filter: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None

    def select(self, layer: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of ``layer`` this set keeps."""
        mask = np.ones(len(layer), dtype=bool)
        for key, wanted in self.filter.items():
            if key in ("min_area_m2", "max_area_m2"):
                area = layer["area_m2"].to_numpy(dtype=float)
                mask &= area >= wanted if key == "min_area_m2" else area < wanted
                continue
            if key not in layer.columns:
                raise StandardError(
                    f"filter column {key!r} is not in layer {self.layer!r}; "
                    f"its columns are {list(layer.columns)}"
                )
            values = layer[key]
            if isinstance(wanted, dict):
                if "min" in wanted:
                    mask &= values.to_numpy(dtype=float) >= wanted["min"]
                if "max" in wanted:
                    mask &= values.to_numpy(dtype=float) < wanted["max"]
            elif isinstance(wanted, list):
                mask &= values.isin(wanted).to_numpy()
            else:
                mask &= (values == wanted).to_numpy()
        return mask


class RadiusRule(BaseModel):
    """Facilities with ``area_m2 >= min_area_m2`` get ``radius_m`` (first match wins)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min_area_m2: float = Field(ge=0)
    radius_m: float = Field(gt=0)


class Standard(BaseModel):
    """One measurable standard (see ``geoplan/data/standards.yaml`` for the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    name_zh: str
    name_en: str
    source: dict[str, str] = Field(default_factory=dict)
    facility: FacilitySet | None = None
    basket: list[FacilitySet] | None = None
    demand: DemandKind = "residential"
    radius_m: float | None = Field(None, gt=0)
    radius_rule: list[RadiusRule] | None = None
    target: float = Field(1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _complete(self) -> Standard:
        if (self.facility is None) == (self.basket is None):
            raise ValueError("give exactly one of `facility` or `basket`")
        if self.radius_m is None and not self.radius_rule:
            raise ValueError("give `radius_m` (> 0) or a `radius_rule`")
        return self

    @property
    def max_radius_m(self) -> float:
        """The largest radius this standard uses."""
        radii = [r.radius_m for r in self.radius_rule or ()]
        if self.radius_m is not None:
            radii.append(self.radius_m)
        return max(radii)

    @property
    def facility_sets(self) -> list[FacilitySet]:
        """The facility sets to reach: one, or every basket item."""
        return list(self.basket) if self.basket else [self.facility]  # type: ignore[list-item]

    def radii_for(self, facilities: pd.DataFrame) -> np.ndarray:
        """Radius of each facility row (the radius rule by area, else ``radius_m``)."""
        if not self.radius_rule:
            return np.full(len(facilities), float(self.radius_m or 0.0))
        area = facilities["area_m2"].to_numpy(dtype=float)
        radii = np.full(len(facilities), np.nan)
        for rule in sorted(self.radius_rule, key=lambda r: -r.min_area_m2):
            radii = np.where(np.isnan(radii) & (area >= rule.min_area_m2), rule.radius_m, radii)
        fallback = self.radius_m if self.radius_m is not None else np.nan
        return np.where(np.isnan(radii), fallback, radii)


@functools.lru_cache(maxsize=1)
def _default_entries() -> tuple[dict[str, Any], ...]:
    text = (resources.files("geoplan") / "data" / "standards.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["standards"])


def default_catalog() -> dict[str, Standard]:
    """The shipped catalog, by id."""
    return {e["id"]: Standard.model_validate(e) for e in _default_entries()}


def catalog_table(catalog: Mapping[str, Standard] | None = None) -> pd.DataFrame:
    """The catalog as a table (what ``geoplan standards`` prints)."""
    catalog = catalog or default_catalog()
    rows = []
    for s in catalog.values():
        rows.append({
            "id": s.id,
            "name_zh": s.name_zh,
            "name_en": s.name_en,
            "facility": "+".join(f.label or f.layer for f in s.facility_sets),
            "demand": s.demand,
            "radius_m": s.radius_m if not s.radius_rule else "/".join(
                f"{r.radius_m:g}" for r in s.radius_rule),
            "target": s.target,
            "source": f"{s.source.get('document', '')} {s.source.get('clause', '')}".strip(),
        })
    return pd.DataFrame(rows)


def _unknown_id_message(where: str, sid: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(sid, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown standard id {sid!r}{hint} Known ids: {', '.join(known)}"


def resolve_standards(
    refs: Sequence[str | Mapping[str, Any]] | None = None,
    *,
    custom: Sequence[Mapping[str, Any]] = (),
    targets: Mapping[str, float] | None = None,
) -> list[Standard]:
    """Build the list of standards an analysis checks.

    Parameters
    ----------
    refs
        Ids, or mappings ``{id: ..., <field>: <override>}``; None means every standard in the
        catalog (custom ones included).
    custom
        Extra standard entries (full definitions); they may also replace a default id.
    targets
        Target overrides by id.

    Raises
    ------
    ConfigError
        Listing every unknown id and invalid field.
    """
    entries = {e["id"]: dict(e) for e in _default_entries()}
    problems: list[str] = []
    for i, entry in enumerate(custom):
        if not isinstance(entry, Mapping) or "id" not in entry:
            problems.append(f"custom_standards[{i}]: each entry needs an `id`")
            continue
        entries[str(entry["id"])] = dict(entry)
    chosen: list[tuple[str, dict[str, Any]]] = []
    for i, ref in enumerate(refs if refs is not None else list(entries)):
        where = f"standards[{i}]"
        if isinstance(ref, str):
            sid, overrides = ref, {}
        elif isinstance(ref, Mapping) and "id" in ref:
            sid, overrides = str(ref["id"]), {k: v for k, v in ref.items() if k != "id"}
        else:
            problems.append(f"{where}: give an id or a mapping with `id:`")
            continue
        if sid not in entries:
            problems.append(_unknown_id_message(where, sid, list(entries)))
            continue
        chosen.append((where, {**entries[sid], **overrides}))
    for sid in targets or {}:
        if sid not in entries:
            problems.append(_unknown_id_message("targets", sid, list(entries)))
    standards: list[Standard] = []
    for where, entry in chosen:
        if targets and entry["id"] in targets:
            entry["target"] = targets[entry["id"]]
        try:
            standards.append(Standard.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                problems.append(f"{where} ({entry['id']}).{loc}: {err['msg']}")
    if problems:
        raise ConfigError("standards", problems)
    return standards


def check_config_standards(config: StandardsChoice) -> list[Standard]:
    """Resolve the standards of ``config`` (raises :class:`ConfigError` on any problem)."""
    return resolve_standards(config.standards, custom=config.custom_standards or (),
                             targets=config.targets)
