"""``python -m geoplan`` runs the command line."""

import sys

from geoplan.cli import main

sys.exit(main())
