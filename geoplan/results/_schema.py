"""Column specifications and their validation: one documented shape per result table.

A :class:`Schema` lists a table's columns with their dtype family, unit and meaning. Every
result table geoplan returns or writes is described by one schema (see :mod:`geoplan.results`),
and :meth:`Schema.validate` names each missing or mistyped column at once, in the spirit of
osmnx's graph validators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import pandas as pd
from pandas.api import types as ptypes

from geoplan._errors import ResultSchemaError

__all__ = ["INSIDE_COLUMNS", "Column", "DtypeFamily", "Schema", "raise_problems", "table_problems"]

DtypeFamily = Literal["str", "float", "int", "bool", "number", "any", "geometry"]
"""How a column's dtype is checked: ``number`` accepts int or float (and bool-free ints stored
as float), ``any`` accepts everything (e.g. a radius that is a number or a rule "500/300")."""


@dataclass(frozen=True)
class Column:
    """One column of a result table.

    Attributes
    ----------
    name
        Column name.
    dtype
        Dtype family (:data:`DtypeFamily`).
    unit
        Unit of the values ("m", "m²", "people", "share 0–1", "" for none).
    meaning
        One sentence a planner understands.
    """

    name: str
    dtype: DtypeFamily
    unit: str
    meaning: str


INSIDE_COLUMNS: tuple[Column, ...] = (
    Column("inside_km2", "float", "km²", "Area of the district inside the data: the figures of "
           "the row cover that part."),
    Column("inside_share", "float", "share 0–1", "That area's share of the whole district (below "
           "1: a partial figure, not the whole district's)."),
)
"""How much of its district a per-district row covers (tables other than the coverage table)."""


def _dtype_ok(series: pd.Series, family: DtypeFamily) -> bool:
    if family == "any" or len(series) == 0:
        return True
    dtype = series.dtype
    if family == "geometry":
        return isinstance(dtype, gpd.array.GeometryDtype)
    if family == "str":
        return bool(ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype))
    if family == "bool":
        return bool(ptypes.is_bool_dtype(dtype))
    if family == "int":
        return bool(ptypes.is_integer_dtype(dtype) and not ptypes.is_bool_dtype(dtype))
    if family == "float":
        return bool(ptypes.is_float_dtype(dtype))
    # number
    return bool(ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype))


@dataclass(frozen=True)
class Schema:
    """The columns of one result table.

    Attributes
    ----------
    name
        The table's name, as in ``<result>.<attribute>``.
    columns
        Its columns in order.
    geometry
        Geometry type family ("Point", "LineString", "Polygon") or None for a plain table.
    extra_columns
        Whether more columns than listed are allowed (per-standard share columns, counts per
        category).
    """

    name: str
    columns: tuple[Column, ...]
    geometry: str | None = None
    extra_columns: bool = False

    @property
    def names(self) -> list[str]:
        """Column names in order (without ``geometry``)."""
        return [c.name for c in self.columns]

    def problems(self, frame: pd.DataFrame | None) -> list[str]:
        """Every way ``frame`` differs from this schema (empty when it conforms)."""
        if frame is None:
            return [f"{self.name}: missing (None)"]
        out = []
        for col in self.columns:
            if col.name not in frame.columns:
                out.append(f"{self.name}: column {col.name!r} is missing")
            elif not _dtype_ok(frame[col.name], col.dtype):
                out.append(f"{self.name}: column {col.name!r} should be {col.dtype}, "
                           f"got {frame[col.name].dtype}")
        if self.geometry is not None:
            if not isinstance(frame, gpd.GeoDataFrame):
                out.append(f"{self.name}: should be a GeoDataFrame, got {type(frame).__name__}")
            elif frame.crs is None:
                out.append(f"{self.name}: has no CRS")
        if not self.extra_columns:
            allowed = set(self.names) | {"geometry"}
            extra = [c for c in frame.columns if c not in allowed]
            if extra:
                out.append(f"{self.name}: undocumented columns {extra}")
        return out

    def validate(self, frame: pd.DataFrame | None) -> None:
        """Raise :class:`~geoplan._errors.ResultSchemaError` naming every problem at once."""
        problems = self.problems(frame)
        if problems:
            raise ResultSchemaError(problems)

    def describe(self) -> pd.DataFrame:
        """The schema as a table (name, dtype, unit, meaning), for documentation and notebooks."""
        return pd.DataFrame([{"column": c.name, "dtype": c.dtype, "unit": c.unit,
                              "meaning": c.meaning} for c in self.columns])


def table_problems(result: object, schemas: dict[str, Schema]) -> list[str]:
    """Every problem of every table of ``result`` (attribute name -> its schema)."""
    return [p for attr, schema in schemas.items() for p in schema.problems(getattr(result, attr))]


def raise_problems(problems: list[str]) -> None:
    """Raise :class:`~geoplan._errors.ResultSchemaError` naming ``problems``, if there are any."""
    if problems:
        raise ResultSchemaError(problems)
