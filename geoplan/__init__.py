"""geoplan: service-radius coverage, gaps and dead-end roads for Chinese city planning standards.

The main entry points are the ``geoplan`` command line tool and these functions:

- :func:`geoplan.config.load_config` reads and validates an analysis YAML file;
- :func:`geoplan.layers.load_layers` turns the configured sources into canonical layers.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
