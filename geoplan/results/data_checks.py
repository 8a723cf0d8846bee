"""The shape of the data-check report (:mod:`geoplan.data_checks`)."""

from __future__ import annotations

from geoplan.results._schema import Column, Schema

__all__ = ["DATA_CHECKS"]

DATA_CHECKS = Schema("data_checks", (
    Column("check", "str", "", "What to check: datum, truncated_data, partial_district, "
           "overlapping_units, no_facility, unreached_facility, mapping_gap, demand_off_network."),
    Column("severity", "str", "", "warning (a figure may be wrong) or note (read it with care)."),
    Column("district", "str", "", "District concerned ('' for the whole run)."),
    Column("subject", "str", "", "The layer, standard or feature concerned (a standard or "
           "facility item by its Chinese name)."),
    Column("subject_en", "str", "", "The subject in English where it names a standard or "
           "facility item ('' where subject reads the same in both languages)."),
    Column("count", "int", "features", "How many features or demand points are concerned."),
    Column("measure", "float", "m, km² or share", "The measured value behind the check (see "
           "detail)."),
    Column("detail", "str", "", "What was found, in words."),
    Column("fix", "str", "", "What to do about it."),
), geometry="Point")
