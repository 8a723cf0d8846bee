"""The ``geoplan`` command line.

Each command lives in its own module (``geoplan/cli/<name>_cmd.py``) that defines
``register(subparsers)``; this module assembles them and turns errors into clear messages and
exit codes: 0 success, 1 bad input or a failed analysis, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

from geoplan._errors import ConfigError, GeoplanError, StandardError
from geoplan._outdir import Interrupted
from geoplan._version import __version__
from geoplan.cli._common import FlagWording, in_flags, is_adhoc

COMMANDS = (
    "run", "layers", "coverage", "deadends", "scenario", "map", "report", "standards", "fetch", "batch",
)

_DESCRIPTION = """\
geoplan measures a city against its service-radius standards (300米见绿、500米见园, bus stops
within 500 m, public toilets, schools, 15-minute life circles, dead-end roads) per district,
and writes tables, GeoPackages, meeting maps and gap reports.

Start with:  geoplan run analyses/chengdu_core.yaml
"""

_EPILOG = """\
Every command takes an analysis config (analyses/<city>.yaml) or ad-hoc inputs:
  geoplan layers --osm city.osm.pbf --districts districts.geojson --districts-crs gcj02 --out out/
Exit codes: 0 success, 1 bad input data or a failed step, 2 bad usage or configuration.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available command."""
    parser = argparse.ArgumentParser(
        prog="geoplan", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"geoplan {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"geoplan.cli.{name}_cmd").register(sub)
    return parser


class _WarnOnce(logging.Filter):
    """Each warning said once per command: a scenario loads the layers twice (before and
    after) and said every warning of the data twice."""

    def __init__(self) -> None:
        super().__init__()
        self._said: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        text = record.getMessage()
        if text in self._said:
            return False
        self._said.add(text)
        return True


@contextlib.contextmanager
def _logging_to_stderr(verbose: int, quiet: bool, adhoc: bool) -> Iterator[None]:
    """Log geoplan's messages to stderr for one command, then put the logger back as it was.

    Putting it back matters when ``main`` is called in-process (tests, notebooks): a handler
    left behind would write to a stream that may be closed by then.
    """
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(levelname)s: %(message)s" if verbose < 2 else "%(levelname)s %(name)s: %(message)s"
    handler.setFormatter(FlagWording(fmt) if adhoc else logging.Formatter(fmt))
    handler.addFilter(_WarnOnce())
    logger = logging.getLogger("geoplan")
    before = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = before


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    adhoc = is_adhoc(args)
    with _logging_to_stderr(args.verbose, args.quiet, adhoc):
        return _run(args, in_flags if adhoc else str)


def entry() -> NoReturn:
    """The ``geoplan`` program (and ``python -m geoplan``): :func:`main`, then exit with its code.

    What is still alive is frozen out of the garbage collector first: the interpreter's last
    collections would walk a whole run's results only to free them with the process (0.4–0.5 s
    of the default run's 16 s; 0.17 s with them frozen).
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def _run(args: argparse.Namespace, words: Callable[[str], str]) -> int:
    """Run the parsed command; returns the exit code, with errors worded by ``words``."""
    try:
        return int(args.func(args) or 0)
    except (ConfigError, StandardError) as exc:
        print(f"geoplan {args.command}: configuration error\n{words(str(exc))}", file=sys.stderr)
        return 2
    except GeoplanError as exc:
        print(f"geoplan {args.command}: {words(str(exc))}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(f"geoplan: interrupted; {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("geoplan: interrupted; every file already written is whole (files are written "
              "atomically)", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("GEOPLAN_DEBUG"):
            raise
        print(f"geoplan {args.command}: unexpected error: {type(exc).__name__}: {exc}\n"
              "Set GEOPLAN_DEBUG=1 for the traceback, and please report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
