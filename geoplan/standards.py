"""The standards catalog: service-radius standards as data, with provenance.

The default catalog ships as package data (``geoplan/data/standards.yaml``): the source
documents in full (title, issuing body, number, date), the standards citing them clause by
clause, and packs (national standards; each city's documents) that set each target and the
year it applies. An analysis config chooses a pack (``pack: anyang_2023``), standards by id
(``standards:``), overrides any field (``{id: park_500, radius_m: 400}`` or
``targets: {park_500: 0.9}``) and adds its own (``custom_standards:``).
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geoplan._errors import ConfigError, StandardError
from geoplan._io import load_yaml
from geoplan.vocab import COMMON_COLUMNS, LAYER_COLUMNS, DemandKind


def default_min_items(n_items: int) -> int:
    """The default k of "at least k of n": all but one item (1 when n is 1 or 2… n−1 ≥ 1).

    Parameters
    ----------
    n_items
        Number of items in the basket.

    Returns
    -------
    int
        ``max(n_items - 1, 1)`` (0 for an empty basket).
    """
    return 0 if n_items <= 0 else max(n_items - 1, 1)


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

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    layer: Literal["parks", "green_space", "toilets", "schools", "bus_stops", "services"]
    filter: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    reached_from: Literal["outline", "point"] | None = None
    """Where a facility drawn as an area is buffered and walked to from, for this standard
    only; None: as the layer catalog says (:meth:`reached_from_for`)."""
    reached_from_why: str | None = None

    @field_validator("filter")
    @classmethod
    def _numbers_where_compared(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Bounds (``min_area_m2``, ``{min: …, max: …}``) must be finite numbers."""
        for key, wanted in value.items():
            bounds = ({key: wanted} if key in ("min_area_m2", "max_area_m2") else
                      {f"{key}.{k}": v for k, v in wanted.items() if k in ("min", "max")}
                      if isinstance(wanted, dict) else {})
            for name, bound in bounds.items():
                if isinstance(bound, bool) or not isinstance(bound, (int, float)) \
                        or not math.isfinite(bound):
                    raise ValueError(f"filter {name}: {bound!r} is not a number (give metres "
                                     "or square metres as digits, e.g. 10000)")
        return value

    @model_validator(mode="after")
    def _columns_of_the_layer(self) -> FacilitySet:
        """Every filter key is a column of the layer (or an area bound), so a misspelt key
        stops the config at once rather than after the layers have loaded."""
        known = [*COMMON_COLUMNS, *LAYER_COLUMNS[self.layer]]
        for key in self.filter:
            if key not in ("min_area_m2", "max_area_m2") and key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"filter column {key!r} is not a column of layer "
                                 f"{self.layer!r}{hint}; its columns are {', '.join(known)}")
        return self

    @property
    def item(self) -> str:
        """The item's id in results (its label, else the layer)."""
        return self.label or self.layer

    @property
    def said(self) -> str:
        """The item as an English message names it: its English name with the Chinese one
        ('Public toilet (公共厕所)'), else whichever the catalog gives, else its id."""
        zh = self.name_zh or self.item
        return f"{self.name_en} ({zh})" if self.name_en and self.name_en != zh else zh

    def reached_from_for(self, catalog_modes: Mapping[str, str]) -> str | None:
        """Where this set's facilities are reached from: the set's own ``reached_from``, else
        the catalog's (``catalog_modes`` as :attr:`geoplan.layers.LayerSet.reached_from`).

        For the services layer the kinds of the ``kind`` filter decide: ``'outline'`` when
        every one is reached from its outline, else ``'point'``. None when nothing says
        (facilities are then used as the layer gives them).
        """
        if self.reached_from is not None:
            return self.reached_from
        wanted = self.filter.get("kind")
        if self.layer == "services" and wanted is not None and not isinstance(wanted, dict):
            kinds = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
            modes = [catalog_modes.get(f"services:{k}") for k in kinds]
            if modes and all(m is not None for m in modes):
                return "outline" if all(m == "outline" for m in modes) else "point"
        return catalog_modes.get(self.layer)

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
            if key == "kind" and not isinstance(wanted, dict):
                # the services layer keeps every matching kind, ";"-joined
                allowed = {str(w) for w in (wanted if isinstance(wanted, list) else [wanted])}
                parts = values.fillna("").astype(str).str.split(";")
                mask &= np.fromiter((bool(allowed.intersection(p)) for p in parts), dtype=bool,
                                    count=len(parts))
                continue
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

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    min_area_m2: float = Field(ge=0)
    radius_m: float = Field(gt=0)


class SourceRef(BaseModel):
    """A clause of a source document (``document`` is an id of the catalog's ``documents``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    document: str
    clause: str = ""
    note: str = ""


class Document(BaseModel):
    """A source document in full."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    id: str
    title: str
    issuer: str = ""
    number: str = ""
    date: str = ""
    seed: str = ""
    note: str = ""

    @property
    def full_title(self) -> str:
        """``issuer《title》(number, date)``, or ``number《title》`` for a numbered standard."""
        if self.number.startswith(("GB", "CJJ", "JGJ", "TD")):
            return f"{self.number}《{self.title}》"
        issuer = self.issuer if self.issuer and not self.issuer.startswith("not ") else ""
        extra = [v for v in (self.number, self.date) if v and not v.startswith("not ")]
        tail = f"（{'，'.join(extra)}）" if extra else ""
        return f"{issuer}《{self.title}》{tail}"


class PackTarget(BaseModel):
    """One target of a pack: the share, the year it applies and the clause setting it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    target: float = Field(1.0, ge=0, le=1)
    year: int | None = None
    clause: str = ""


class Pack(BaseModel):
    """A group of standards with their targets and target years."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    id: str
    name_zh: str
    name_en: str
    documents: list[str] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list)
    targets: dict[str, PackTarget] = Field(default_factory=dict)
    note: str = ""


class Standard(BaseModel):
    """One measurable standard (see ``geoplan/data/standards.yaml`` for the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    name_zh: str
    name_en: str
    sheet_en: str | None = Field(None, max_length=31)
    """The English name as a workbook sheet's title (at most 31 characters), where
    ``name_en`` is longer."""
    source: dict[str, str] = Field(default_factory=dict)
    sources: list[SourceRef] = Field(default_factory=list)
    facility: FacilitySet | None = None
    basket: list[FacilitySet] | None = None
    unmeasured_items: list[str] = Field(default_factory=list)
    min_items: int | None = Field(None, ge=1)
    demand: DemandKind = "residential"
    radius_m: float | None = Field(None, gt=0)
    radius_rule: list[RadiusRule] | None = None
    radius_note: str = ""
    target: float = Field(1.0, ge=0, le=1)
    target_year: int | None = None
    pack: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Standard:
        if (self.facility is None) == (self.basket is None):
            raise ValueError("give exactly one of `facility` or `basket`")
        if self.basket is not None and not self.basket:
            raise ValueError("`basket` lists no items; give at least one, or use `facility`")
        if self.radius_m is None and not self.radius_rule:
            raise ValueError("give `radius_m` (> 0) or a `radius_rule`")
        if self.basket and len({f.item for f in self.basket}) != len(self.basket):
            raise ValueError("basket items need distinct labels")
        if self.min_items is not None and self.basket and self.min_items > len(self.basket):
            raise ValueError(f"min_items ({self.min_items}) is more than the basket's "
                             f"{len(self.basket)} items")
        return self

    @property
    def k_of_n(self) -> int:
        """The k of "at least k of n items" (``min_items``, default all but one)."""
        n = len(self.facility_sets)
        return self.min_items if self.min_items is not None else default_min_items(n)

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
def _catalog_data() -> dict[str, Any]:
    text = (resources.files("geoplan") / "data" / "standards.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = load_yaml(text)
    return data


def _default_entries() -> tuple[dict[str, Any], ...]:
    return tuple(_catalog_data()["standards"])


@functools.lru_cache(maxsize=1)
def documents() -> dict[str, Document]:
    """The catalog's source documents, by id."""
    raw = _catalog_data().get("documents") or {}
    return {k: Document.model_validate({"id": k, **{f: str(x) for f, x in v.items()}})
            for k, v in raw.items()}


@functools.lru_cache(maxsize=1)
def packs() -> dict[str, Pack]:
    """The catalog's packs (national standards; each seed city's documents), by id."""
    raw = _catalog_data().get("packs") or {}
    return {k: Pack.model_validate({"id": k, **v}) for k, v in raw.items()}


def pack_targets(pack_id: str) -> dict[str, tuple[str, PackTarget]]:
    """Targets of a pack with those of the packs it includes (its own win), with the pack
    that sets each.

    Raises
    ------
    ConfigError
        For an unknown pack id.
    """
    known = packs()
    if pack_id not in known:
        close = difflib.get_close_matches(pack_id, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise ConfigError("pack", [f"pack: unknown pack {pack_id!r}{hint} Known packs: "
                                   f"{', '.join(known)}"])
    out: dict[str, tuple[str, PackTarget]] = {}
    for inc in known[pack_id].include:
        out.update(pack_targets(inc))
    out.update({sid: (pack_id, t) for sid, t in known[pack_id].targets.items()})
    return out


def standard_source_title(std: Standard, *, clauses: bool = True) -> str:
    """The sources of a standard by full document title (for reports, workbook and map).

    Parameters
    ----------
    std
        A standard.
    clauses
        Append each document's clause.

    Returns
    -------
    str
        For example ``鹤壁市人民政府办公室《鹤壁市2018年度百城建设提质工程工作实施方案》（2018-04…）
        §三(三)3；GB 55014-2021《园林绿化工程项目规范》2.1.3``; a custom standard's free-text
        ``source`` as given; ``""`` when there is none.
    """
    docs = documents()
    parts = []
    for ref in std.sources:
        doc = docs.get(ref.document)
        title = doc.full_title if doc is not None else ref.document
        parts.append(f"{title} {ref.clause}".strip() if clauses else title)
    if not parts and std.source:
        parts.append(" ".join(v for v in (std.source.get("document"), std.source.get("clause"))
                              if v))
    return "；".join(dict.fromkeys(p for p in parts if p))


def item_name(std: Standard, fs: FacilitySet, lang: str = "zh") -> str:
    """A facility item as outputs name it, in ``lang``: its own name; else, for a standard of
    one facility set, the standard's (500米见园, not ``parks``); else its id. English falls
    back to the Chinese name before the id."""
    zh = fs.name_zh or (fs.item if len(std.facility_sets) > 1 else std.name_zh)
    if lang == "zh":
        return zh
    return fs.name_en or (std.name_en if len(std.facility_sets) == 1 else zh)


def item_names(std: Standard) -> dict[str, str]:
    """Item id -> Chinese name (or the id) of every facility set of a standard."""
    return {fs.item: fs.name_zh or fs.item for fs in std.facility_sets}


def default_catalog() -> dict[str, Standard]:
    """The shipped catalog, by id."""
    return {e["id"]: Standard.model_validate(e) for e in _default_entries()}


def catalog_table(catalog: Mapping[str, Standard] | None = None) -> pd.DataFrame:
    """The catalog as a table (what ``geoplan standards`` prints)."""
    catalog = catalog or default_catalog()
    rows = []
    for s in catalog.values():
        items = "、".join(item_names(s).values())
        if s.basket:
            k = (f"at least {s.min_items}" if s.min_items is not None
                 else "and all but one of those with data")
            items = f"{len(s.basket)} items (all, {k}): {items}"
        if s.unmeasured_items:
            items += f" (not measured: {'、'.join(s.unmeasured_items)})"
        rows.append({
            "id": s.id,
            "name_zh": s.name_zh,
            "name_en": s.name_en,
            "facility": items,
            "demand": s.demand,
            "radius_m": s.radius_m if not s.radius_rule else "/".join(
                f"{r.radius_m:g}" for r in s.radius_rule),
            "radius_note": s.radius_note,
            "target": s.target,
            "year": s.target_year if s.target_year is not None else "",
            "pack": s.pack or "",
            "source": standard_source_title(s),
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
    pack: str | None = None,
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
        Target overrides by id (they win over the pack's).
    pack
        A pack id (``geoplan standards --packs``): its targets and target years apply, and when
        ``refs`` is None its standards (those it and its included packs set targets for) are
        the ones checked.

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
    ptargets: dict[str, tuple[str, PackTarget]] = {}
    if pack is not None:
        try:
            ptargets = pack_targets(pack)
        except ConfigError as exc:
            problems += exc.problems
    if refs is None:
        refs = [sid for sid in entries if sid in ptargets] if ptargets else list(entries)
    chosen: list[tuple[str, dict[str, Any]]] = []
    overridden: dict[str, set[str]] = {}
    for i, ref in enumerate(refs):
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
        overridden[where] = set(overrides)
    for sid in targets or {}:
        if sid not in entries:
            problems.append(_unknown_id_message("targets", sid, list(entries)))
    standards: list[Standard] = []
    for where, entry in chosen:
        if entry["id"] in ptargets:
            origin, pt = ptargets[entry["id"]]
            if "target" not in overridden.get(where, ()):
                entry["target"] = pt.target
            entry["target_year"] = pt.year
            entry["pack"] = origin
        if targets and entry["id"] in targets:
            entry["target"] = targets[entry["id"]]
        try:
            standards.append(Standard.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = str(err["msg"]).removeprefix("Value error, ")
                if loc == "target" and targets and entry["id"] in targets:
                    problems.append(f"targets.{entry['id']}: {msg}")  # where it was given
                else:
                    problems.append(f"{where} ({entry['id']}).{loc}: {msg}")
    if problems:
        raise ConfigError("standards", problems)
    return standards


def check_config_standards(config: StandardsChoice) -> list[Standard]:
    """Resolve the standards of ``config`` (raises :class:`ConfigError` on any problem)."""
    return resolve_standards(config.standards, custom=config.custom_standards or (),
                             targets=config.targets, pack=getattr(config, "pack", None))


def planned_attributes(std: Standard) -> dict[str, Any]:
    """Column values a planned point needs to pass ``std``'s facility filter.

    A school level filter (``primary: true``) gives ``levels``; a ``kind`` filter its first
    kind; ``min_area_m2`` the area; ``{min: x}`` the value x; any other value itself.
    """
    out: dict[str, Any] = {}
    fs = std.facility
    if fs is None:
        return out
    for key, wanted in fs.filter.items():
        if key == "min_area_m2":
            out["area_m2"] = wanted
        elif key == "max_area_m2":
            continue
        elif fs.layer == "schools" and key in ("primary", "junior", "senior") and wanted is True:
            out["levels"] = ";".join([*filter(None, [out.get("levels")]), key])
        elif isinstance(wanted, dict):
            if "min" in wanted:
                out[key] = wanted["min"]
        elif isinstance(wanted, list):
            if wanted:
                out[key] = wanted[0]
        else:
            out[key] = wanted
    return out
