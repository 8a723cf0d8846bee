"""Canonical layers: loaders from OpenStreetMap and planners' files, schema, repair, cache.

The public names are imported lazily so that :mod:`geoplan.config` can use the layer kinds
without importing the loaders (which themselves need the config model).
"""

from typing import Any

__all__ = ["LAYER_KINDS", "LAYER_ORDER", "SCHEMAS", "LayerSet", "district_summary", "load_layers"]


def __getattr__(name: str) -> Any:
    if name in ("LayerSet", "district_summary", "load_layers"):
        from geoplan.layers import load

        return getattr(load, name)
    if name == "LAYER_KINDS":
        from geoplan.layers.rules import LAYER_KINDS

        return LAYER_KINDS
    if name in ("LAYER_ORDER", "SCHEMAS"):
        from geoplan.layers import schema

        return getattr(schema, name)
    raise AttributeError(f"module 'geoplan.layers' has no attribute {name!r}")
