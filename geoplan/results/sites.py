"""The shape of suggested sites: :class:`SiteResult`."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geoplan.results._schema import Column, Schema

__all__ = ["SITES", "SiteResult"]

SITES = Schema("sites.table", (
    Column("district", "str", "", "District the site serves."),
    Column("standard", "str", "", "Standard id the site closes."),
    Column("item", "str", "", "Life-circle item the site is for ('' for a single-facility "
           "standard)."),
    Column("rank", "int", "", "1 = the site that covers the most, per district, standard and "
           "item."),
    Column("covered_m2", "float", "m²", "Gap land the site covers (NaN for street standards)."),
    Column("covered_length_m", "float", "m", "Uncovered street the site covers (NaN for area "
           "standards)."),
    Column("covered_population", "float", "people", "People in the gap land it covers (NaN "
           "without a population source)."),
    Column("share_before", "float", "share 0–1", "Official share with the sites ranked before."),
    Column("share_after", "float", "share 0–1", "Official share with this site added."),
    Column("target", "float", "share 0–1", "The standard's target."),
    Column("radius_m", "float", "m", "Radius the site is placed for."),
), geometry="Point")


@dataclass
class SiteResult:
    """Suggested sites for new facilities (:func:`geoplan.siting.suggest_sites`).

    Attributes
    ----------
    table
        One point per suggested site (:data:`SITES`), in the analysis CRS.
    """

    table: gpd.GeoDataFrame

    def validate(self) -> None:
        """Raise :class:`~geoplan._errors.ResultSchemaError` on a missing or mistyped column."""
        SITES.validate(self.table)

    def __len__(self) -> int:
        return len(self.table)
