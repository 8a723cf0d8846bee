"""Dead-end roads (断头路): detection, opening candidates, progress, connectivity per district.

Typical use::

    from geoplan.deadends import read_osm_extras, run_deadends, write_deadends, format_table
    layerset = load_layers(config)
    extras = read_osm_extras(config.osm.path, layerset.crs, config.osm.bounds)
    result = run_deadends(layerset, config.deadends, extras=extras)
    print(format_table(result))
    write_deadends(result, out_dir)

See :mod:`geoplan.deadends.detect` for the categories, :mod:`geoplan.deadends.candidates` for
the ranking, :mod:`geoplan.deadends.progress` and :mod:`geoplan.deadends.connectivity`.
"""

from geoplan.deadends.candidates import opening_candidates
from geoplan.deadends.compounds import compound_polygons
from geoplan.deadends.connectivity import connectivity_table
from geoplan.deadends.detect import (
    CATEGORIES,
    EXCLUDED_CATEGORIES,
    RoadNetwork,
    build_road_network,
    detect_dead_ends,
    public_mask,
)
from geoplan.deadends.osm_extras import OsmExtras, read_noexit_nodes, read_osm_extras
from geoplan.deadends.params import PUBLIC_HIGHWAYS, DeadEndParams
from geoplan.deadends.progress import match_progress, progress_table
from geoplan.deadends.run import (
    DeadEndResult,
    deadends_for_config,
    format_table,
    run_deadends,
    write_deadends,
)

__all__ = [
    "CATEGORIES",
    "EXCLUDED_CATEGORIES",
    "PUBLIC_HIGHWAYS",
    "DeadEndParams",
    "DeadEndResult",
    "OsmExtras",
    "RoadNetwork",
    "build_road_network",
    "compound_polygons",
    "connectivity_table",
    "deadends_for_config",
    "detect_dead_ends",
    "format_table",
    "match_progress",
    "opening_candidates",
    "progress_table",
    "public_mask",
    "read_noexit_nodes",
    "read_osm_extras",
    "run_deadends",
    "write_deadends",
]
