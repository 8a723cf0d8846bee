"""Progress bars for long steps: on for an interactive run, quiet in CI and in libraries.

The command line decides once (a terminal, no ``CI``, no ``GEOPLAN_NO_PROGRESS``) and
:func:`geoplan.pipeline.run_analysis` passes that on with :func:`set_progress`; steps deep in
the library then wrap their long loops in :func:`bar` without threading a flag through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm.std import tqdm  # not tqdm.auto, which warns in a notebook without ipywidgets

__all__ = ["bar", "counter", "progress_on", "set_progress"]

T = TypeVar("T")
_STATE = {"on": False}


def set_progress(on: bool) -> None:
    """Turn progress bars on or off for this process."""
    _STATE["on"] = bool(on)


def progress_on() -> bool:
    """Whether progress bars are shown."""
    return _STATE["on"]


def bar(iterable: Iterable[T], desc: str, unit: str = "item", total: int | None = None,
        show: bool | None = None) -> tqdm:
    """``iterable`` wrapped in a progress bar with counts (silent unless progress is on, or
    ``show`` says otherwise)."""
    on = _STATE["on"] if show is None else show
    return tqdm(iterable, desc=desc, unit=unit, total=total, disable=not on, leave=False)


def counter(desc: str, unit: str = "item", total: int | None = None,
            show: bool | None = None) -> tqdm:
    """A progress bar moved by hand with ``update(n)`` (silent unless progress is on, or
    ``show`` says otherwise)."""
    on = _STATE["on"] if show is None else show
    return tqdm(desc=desc, unit=unit, total=total, disable=not on, leave=False)
