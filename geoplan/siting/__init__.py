"""Suggest sites for new facilities that close coverage gaps.

- :mod:`~geoplan.siting.cover`: the covering maths on arrays (greedy maximal cover);
- :mod:`~geoplan.siting.sampling`: gap polygons and street lines as weighted points;
- :mod:`~geoplan.siting.sites`: :func:`suggest_sites`, per district and standard;
- :mod:`~geoplan.siting.items`: sites per life-circle item;
- :mod:`~geoplan.siting.groups`: one district's gaps of one standard or item, closed on its own
  (the groups on several threads).
"""

from geoplan.siting.cover import cover_matrix, greedy_max_cover
from geoplan.siting.items import item_sites
from geoplan.siting.sites import SITE_COLUMNS, suggest_sites

__all__ = ["SITE_COLUMNS", "cover_matrix", "greedy_max_cover", "item_sites", "suggest_sites"]
