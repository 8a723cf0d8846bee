"""The shape of the people results: residents placed from the census, school-age children
beyond the school radius, school seats (学位) and the 学位缺口: :class:`PeopleResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from geoplan.results._schema import INSIDE_COLUMNS, Column, Schema, raise_problems, table_problems

__all__ = ["CHILDREN", "RESIDENTS", "SCHOOL_SEATS", "SEATS", "PeopleResult"]

RESIDENTS = Schema("people.residents", (
    Column("district", "str", "", "District name."),
    Column("census_2020", "float", "people", "Residents of the whole district at the 2020 census "
           "(NaN: no figure); for a unit the census does not name (demand.census_districts), "
           "its estimated share of the residents of the 区县 it lies in."),
    Column("census_source", "str", "", "Where the census figure comes from (for a unit: the "
           "区县 and the share each gives)."),
    Column("full_area_km2", "float", "km²", "Area of the whole district."),
    Column("inside_km2", "float", "km²", "Area of the district inside the data."),
    Column("inside_share", "float", "share 0–1", "inside_km2 / full_area_km2."),
    Column("census_density_km2", "float", "people/km²", "Census residents per km² of the whole "
           "district (for a unit the census does not name: per km² of its part inside the "
           "data)."),
    Column("residents_inside", "float", "people", "Residents of the part inside the data: the "
           "census total when the district lies wholly inside, else an estimate (census density "
           "× area inside)."),
    Column("is_estimate", "bool", "", "True when residents_inside is an estimate for part of a "
           "district."),
    Column("estimate_density_km2", "float", "people/km²", "residents_inside / inside_km2: the "
           "check against census_density_km2."),
    Column("residents_placed", "float", "people", "Residents given to residential demand "
           "pieces (0 where no residential land is mapped)."),
    Column("residential_land_m2", "float", "m²", "Residential land inside the data."),
    Column("residential_floor_m2", "float", "m²", "Residential floor area of mapped buildings "
           "on it (footprint × levels)."),
    Column("residents_per_ha", "float", "people/ha", "Residents placed per hectare of mapped "
           "residential land (a check on how completely homes are mapped)."),
    Column("weighting", "str", "", "How residents were spread over the pieces."),
    Column("note", "str", "", "The estimate or the reason there is none, in words."),
))

CHILDREN = Schema("people.children", (
    Column("district", "str", "", "District name."),
    Column("level", "str", "", "School level: primary (ages 6–11) or junior (12–14)."),
    Column("standard", "str", "", "The radius standard measured (e.g. primary_school_500)."),
    Column("radius_m", "float", "m", "The school radius."),
    Column("age_share", "float", "share 0–1", "Share of residents of this school age."),
    Column("children", "float", "children", "Children of this age living on residential land "
           "inside the data."),
    Column("beyond_buffer", "float", "children", "Children farther than the radius in a straight "
           "line from every school of the level."),
    Column("beyond_network", "float", "children", "Children farther than the radius by walking "
           "(or off the walkways)."),
    Column("is_estimate", "bool", "", "True when the district's residents are an estimate."),
    *INSIDE_COLUMNS,
))

SEATS = Schema("people.seats", (
    Column("district", "str", "", "District name."),
    Column("level", "str", "", "primary or junior."),
    Column("catchment_m", "float", "m", "Walking catchment of the two-step floating catchment "
           "(the school radius)."),
    Column("children", "float", "children", "Children of this age in the district (inside the "
           "data)."),
    Column("seats_reached", "float", "seats", "Seats the district's children reach: Σ children × "
           "seats per child (2SFCA), each seat shared among all children in its catchment so no "
           "seat is counted twice."),
    Column("seats_per_child", "float", "seats/child", "seats_reached / children."),
    Column("seat_gap", "float", "children", "学位缺口: children without a seat within walking "
           "reach, Σ children × max(0, 1 − seats per child)."),
    Column("schools_in_district", "int", "schools", "Schools of the level located in the "
           "district."),
    Column("seats_in_district", "float", "seats", "Seats of the schools located in the district."),
    *INSIDE_COLUMNS,
))

SCHOOL_SEATS = Schema("people.schools", (
    Column("source_id", "str", "", "The school's id."),
    Column("name", "str", "", "School name."),
    Column("level", "str", "", "primary or junior (a 九年一贯制 school has one row per level)."),
    Column("district", "str", "", "District it lies in ('' outside every district)."),
    Column("seats", "float", "seats", "Seats (学位) of the level."),
    Column("seats_from", "str", "", "capacity, classes × class size, site area ÷ norm, or the "
           "default size (an assumption, not a count)."),
    Column("children_in_catchment", "float", "children", "Children within the walking catchment."),
    Column("seats_per_child", "float", "seats/child", "Stage one of 2SFCA: seats / children in "
           "the catchment (NaN: no child in reach)."),
))


@dataclass
class PeopleResult:
    """Residents, school-age children and school seats (:func:`geoplan.coverage.people.measure_people`).

    Attributes
    ----------
    residents
        How each district's census residents were estimated and placed (:data:`RESIDENTS`).
    children
        Children beyond each school radius per district and level (:data:`CHILDREN`).
    seats
        Seats reached and the 学位缺口 per district and level (:data:`SEATS`).
    schools
        Seats and stage-one ratio per school and level (:data:`SCHOOL_SEATS`).
    meta
        ``age_shares`` (source text), ``seat_norms`` (class sizes, default classes, their
        sources), ``notes`` (caveats such as schools beyond the data's edge).
    """

    residents: pd.DataFrame
    children: pd.DataFrame
    seats: pd.DataFrame
    schools: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    SCHEMAS: ClassVar[dict[str, Schema]] = {"residents": RESIDENTS, "children": CHILDREN,
                                            "seats": SEATS, "schools": SCHOOL_SEATS}

    def validate(self) -> None:
        """Raise :class:`~geoplan._errors.ResultSchemaError` naming every problem."""
        raise_problems(table_problems(self, self.SCHEMAS))
