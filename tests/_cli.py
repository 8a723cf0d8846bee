"""``geoplan`` run in-process, as the command line runs it: exit code, stdout and stderr.

Checks of bad input that need no work use this instead of a subprocess each (a fresh
interpreter costs seconds of imports); every file that uses it keeps a real subprocess too.
"""

from __future__ import annotations

import subprocess

import pytest


def geoplan_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess:
    """``python -m geoplan *args`` in this process: argparse's exits give their code too."""
    from geoplan.cli import main

    capsys.readouterr()  # start from empty captures
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["geoplan", *args], code, out, err)
