"""The shape of the per-person and ratio indicators: :class:`IndicatorResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geoplan.results._schema import Column, Schema

__all__ = ["INDICATORS", "IndicatorResult"]

INDICATORS = Schema("indicators.table", (
    Column("district", "str", "", "District name."),
    Column("indicator", "str", "", "park_area_per_person, green_space_ratio, green_coverage or "
           "road_area_per_person."),
    Column("name_zh", "str", "", "The indicator's Chinese name (人均公园绿地面积 …)."),
    Column("value", "float", "m²/person or share 0–1", "The measured figure (NaN: the data "
           "does not allow it; see note)."),
    Column("unit", "str", "", "m2_per_person or share."),
    Column("target", "float", "m²/person or share 0–1", "The target (a minimum)."),
    Column("target_source", "str", "", "Document that sets the target."),
    Column("status", "str", "", "pass, fail, or 'no data' (no figure)."),
    Column("numerator", "float", "m²", "Park, green or road area measured inside the data."),
    Column("denominator", "float", "people or m²", "Residents inside the data, or the area "
           "inside the data."),
    Column("partial", "bool", "", "True when the figure covers only the part of the district "
           "inside the data."),
    Column("note", "str", "", "How the figure was made and what it leaves out."),
    Column("road_km_width_tag", "float", "km", "人均道路面积 only: km of road inside the "
           "district whose width came from its width tag (NaN on other rows)."),
    Column("road_km_lanes_tag", "float", "km", "人均道路面积 only: km of road whose width is its "
           "lanes tag × 3.5 m."),
    Column("road_km_default", "float", "km", "人均道路面积 only: km of road whose width is the "
           "default of its class (geoplan.indicators.DEFAULT_LANES × 3.5 m)."),
    Column("roads_bad_width_tag", "int", "roads", "人均道路面积 only: roads meeting the district "
           "whose width or lanes tag could not be read (the next source was used)."),
))


@dataclass
class IndicatorResult:
    """Per-person and ratio indicators per district (:func:`geoplan.indicators.measure_indicators`).

    Attributes
    ----------
    table
        One row per district × indicator (:data:`INDICATORS`).
    meta
        ``road_widths`` (default carriageway width per highway class and its basis).
    """

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`~geoplan._errors.ResultSchemaError` on a missing or mistyped column."""
        INDICATORS.validate(self.table)
