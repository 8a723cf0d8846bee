"""The colours of geoplan's map layers, shared by the meeting map and the QGIS styles.

A module of its own, without folium: ``geoplan layers`` styles its GeoPackage with these and
should not import the map's libraries to do so.
"""

from __future__ import annotations

__all__ = ["CANDIDATE_COLOUR", "CLASS_COLOURS", "DEADEND_COLOUR", "FACILITY_COLOURS",
           "GAP_COLOUR", "HOME_BAND_COLOURS", "PASS_COLOUR", "REACH_COLOUR", "SITE_COLOUR"]

PASS_COLOUR = "#1a9850"
CLASS_COLOURS = {"pass": PASS_COLOUR, "near": "#fee08b", "low": "#fc8d59", "poor": "#d73027",
                 "nodata": "#bdbdbd"}
FACILITY_COLOURS = {"toilets": "#8e24aa", "schools": "#1565c0", "bus_stops": "#ef6c00",
                    "services": "#00838f", "parks": "#2e7d32", "green_space": "#66bb6a"}
REACH_COLOUR = "#4575b4"
GAP_COLOUR = "#54278f"
DEADEND_COLOUR = "#111111"
CANDIDATE_COLOUR = "#00a0e9"
SITE_COLOUR = "#ffd600"
HOME_BAND_COLOURS = {"within": "#2166ac", "near": "#f4a582", "beyond": "#67001f"}
"""Homes by walking distance: within the radius, up to 1.5 ×, beyond."""
