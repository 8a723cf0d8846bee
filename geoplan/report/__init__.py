"""What planners take into the meeting: the offline map, per-district reports, the workbook.

- :func:`~geoplan.report.maps.write_map` / :func:`~geoplan.report.maps.build_map`: the
  self-contained folium meeting map (``map.html``, works with no internet).
- :func:`~geoplan.report.html.write_reports`: one HTML gap report per district, an index page
  and the Excel workbook (:func:`~geoplan.report.tables.write_workbook`).
- :func:`~geoplan.report.static_maps.gap_svg`: the small SVG gap maps of the reports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first asked for."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = ["ReportFiles", "build_map", "gap_svg", "render_map", "write_map", "write_reports",
           "write_workbook"]
