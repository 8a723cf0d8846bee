"""One output folder = one run's output: staging, swap, lock, ``run.json``, orphan clean-up.

A command that writes an output folder does it through :class:`OutputRun`::

    with OutputRun(target, command="run", config=config) as run:
        write_csv(table, run.path / "coverage.csv")   # run.path is a staging folder
        ...
        final_paths = run.commit(written)               # run.json, then the swap

* **Staging.** Files are written into ``.<name>.staging-<id>`` beside the target. ``commit``
  writes ``run.json`` into it and swaps it with the target in one atomic step (Linux
  ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames). The target therefore always holds one
  whole run: the previous one until the swap, the new one after it. A run that fails, is
  interrupted or killed never touches the target; its staging folder is an orphan that the next
  run into the same target removes.
* **Other files.** When the target holds files geoplan did not write (a user's own notes), the
  folder is not swapped: the previous run's entries are moved aside (``run.json`` first) and
  this run's moved in (``run.json`` last); if any move fails, every entry goes back where it
  was, and if a kill cuts the moves short, the next run into the folder puts the previous run
  back (or keeps the new one, when its ``run.json`` made it in) before anything else. An
  entry counts as geoplan's only under a name geoplan writes, of the kind it writes
  (``maps/`` and ``reports/`` folders holding only what the folder's ``run.json`` lists, or
  pages and scripts; files otherwise). A user's entry under a name this run writes (a file
  named ``reports``, a folder named ``map.html``) stops the commit with its name, nothing
  touched.
* **Lock.** ``.<name>.lock`` beside the target is locked (``flock``) for the whole run; a second
  run into the same folder stops at once with :class:`OutputBusyError` (exit code 1).
* **run.json** records geoplan's version, the command, the config and its SHA-256, every input
  file with its size and SHA-256, start and end time, and every written file with its size and
  SHA-256.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from geoplan._errors import OutputError
from geoplan._io import register_staging
from geoplan._version import __version__

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig

logger = logging.getLogger(__name__)

RUN_JSON = "run.json"

KNOWN_OUTPUTS = (
    "layers.gpkg", "layers.csv", "layer_issues.csv", "coverage.csv", "coverage.gpkg",
    "sites.csv", "sites.gpkg", "deadends.csv", "deadends.gpkg", "deadends_progress.csv",
    "map.html", "maps", "reports", "geoplan_report.xlsx", "coverage_items.csv", "gaps.csv",
    "residents.csv",
    "children.csv", "seats.csv", "school_seats.csv", "indicators.csv", "data_checks.csv",
    "data_checks.gpkg", RUN_JSON,
)
"""Names geoplan writes into an output folder (``scenario_*.csv`` too). Whatever the folder's
own ``run.json`` lists counts as geoplan's as well, so a file added in a later version is never
taken for the user's."""


class OutputBusyError(OutputError):
    """Another geoplan run is writing into the same output folder."""


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_known(name: str, listed: frozenset[str] = frozenset()) -> bool:
    """Whether ``name`` is something geoplan writes (other hidden files, .git and the like,
    are the user's); ``listed`` are the names the folder's run.json records."""
    return (name in KNOWN_OUTPUTS or name in listed
            or name.startswith("scenario_")  # a scenario's table and its map's folder
            or (name.startswith(".") and (".tmp-" in name or name.startswith(".geoplan-"))))


_FOLDERS = ("maps", "reports")
"""The names geoplan writes as folders, with a scenario's map folder (:func:`_is_folder`);
every other name it writes is a file."""


def _is_folder(name: str) -> bool:
    """Whether geoplan writes ``name`` as a folder: maps/, reports/, scenario_<name>/."""
    return name in _FOLDERS or (name.startswith("scenario_") and not name.endswith(".csv"))

_FOLDER_SUFFIXES = (".html", ".js", ".css", ".json")
"""What geoplan writes inside those folders (a folder its run.json does not list is geoplan's
only if it holds nothing else)."""


def _listed_paths(target: Path) -> frozenset[str]:
    """Every path (relative, with '/') the folder's ``run.json`` lists as written by geoplan."""
    try:
        record = json.loads((target / RUN_JSON).read_text(encoding="utf-8"))
        files = record.get("files", []) if isinstance(record, dict) else []
        return frozenset(Path(str(f.get("path"))).as_posix() for f in files
                         if isinstance(f, dict) and f.get("path"))
    except (OSError, ValueError):
        return frozenset()


def _is_ours(entry: Path, listed: frozenset[str]) -> bool:
    """Whether ``entry`` (in an output folder) is geoplan's to replace: a name geoplan writes,
    of the kind it writes (a folder for maps/ and reports/, a file otherwise), and a folder
    holding only what geoplan's run.json lists (or, unlisted, only pages and scripts)."""
    tops = frozenset(p.split("/")[0] for p in listed)
    if not _is_known(entry.name, tops) or entry.is_symlink():
        return False
    if entry.name.startswith("."):
        return True  # a leftover temporary file of geoplan's
    if not _is_folder(entry.name):
        # beside a run.json, a file is geoplan's only if it lists it (a user's coverage.csv
        # put there since is kept); without one, a file under a name geoplan writes is an
        # older run's
        return entry.is_file() and (not listed or entry.name in listed or entry.name == RUN_JSON)
    if not entry.is_dir():
        return False
    for inner in entry.rglob("*"):
        if inner.is_dir() and not inner.is_symlink():
            continue
        rel = inner.relative_to(entry.parent).as_posix()
        if inner.is_symlink() or not (rel in listed or (entry.name not in tops
                                                         and inner.suffix in _FOLDER_SUFFIXES)):
            return False
    return True


def _kind(path: Path) -> str:
    """How the output-folder entry ``path`` differs from what geoplan writes, in words."""
    if path.is_symlink():
        return "a link"
    if path.is_dir():
        return ("a folder holding files geoplan did not write" if _is_folder(path.name)
                else "a folder where geoplan writes a file")
    return "a file where geoplan writes a folder" if _is_folder(path.name) else "a file"


def _remove_or_say(folder: Path) -> None:
    """Remove a previous run's files; if some cannot be removed, say where they are."""
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        logger.warning("could not remove the previous run's files in %s (permissions?); "
                       "delete that folder by hand", folder)


SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")
"""The files a Shapefile is read from beside its .shp: its attributes (.dbf), its CRS (.prj)
and its text encoding (.cpg) change what is read as much as the .shp does."""


def with_parts(path: Path) -> list[Path]:
    """``path`` and, for a Shapefile, the files of its other parts that are there."""
    path = Path(path)
    if path.suffix.lower() != ".shp":
        return [path]
    parts = [path]
    for suffix in SHAPEFILE_PARTS:
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if candidate.is_file():
                parts.append(candidate)
                break
    return parts


def is_scenario_output(name: str) -> bool:
    """Whether an output folder's entry was written by ``geoplan scenario``: a scenario's
    table and map folder, or the comparison of several."""
    return name.startswith("scenario_") or name == "scenarios_compared.csv"


def config_inputs(config: AnalysisConfig) -> list[tuple[str, Path]]:
    """Every input file a config reads, as (role, path); a Shapefile's .dbf, .prj… too."""
    inputs: list[tuple[str, Path]] = [("districts", config.districts.path)]
    if config.osm.path is not None:
        inputs.append(("osm", config.osm.path))
    for kind, sources in config.layers.items():
        inputs += [(f"layers.{kind}", s.path) for s in sources]
    if config.demand.population_raster is not None:
        inputs.append(("population_raster", config.demand.population_raster))
    if config.demand.census_districts is not None:
        inputs.append(("census_districts", config.demand.census_districts.path))
    if config.layers_catalog is not None:
        inputs.append(("layers_catalog", config.layers_catalog))
    for name, scenario in config.scenarios.items():
        for kind, sources in scenario.layers.items():
            inputs += [(f"scenarios.{name}.{kind}", s.path) for s in sources]
    return [(role, part) for role, path in inputs for part in with_parts(Path(path))]


class OutputRun:
    """Write one command's output into ``target`` as one consistent set (see the module doc).

    Parameters
    ----------
    target
        The output folder.
    command
        The command name, recorded in ``run.json``.
    config
        The analysis config: its file and every input file are recorded with their hashes.
    extra_inputs
        More input files, as (role, path), e.g. a baseline OSM extract.
    """

    def __init__(self, target: str | os.PathLike[str], *, command: str,
                 config: AnalysisConfig | None = None,
                 extra_inputs: Iterable[tuple[str, Path]] = (),
                 keep_same_analysis: bool = False, keep_scenarios: bool = False) -> None:
        self.target = Path(target).resolve()
        self.keep_same_analysis = keep_same_analysis
        self.keep_scenarios = keep_scenarios
        self.carried: list[str] = []
        self._inputs: tuple[object, list[dict[str, object]]] | None = None
        self.command = command
        self.config = config
        self.extra_inputs = list(extra_inputs)
        self.started = datetime.now(UTC)
        self._id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self.path = self.target  # the staging folder once entered
        self.committed = False

    # -- lock ------------------------------------------------------------------------------
    def _acquire(self) -> None:
        self._lock_fd, self._lock_path = _lock(self.target, self.command, self.started)

    def _release(self) -> None:
        if self._lock_fd is not None and self._lock_path is not None:
            _unlock(self._lock_fd, self._lock_path)
        self._lock_fd = None

    # -- context ---------------------------------------------------------------------------
    def __enter__(self) -> OutputRun:
        self._acquire()
        try:
            self._clean_orphans()
            if self.target.exists() and not self.target.is_dir():
                raise OutputError(f"the output folder {self.target} is a file; give a folder "
                                  "with --out")
            self.path = self.target.parent / f".{self.target.name}.staging-{self._id}"
            self.path.mkdir()
            register_staging(self.path, self.target)
            _check_writable(self.path, self.target)
            if self.keep_same_analysis:
                self._carry_over()
            elif self.keep_scenarios:
                self._carry_over(is_scenario_output)
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        register_staging(self.path, None)
        if not self.committed:
            self._discard()
            if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
                raise Interrupted(f"{self.target} was left as it was before this run") from exc
        self._release()

    def _discard(self) -> None:
        if self.path != self.target:
            shutil.rmtree(self.path, ignore_errors=True)
            register_staging(self.path, None)
        self._release()

    def _clean_orphans(self) -> None:
        parent, name = self.target.parent, self.target.name
        for aside in parent.glob(f".{name}.old-*"):  # a replacement beside a user's files
            _finish_or_undo(aside, self.target)     # cut short by a kill
        for pattern in (f".{name}.staging-*", f".{name}.old-*"):
            for orphan in parent.glob(pattern):
                shutil.rmtree(orphan, ignore_errors=True)
                logger.info("removed %s, left by an interrupted run", orphan)
        if self.target.is_dir():
            for orphan in self.target.rglob(".*.tmp-*"):
                with contextlib.suppress(OSError):
                    orphan.unlink()
                    logger.info("removed %s, left by an interrupted run", orphan)

    def _input_record(self) -> tuple[object, list[dict[str, object]]]:
        if self._inputs is None:
            inputs = list(config_inputs(self.config)) if self.config is not None else []
            inputs += self.extra_inputs
            config_file = None
            source = self.config.source_file if self.config is not None else None
            if source is not None and source.is_file():
                config_file = {"path": str(source), "sha256": sha256_file(source)}
            self._inputs = (config_file, [_file_entry(Path(p), role=role) for role, p in inputs
                                          if Path(p).is_file()])
        return self._inputs

    def _carry_over(self, only: Callable[[str], bool] | None = None) -> None:
        """Start from the previous output when it is of the same analysis (same geoplan, config
        and input files): a partial command (``map``, ``report`` …) then adds to a ``run``'s
        folder instead of replacing it; output of another analysis is never kept. ``only``:
        keep just the entries whose names it accepts (``geoplan run`` keeps the scenarios of
        its analysis, which it does not write itself)."""
        previous = self.target / RUN_JSON
        if not previous.is_file():
            return
        try:
            record = json.loads(previous.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        config_file, inputs = self._input_record()
        same = isinstance(record, dict) and record.get("geoplan") == __version__ and (
            (record.get("config"), record.get("inputs")) == (config_file, inputs)
            or (record.get("analysis") is not None
                and record.get("analysis") == self._analysis_key()))
        if not same:
            # said out loud when a command that adds to a run (map, scenario, …) wipes one;
            # `geoplan run` again after changing the config is the usual case, not news
            info = record if isinstance(record, dict) else {}
            files = info.get("files")
            logger.log(
                logging.INFO if self.command == "run" else logging.WARNING,
                "%s holds the output of another analysis (another config, other input files or "
                "another geoplan; `geoplan %s`, %s): this `geoplan %s` replaces it as a whole, "
                "and its %d file(s) go. To keep them, write with --out to another folder",
                self.target, info.get("command", "?"), info.get("finished", "?"), self.command,
                len(files) if isinstance(files, list) else 0)
            return
        listed = _listed_paths(self.target)
        for entry in self.target.iterdir():
            if (entry.name == RUN_JSON or entry.name.startswith(".")
                    or not _is_ours(entry, listed) or (only is not None and not only(entry.name))):
                continue
            dest = self.path / entry.name
            if entry.is_dir():
                shutil.copytree(entry, dest, copy_function=_link_or_copy)
            else:
                _link_or_copy(str(entry), str(dest))
            self.carried.append(entry.name)

    # -- commit ----------------------------------------------------------------------------
    def final(self, path: str | os.PathLike[str]) -> Path:
        """Where ``path`` (a file in the staging folder) lives after the commit."""
        path = Path(path)
        try:
            return self.target / path.relative_to(self.path)
        except ValueError:
            return path

    def commit(self, written: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
        """Write ``run.json`` and put the staged files in place; returns their final paths."""
        written = list(written)
        files = sorted(p for p in self.path.rglob("*") if p.is_file())
        # what this run wrote again was not kept from the previous one
        rewritten = {Path(p).relative_to(self.path).parts[0] for p in written
                     if Path(p).is_relative_to(self.path)}
        self.carried = [name for name in self.carried if name not in rewritten]
        record = self._record(files)
        target_json = self.path / RUN_JSON
        tmp = self.path / f".{RUN_JSON}.tmp"
        _write_or_explain(tmp, json.dumps(record, ensure_ascii=False, indent=1), target_json)
        os.replace(tmp, target_json)
        # Ctrl-C waits until the swap is done, so that the message it prints is true
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self._put_in_place()
            self.committed = True
        except OutputError:
            raise
        except OSError as exc:
            raise output_error(exc, self.target) from exc
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        logger.info("wrote %s (%d files)", self.target / RUN_JSON, len(files))
        return [self.final(p) for p in written]

    def _analysis_key(self) -> str | None:
        """A hash of what the analysis measures: the config as read but its ``scenarios``, its
        own file's place and its output folder, and its input files but the scenarios' (None
        without a config). Adding a scenario, or a comment, to a config leaves it unchanged, so
        ``geoplan scenario`` and ``map`` still add to the run's folder; so does a copy of the
        config elsewhere (it used to be another analysis, and a scenario run from the copy
        replaced the whole run)."""
        if self.config is None:
            return None
        _, inputs = self._input_record()
        core = [e for e in inputs if not str(e.get("role", "")).startswith("scenarios.")]
        text = self.config.model_dump_json(exclude={"scenarios", "source_file", "output"}) \
            + json.dumps(core, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _record(self, files: list[Path]) -> dict[str, object]:
        config_file, inputs = self._input_record()
        return {
            "geoplan": __version__,
            "command": self.command,
            "argv": sys.argv[1:],
            "config": config_file,
            "analysis": self._analysis_key(),
            "inputs": inputs,
            "started": self.started.astimezone().isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
            "files": [_file_entry(p, base=self.path) for p in files],
            "kept_from_the_previous_run_of_this_analysis": self.carried,
        }

    def _put_in_place(self) -> None:
        target = self.target
        if not target.exists():
            os.rename(self.path, target)
            return
        listed = _listed_paths(target)
        inputs = {Path(str(e["path"])).resolve() for e in self._input_record()[1] if "path" in e}
        # a file this run reads is never replaced, whatever its name (a planner's layers.gpkg)
        ours = {e.name for e in target.iterdir() if _is_ours(e, listed) and e.resolve() not in inputs}
        foreign = sorted(e.name for e in target.iterdir() if e.name not in ours)
        new_names = sorted(p.name for p in self.path.iterdir())
        taken = [n for n in new_names if n in foreign]
        if taken:  # nothing touched: the user's entry stays, this run's output is not put in
            raise OutputError(
                f"{target / taken[0]} is not geoplan's ({_kind(target / taken[0])}), but this "
                f"run writes its {taken[0]} there. Move it out of {target} or choose another "
                "folder with --out; the folder was left as it was")
        if not foreign:
            old = target.parent / f".{target.name}.old-{self._id}"
            if _exchange(self.path, target):
                old = self.path  # the staging name now holds the previous run
            else:
                os.rename(target, old)
                os.rename(self.path, target)
            _remove_or_say(old)
            return
        logger.warning("%s also holds files geoplan did not write (%s); geoplan's files are "
                       "replaced one by one and the others kept", target, ", ".join(foreign[:5]))
        self._replace_ours(sorted(ours), new_names)

    def _replace_ours(self, ours: list[str], new_names: list[str]) -> None:
        """Beside the user's files: the previous run's entries moved aside, this run's moved
        in (``run.json`` last); any move that fails puts everything back as it was."""
        target = self.target
        aside = target.parent / f".{target.name}.old-{self._id}"
        aside.mkdir()
        # what a run cut short by a kill needs to put the folder back (_finish_or_undo)
        (aside / SWAP_JOURNAL).write_text(json.dumps({"ours": ours, "new": new_names}),
                                          encoding="utf-8")
        moved_out: list[str] = []
        moved_in: list[str] = []
        try:
            for name in sorted(ours, key=lambda n: n != RUN_JSON):  # run.json first
                os.rename(target / name, aside / name)
                moved_out.append(name)
            for name in sorted(new_names, key=lambda n: n == RUN_JSON):  # run.json last
                os.rename(self.path / name, target / name)
                moved_in.append(name)
        except OSError as exc:
            for name in reversed(moved_in):
                with contextlib.suppress(OSError):
                    os.rename(target / name, self.path / name)
            for name in reversed(moved_out):
                with contextlib.suppress(OSError):
                    os.rename(aside / name, target / name)
            with contextlib.suppress(OSError):
                (aside / SWAP_JOURNAL).unlink()
                aside.rmdir()
            where = Path(exc.filename) if exc.filename else target
            raise OutputError(
                f"cannot replace {where} in {target}: {exc.strerror or exc}. The folder was "
                "left as it was; fix the file's permissions or choose another folder with "
                "--out") from exc
        _remove_or_say(aside)
        shutil.rmtree(self.path, ignore_errors=True)


SWAP_JOURNAL = ".geoplan-swap.json"
"""In the folder a replacement beside a user's files moves the previous run into: the names
moved out and those to move in."""


@contextlib.contextmanager
def folder_lock(target: str | os.PathLike[str], command: str, *,
                inside: bool = False) -> Iterator[None]:
    """Hold ``target``'s lock (``.<name>.lock`` beside it) for the block, as a run does;
    with ``inside``, ``.geoplan.lock`` in the folder itself (a batch's: its folder's parent
    may be one the planner cannot write, a shared ``/shared/batch``).

    Raises
    ------
    OutputBusyError
        When another geoplan command holds it (its pid, command and start in the message).
    OutputError
        When the lock cannot be written beside ``target``.
    """
    target = Path(target).resolve()
    lock = target / ".geoplan.lock" if inside else None
    fd, path = _lock(target, command, datetime.now(UTC), lock)
    try:
        yield
    finally:
        _unlock(fd, path)


def _lock(target: Path, command: str, started: datetime,
          lock: Path | None = None) -> tuple[int, Path]:
    parent = target.parent if lock is None else lock.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {target}: "
                          f"{exc.strerror or exc}. Choose another folder with --out.") from exc
    lock = parent / f".{target.name}.lock" if lock is None else lock
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"cannot write beside the output folder {target} (in {parent}): "
                f"{exc.strerror or exc}. Choose a folder whose parent folder you can write, "
                "with --out.") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_small(fd)
            os.close(fd)
            raise OutputBusyError(
                f"another geoplan run is writing into {target}"
                + (f" ({holder})" if holder else "")
                + ". Wait for it to finish, or choose another folder with --out.") from None
        # the file may have been removed by the run that held it; lock the live one
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}, {command} started "
                 f"{started.astimezone().strftime('%Y-%m-%d %H:%M:%S')}".encode())
    return fd, lock


def _unlock(fd: int, lock: Path) -> None:
    with contextlib.suppress(OSError):
        lock.unlink()
    os.close(fd)


def _finish_or_undo(aside: Path, target: Path) -> None:
    """A replacement beside a user's files that a kill cut short (``aside`` holds its journal):
    the new run kept when it was whole (its ``run.json``, moved in last, is in ``target``),
    else the previous run put back, so that ``target`` never keeps a mix of two runs."""
    try:
        journal = json.loads((aside / SWAP_JOURNAL).read_text(encoding="utf-8"))
        ours, new = list(journal["ours"]), list(journal["new"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # no journal: a swap of whole folders, whose aside is simply removed
    all_out = all((aside / n).exists() or (aside / n).is_symlink() for n in ours)
    if all_out and RUN_JSON in new and (target / RUN_JSON).exists():
        return  # the new run is whole; the previous one in aside goes
    if all_out:  # what came in of the new run goes (the previous run's names are all aside)
        for n in new:
            entry = target / n
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
    for n in ours:
        if (aside / n).exists() or (aside / n).is_symlink():
            with contextlib.suppress(OSError):
                os.rename(aside / n, target / n)
    logger.warning("%s: a run killed while replacing geoplan's files beside yours was undone; "
                   "the folder holds the previous run again", target)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a staged run: the message says what happened to the output folder."""


def _file_entry(path: Path, *, base: Path | None = None, role: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {}
    if role is not None:
        entry["role"] = role
    entry["path"] = str(path.relative_to(base)) if base is not None else str(path)
    entry["size"] = path.stat().st_size
    entry["sha256"] = sha256_file(path)
    return entry


def _link_or_copy(src: str, dst: str) -> str:
    """Hard-link ``src`` to ``dst`` (writers always replace files, never edit them), else copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _read_small(fd: int) -> str:
    with contextlib.suppress(OSError):
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 200).decode("utf-8", "replace").strip()
    return ""


def _check_writable(folder: Path, target: Path) -> None:
    probe = folder / ".geoplan-write-test"
    _write_or_explain(probe, "", target)
    probe.unlink()


def _write_or_explain(path: Path, text: str, shown: Path) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise output_error(exc, shown) from exc


def output_error(exc: OSError, target: Path) -> OutputError:
    """The clear message for an OS error while writing ``target`` (disk full, permissions …)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"disk full while writing {target}: free some space or choose "
                           "another folder with --out; the previous output was left as it was")
    return OutputError(f"cannot write {target}: {exc.strerror or exc}. Choose another folder "
                       "with --out or fix its permissions.")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(rc == 0)
