"""Canonical layers: loaders from OpenStreetMap and planners' files, schema, repair, cache."""

from geoplan.layers.load import LayerSet, district_summary, load_layers
from geoplan.layers.schema import LAYER_ORDER, SCHEMAS
from geoplan.vocab import LAYER_KINDS

__all__ = ["LAYER_KINDS", "LAYER_ORDER", "SCHEMAS", "LayerSet", "district_summary", "load_layers"]
