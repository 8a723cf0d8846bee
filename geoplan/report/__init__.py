"""What planners take into the meeting: the offline map, per-district reports, the workbook.

- :func:`~geoplan.report.maps.write_map` / :func:`~geoplan.report.maps.build_map`: the
  self-contained folium meeting map (``map.html``, works with no internet).
- :func:`~geoplan.report.html.write_reports`: one HTML gap report per district, an index page
  and the Excel workbook (:func:`~geoplan.report.tables.write_workbook`).
- :func:`~geoplan.report.static_maps.gap_svg`: the small SVG gap maps of the reports.
"""

from geoplan.report.html import ReportFiles, write_reports
from geoplan.report.maps import build_map, render_map, write_map
from geoplan.report.static_maps import gap_svg
from geoplan.report.tables import write_workbook

__all__ = ["ReportFiles", "build_map", "gap_svg", "render_map", "write_map", "write_reports",
           "write_workbook"]
