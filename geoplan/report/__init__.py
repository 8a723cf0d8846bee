"""What planners take into the meeting: the offline map, per-district reports, the workbook.

- :func:`~geoplan.report.maps.write_map` / :func:`~geoplan.report.maps.build_map`: the
  self-contained folium meeting map (``map.html``, works with no internet).
- :func:`~geoplan.report.html.write_reports`: one HTML gap report per district, an index page
  and the Excel workbook (:func:`~geoplan.report.tables.write_workbook`).
- :func:`~geoplan.report.static_maps.gap_svg`: the small SVG gap maps of the reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geoplan._lazy import lazy_names

if TYPE_CHECKING:
    from geoplan.report.html import ReportFiles, write_reports
    from geoplan.report.maps import build_map, render_map, write_map
    from geoplan.report.static_maps import gap_svg
    from geoplan.report.tables import write_workbook

# Imported on first use (PEP 562): the command line's tables read the report's labels and
# number formats (geoplan.report._data, _labels), and `geoplan layers` or `coverage` should
# not pay 1.4 s for folium, jinja2's templates and matplotlib to print them.
_EXPORTS = {
    "ReportFiles": "geoplan.report.html", "write_reports": "geoplan.report.html",
    "build_map": "geoplan.report.maps", "render_map": "geoplan.report.maps",
    "write_map": "geoplan.report.maps", "gap_svg": "geoplan.report.static_maps",
    "write_workbook": "geoplan.report.tables",
}
__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())

__all__ = ["ReportFiles", "build_map", "gap_svg", "render_map", "write_map", "write_reports",
           "write_workbook"]
