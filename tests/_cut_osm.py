"""Cut an OSM extract by a box, the two ways real download tools do (for tests).

``complete=True`` keeps every way with a node inside the box whole (osmconvert
--complete-ways, osmium extract -s complete_ways); ``complete=False`` keeps only the nodes
inside the box, so ways crossing the edge reference nodes the file lacks (a hard clip).
"""

from __future__ import annotations

from pathlib import Path

import osmium


def cut_extract(src: Path, dst: Path, bbox: tuple[float, float, float, float], *,
                complete: bool, header: bool = True) -> Path:
    """Write the part of ``src`` inside ``bbox`` (west, south, east, north) to ``dst``.

    The output format follows ``dst``'s suffix (.osm, .osm.bz2, .osm.gz, .pbf); with
    ``header=False`` the file carries no bounds header.
    """
    west, south, east, north = bbox
    inside: set[int] = set()
    for node in osmium.FileProcessor(str(src), osmium.osm.NODE):
        loc = node.location
        if west <= loc.lon <= east and south <= loc.lat <= north:
            inside.add(node.id)
    ways: set[int] = set()
    needed: set[int] = set(inside)
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
        refs = [n.ref for n in way.nodes]
        if any(r in inside for r in refs):
            ways.add(way.id)
            if complete:
                needed.update(refs)
    head = osmium.io.Header()
    if header:
        head.add_box(osmium.osm.Box(west, south, east, north))
    with osmium.SimpleWriter(str(dst), header=head, overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src)):
            if obj.is_node() and obj.id in needed:
                writer.add_node(obj)
            elif obj.is_way() and obj.id in ways:
                writer.add_way(obj)
            elif obj.is_relation() and any(
                (m.type == "w" and m.ref in ways) or (m.type == "n" and m.ref in needed)
                for m in obj.members
            ):
                writer.add_relation(obj)
    return dst
