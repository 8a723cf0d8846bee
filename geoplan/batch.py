"""Batch runs: many configs, one job per (config, district), mapped over Dask.

A province checks dozens of cities and hundreds of districts. Each (config, district) job loads
that district with its context margin (so facilities and routes across the district line still
count), runs the analysis into its own folder and returns its coverage rows; the rows are
gathered into one summary. Dask schedules the jobs: a LocalCluster by default, or any scheduler
address for a real cluster (``dask scheduler`` and ``dask worker`` processes).

* **Folders never shared.** A job writes into ``<out>/<config key>/<district key>/``: the
  config key is the config file's name plus a hash of its path (and of its content when one
  batch is given two different configs of one file), the district key the district's
  code (or name) plus a hash of its exact name, so ``a/b`` and ``a?b``, or two configs of one
  city, can never meet in one folder.
* **Resumable.** A finished job leaves ``job.json``: a fingerprint of its config, of every
  input file's content and of the geoplan version, and the size and SHA-256 of every file it
  wrote. A rerun skips a job whose fingerprint is unchanged and whose files are all whole.
* **Failures stay local.** A config whose districts cannot be read fails alone; a failed job
  is one row of the summary with the full message, and its traceback goes to its own log file
  under ``<out>/_logs/``.
* **A district reads as in the whole city's run.** Which life-circle items have data, and
  with ``demand.census_districts`` each unit's share of its 区县's residents, depend on the
  whole city, which a job of one district cannot see: one task per config loads the config's
  facility layers and homes (never its walkways, roads or buildings) and measures them
  (:func:`measure_city_facts`), and the config's jobs wait for it and take them
  (:mod:`geoplan.coverage.city_facts`).
* **School seats as in the whole run.** A school's seats go to every child within its
  catchment, of any district: one task per district counts its children per school on the
  layers its job loads (:func:`measure_seat_demand`, kept under ``<out>/_seats/`` for
  reruns), and the counts are added up before the jobs (:func:`with_school_children`;
  :mod:`geoplan.coverage.seat_demand`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import threading
import traceback
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoplan._errors import OutputError
from geoplan._io import ensure_writable_dir, write_csv
from geoplan._outdir import OutputBusyError, folder_lock
from geoplan._text import WARNING_SEP, first_named, warnings_in
from geoplan._version import __version__
from geoplan.config import AnalysisConfig
from geoplan.layers.districts import read_districts
from geoplan.results.coverage import verdicts

if TYPE_CHECKING:
    from geoplan.coverage.city_facts import CityFacts

logger = logging.getLogger(__name__)

__all__ = ["JOB_FILE", "FactsOutcome", "Job", "SeatOutcome", "district_jobs", "job_is_done",
           "measure_city_facts", "measure_seat_demand", "run_batch", "run_job", "summarise",
           "with_school_children"]

JOB_FILE = "job.json"
"""What a finished job leaves in its folder (fingerprint and its files' hashes)."""
ROWS_FILE = "job_rows.csv"
"""The job's rows of the batch summary, kept for reruns that skip it."""
LOG_DIR = "_logs"


@dataclass(frozen=True)
class Job:
    """One (config, district) analysis.

    Attributes
    ----------
    city, district, code
        The config's city (or name), the district's name and code.
    config
        The config narrowed to this district (``districts.include``).
    out
        The job's own folder.
    key
        ``<config key>/<district key>``: unique within a batch; also the Dask task key.
    fingerprint
        Hash of the job's config, its input files' content and the geoplan version.
    whole_include
        The districts the config itself includes (None: all of them): what is measured over
        the whole config (the units' census shares).
    """

    city: str
    district: str
    code: str
    config: AnalysisConfig
    out: Path
    key: str
    fingerprint: str = ""
    whole_include: tuple[str, ...] | None = None

    @property
    def config_key(self) -> str:
        """The config's part of :attr:`key` (its folder under the batch's output)."""
        return self.key.split("/")[0]

    @property
    def log(self) -> Path:
        """Where the job's traceback goes if it fails."""
        return self.out.parent.parent / LOG_DIR / f"{self.key.replace('/', '__')}.log"


def _safe(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_")
    return keep[:40] or "x"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def config_key(config: AnalysisConfig) -> str:
    """Folder name of a config: its file's name and a hash of its path (or of its content)."""
    ident = str(config.source_file) if config.source_file else config.model_dump_json()
    stem = config.source_file.stem if config.source_file else (config.city or config.name)
    return f"{_safe(stem)}-{_short_hash(ident)}"


def district_key(name: str, code: str) -> str:
    """Folder name of a district: its code (or name) and a hash of its exact name."""
    return f"{_safe(code or name)}-{_short_hash(name)}"


def _input_files(config: AnalysisConfig) -> list[Path]:
    """Every file the config reads (a Shapefile's .dbf, .prj and .cpg too: an edited attribute
    table kept a job's old seats), the scenarios' planned facilities included: the job's
    run.json records them, so a changed file runs the job again and the record stays true."""
    from geoplan._outdir import config_inputs

    return list(dict.fromkeys(Path(p) for _, p in config_inputs(config)))


def _file_hash(path: Path, cache: dict[Path, str]) -> str:
    if path not in cache:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            cache[path] = h.hexdigest()
        except OSError:
            cache[path] = "unreadable"
    return cache[path]


def _fingerprint(config: AnalysisConfig, steps: tuple[str, ...], cache: dict[Path, str],
                 whole_include: tuple[str, ...] | None = None) -> str:
    """What a job's outputs depend on: its config, steps, input files' content, geoplan's
    version and the districts its config names (``whole_include``: the city's figures and the
    schools' seats are shared among them, so another list changes a district's numbers)."""
    doc = {"config": json.loads(config.model_dump_json()), "steps": list(steps),
           "inputs": {str(p): _file_hash(p, cache) for p in _input_files(config)},
           "geoplan": __version__, "whole_include": whole_include}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def district_jobs(configs: Sequence[AnalysisConfig], out: Path,
                  steps: tuple[str, ...] = ()) -> tuple[list[Job], pd.DataFrame]:
    """One job per district of each config (the config's ``include`` list, else all districts).

    Returns
    -------
    jobs, failed
        The jobs, and one summary row per config whose districts could not be read (its
        traceback in ``<out>/_logs/<config key>.log``); the other configs still give jobs.
    """
    jobs: list[Job] = []
    failed: list[dict[str, Any]] = []
    hashes: dict[Path, str] = {}
    seen: dict[str, str] = {}  # config key -> the config it was given to
    for config in configs:
        city = config.city or config.name
        ckey = config_key(config)
        content = config.model_dump_json()
        if seen.setdefault(ckey, content) != content:  # one file's config changed in code
            ckey = f"{ckey}-{_short_hash(content)}"
        try:
            table = read_districts(config.districts)
        except Exception as exc:  # this config fails alone; the batch goes on
            log = out / LOG_DIR / f"{ckey}.log"
            _write_log(log, traceback.format_exc())
            logger.warning("%s: districts could not be read: %s", ckey, exc)
            failed.append({"city": city, "config": ckey, "district": "", "code": "",
                           "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "log": str(log)})
            continue
        codes = dict(zip(table["district"].astype(str), table["code"].astype(str), strict=False))
        names = config.districts.include or sorted(codes)
        for name in names:
            districts = config.districts.model_copy(update={"include": [name]})
            job_config = config.model_copy(update={"districts": districts})
            code = codes.get(name, "")
            dkey = district_key(name, code)
            whole = (tuple(config.districts.include) if config.districts.include is not None
                     else None)
            jobs.append(Job(city, name, code, job_config, out / ckey / dkey, f"{ckey}/{dkey}",
                            _fingerprint(job_config, steps, hashes, whole), whole))
    return jobs, pd.DataFrame(failed)


def _write_log(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _sha256(path: Path) -> str:
    return _file_hash(path, {})


def job_is_done(job: Job) -> bool:
    """Whether ``job`` finished with the same fingerprint and every file it wrote is whole."""
    try:
        record = json.loads((job.out / JOB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if record.get("fingerprint") != job.fingerprint:
        return False
    files = record.get("files", {})
    if ROWS_FILE not in files:
        return False
    for rel, (size, digest) in files.items():
        path = job.out / rel
        if not path.is_file() or path.stat().st_size != size or _sha256(path) != digest:
            return False
    return True


def _job_row(job: Job, status: str, error: str | None = None, log: str | None = None,
             said: Sequence[str] = (), city_said: Sequence[str] = ()) -> pd.DataFrame:
    """The one summary row of a job without coverage rows (failed, outside, no data);
    ``said``: the job's own warnings, ``city_said``: its config's city task's."""
    row: dict[str, Any] = {"city": job.city, "config": job.config_key,
                           "district": job.district, "code": job.code, "status": status}
    if error is not None:
        row["error"] = error
    if log is not None:
        row["log"] = log
    row["warnings"] = WARNING_SEP.join(said)
    row[CITY_WARNINGS] = WARNING_SEP.join(city_said)
    return pd.DataFrame([row])


CITY_WARNINGS = "city_warnings"
"""The column of the summary holding the warnings of the config's city task: said once for the
config (the city's data: "no data for 养老院" is the city's, not one of each district's), and
counted on each measured job's line of the terminal's table (:func:`summarise`), never on a
district outside the data, which ran nothing."""


def _job_rows(job: Job, table: pd.DataFrame | None, status: str,
              said: Sequence[str] = (), city_said: Sequence[str] = ()) -> pd.DataFrame:
    if table is None or table.empty:
        return _job_row(job, "no data", said=said, city_said=city_said)
    table = table.loc[table["district"].astype(str) == job.district].copy()
    table.insert(0, "city", job.city)
    table.insert(1, "config", job.config_key)
    table.insert(3, "code", job.code)
    table["status"] = status
    table["warnings"] = WARNING_SEP.join(said)
    table[CITY_WARNINGS] = WARNING_SEP.join(city_said)
    return table


OUTSIDE = "outside"
"""The status of a job whose district the whole config's run leaves out (too little of it
inside the data): nothing to measure, and no failure."""

OUTSIDE_WHY = ("not analysed: too little of it lies inside the data (districts.min_inside_km2, "
               "districts.min_overlap_share), so geoplan run leaves it out too")


class _Warnings(logging.Handler):
    """geoplan's warnings during one task, as one line of text each, each once: a worker's
    log is not the terminal of whoever runs the batch."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(w for w in record.getMessage().split() if w.strip("!"))
        if text and text not in self.lines:
            self.lines.append(text)


@contextmanager
def _warnings_said() -> Iterator[list[str]]:
    """The warnings geoplan logs inside the block (a list filled as they come)."""
    handler = _Warnings()
    log = logging.getLogger("geoplan")
    log.addHandler(handler)
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)


@dataclass(frozen=True)
class FactsOutcome:
    """What :func:`measure_city_facts` gave for one config: the whole city's figures its jobs
    take (:class:`~geoplan.coverage.city_facts.CityFacts`), or why they could not be measured
    and where the traceback is."""

    facts: CityFacts | None = None
    error: str = ""
    log: str = ""
    warnings: tuple[str, ...] = ()
    seats: bool = False
    """Whether the config measures school seats among people: each district's children per
    school are then counted before the jobs (:func:`measure_seat_demand`)."""


def facts_log(out: Path, ckey: str) -> Path:
    """Where the city-facts task of config ``ckey`` writes its traceback if it fails."""
    return out / LOG_DIR / f"{ckey}__city.log"


def measure_city_facts(config: AnalysisConfig, log: Path) -> FactsOutcome:
    """The whole city's figures (:func:`~geoplan.coverage.city_facts.city_facts`) that each
    job of ``config`` takes, measured over all its districts as ``geoplan run`` measures them;
    only the facility layers and the homes are loaded. The traceback goes to ``log`` if it
    fails."""
    from geoplan._threads import using_threads
    from geoplan.coverage.census_areas import census_unit_figures
    from geoplan.coverage.city_facts import city_facts, fact_kinds
    from geoplan.coverage.population import choose_source
    from geoplan.coverage.seat_demand import has_school_seats
    from geoplan.layers import load_layers
    from geoplan.standards import check_config_standards

    with _warnings_said() as said:
        try:
            stds = check_config_standards(config)
            with using_threads(1):
                layerset = load_layers(config, kinds=fact_kinds(stds))
                facts = city_facts(layerset, stds, config.demand)
                seats = has_school_seats(stds) and choose_source(
                    lambda: list(facts.districts or ()), config.demand,
                    lambda: census_unit_figures(layerset, config.demand, facts.census),
                ).source in ("raster", "census")
        except Exception as exc:  # the config's jobs fail with this message; the batch goes on
            _write_log(log, traceback.format_exc())
            return FactsOutcome(error=f"{type(exc).__name__}: {exc}", log=str(log),
                                warnings=tuple(said))
    log.unlink(missing_ok=True)  # a failure of an earlier batch, fixed since
    return FactsOutcome(facts, warnings=tuple(said), seats=seats)


SEATS_DIR = "_seats"
"""Where each district's children per school are kept for reruns
(``<out>/_seats/<config key>__<district key>.json``)."""


@dataclass(frozen=True)
class SeatOutcome:
    """One district's children per school (:func:`measure_seat_demand`), or why not."""

    children: dict[str, dict[str, float]] | None = None
    error: str = ""


def seat_file(out: Path, job: Job) -> Path:
    """Where :func:`measure_seat_demand` keeps ``job``'s district's count for reruns."""
    return out / SEATS_DIR / f"{job.key.replace('/', '__')}.json"


def measure_seat_demand(job: Job, city: FactsOutcome, keep: Path) -> SeatOutcome:
    """The children of ``job``'s district within each school's catchment
    (:func:`geoplan.coverage.seat_demand.district_seat_demand`), on the layers its job loads;
    read from ``keep`` when counted before with the job's fingerprint, else written there."""
    from geoplan._threads import using_threads
    from geoplan.coverage.seat_demand import SEAT_DEMAND_KINDS, district_seat_demand
    from geoplan.layers import load_layers
    from geoplan.standards import check_config_standards

    if not city.seats or city.facts is None:
        return SeatOutcome({})
    if city.facts.districts is not None and job.district not in city.facts.districts:
        return SeatOutcome({})  # outside: no homes of the run
    try:
        kept = json.loads(keep.read_text(encoding="utf-8"))
        if kept.get("fingerprint") == job.fingerprint:
            return SeatOutcome(kept["children"])
    except (OSError, ValueError, KeyError):
        pass
    try:
        with using_threads(1), _warnings_said():  # the job says them again
            # the job checks the datum and says what it finds
            layerset = load_layers(job.config, kinds=SEAT_DEMAND_KINDS, datum_check=False,
                                   part_of_city=True)
            children = district_seat_demand(layerset, check_config_standards(job.config),
                                            job.config.demand, city.facts)
    except Exception as exc:  # the job itself fails and says why
        return SeatOutcome(error=f"{job.district}: {type(exc).__name__}: {exc}")
    keep.parent.mkdir(parents=True, exist_ok=True)
    _write_log(keep, json.dumps({"fingerprint": job.fingerprint, "children": children},
                                ensure_ascii=False))
    return SeatOutcome(children)


SEATS_PER_DISTRICT = ("school seats (学位) shared among each district's own children only: the "
                      "children of {which} could not be counted")


def with_school_children(city: FactsOutcome, *parts: SeatOutcome) -> FactsOutcome:
    """``city`` with the whole city's children per school (its districts' counts added up);
    when a district could not be counted, ``city`` as it was, with a warning that says so."""
    from dataclasses import replace

    from geoplan.coverage.seat_demand import add_up

    if not city.seats or city.facts is None:
        return city
    failed = [p.error for p in parts if p.children is None]
    if failed:
        warning = SEATS_PER_DISTRICT.format(which="; ".join(failed))
        return replace(city, warnings=(*city.warnings, warning))
    children = add_up(p.children for p in parts if p.children is not None)
    return replace(city, facts=replace(city.facts, school_children=children))


def run_job(job: Job, steps: tuple[str, ...], city: FactsOutcome | None = None
            ) -> pd.DataFrame:
    """Run one job; return its summary rows (or one row saying why it failed).

    On success the job's rows go to ``job_rows.csv`` and its record to ``job.json`` (written
    last, so a killed job is never taken for a finished one). On failure the traceback goes to
    :attr:`Job.log`. ``city``: the whole city's figures of the job's config
    (:func:`measure_city_facts`); None measures the district as if it were the whole city.
    """
    from geoplan._threads import using_threads
    from geoplan.pipeline import run_analysis

    told = list(city.warnings) if city is not None else []
    if city is not None and city.facts is None:
        return _job_row(job, "failed", "the whole city's figures (life-circle items with data, "
                        f"census shares) could not be measured: {city.error}", city.log,
                        city_said=told)
    known = city.facts.districts if city is not None and city.facts is not None else None
    if known is not None and job.district not in known:
        rows = _job_row(job, OUTSIDE, OUTSIDE_WHY, city_said=told)
        job.out.mkdir(parents=True, exist_ok=True)  # recorded: a rerun skips it too
        _record(job, rows, [])
        return rows
    try:
        (job.out / JOB_FILE).unlink(missing_ok=True)
        (job.out / ROWS_FILE).unlink(missing_ok=True)  # the batch's own, not the run's
        # one thread: Dask runs one job per worker thread already (GEOPLAN_THREADS still wins)
        with using_threads(1), _warnings_said() as said:
            result = run_analysis(job.config, job.out, steps=steps,
                                  facts=city.facts if city is not None else None)
        own = [w for w in said if w not in told]  # the city's are said once, for the config
        rows = _job_rows(job, result.coverage.table if result.coverage is not None else None, "ok",
                         own, told)
        _record(job, rows, [Path(p) for p in result.written])
    except Exception as exc:  # a failed district is reported; the batch goes on
        _write_log(job.log, traceback.format_exc())
        logger.warning("%s (%s) failed: %s", job.key, job.district, exc)
        return _job_row(job, "failed", f"{type(exc).__name__}: {exc}", str(job.log),
                        city_said=told)
    job.log.unlink(missing_ok=True)  # a failure of an earlier batch, fixed since
    return rows


def _record(job: Job, rows: pd.DataFrame, written: list[Path]) -> None:
    """Write the job's rows and, last, its ``job.json`` (fingerprint, each file's size and
    hash): a killed job is never taken for a finished one."""
    # the run's own records too: a job whose run.json (or its reports' record) went missing
    # is not whole
    records = [job.out / "run.json", *job.out.glob("*/.geoplan-*.json")]
    written = [*written, *records, write_csv(rows, job.out / ROWS_FILE)]
    files = {}
    home = job.out.resolve()  # the run gives its files' absolute paths; job.out may be relative
    for p in written:
        p = Path(p).resolve()
        if p.is_file() and p.is_relative_to(home):
            files[str(p.relative_to(home))] = [p.stat().st_size, _sha256(p)]
    record = {"fingerprint": job.fingerprint, "geoplan": __version__, "key": job.key,
              "city": job.city, "district": job.district, "code": job.code, "files": files}
    tmp = job.out / f".{JOB_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, job.out / JOB_FILE)


def _reuse(job: Job) -> pd.DataFrame:
    rows = pd.read_csv(job.out / ROWS_FILE, encoding="utf-8-sig",
                       dtype={"district": str, "code": str, "city": str})
    # finished before: skipped now; a district outside the data stays outside
    rows["status"] = rows["status"].where(rows["status"] == OUTSIDE, "skipped")
    return rows


def run_batch(
    configs: Sequence[AnalysisConfig],
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    steps: tuple[str, ...] = ("layers", "coverage", "sites", "deadends", "report"),
    progress: bool = False,
    rerun: bool = False,
    prune: bool = False,
) -> pd.DataFrame:
    """Run every (config, district) job of ``configs`` over Dask; write ``batch_summary.csv``.

    Parameters
    ----------
    configs
        Validated analysis configs (one per city, or several per city).
    out
        Output folder; each job writes into ``<out>/<config key>/<district key>/``. Every
        Dask worker must see it at the same path (a shared file system on a real cluster), and
        the configs' input files too.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); default: a LocalCluster
        on this machine.
    workers
        Worker processes of the LocalCluster (default: one per core).
    steps
        Pipeline steps per job (see :data:`geoplan.pipeline.STEPS`).
    progress
        Show a progress bar over jobs.
    rerun
        Run every job, even those finished before with unchanged inputs.
    prune
        Remove the job folders an earlier batch into ``out`` wrote for configs not in this
        one (:func:`remove_other_configs`); without it such a folder stops the batch before
        any work (:class:`~geoplan._errors.OutputError`), as its summary would not list them.

    Returns
    -------
    pandas.DataFrame
        All jobs' coverage rows, with ``city``, ``config``, ``code``, ``status`` (ok,
        skipped: finished before and unchanged, failed, no data, outside: a district the
        whole config's run leaves out) and ``warnings`` columns; failed and outside rows carry
        ``error`` (the full message), failed rows ``log`` (the traceback's file). Also written:
        ``batch_summary.csv`` and the batch's page ``index.html``
        (:mod:`geoplan.report.batch_index`).
    """
    try:  # before any work
        import dask.distributed  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dask is a declared extra
        raise ImportError("geoplan batch needs Dask: pip install 'geoplan[batch]'") from exc

    out = ensure_writable_dir(Path(out).resolve())
    # one batch at a time into a folder: another would remove, or write over, its jobs
    with folder_lock(out, "geoplan batch", inside=True), _run_lock(out):
        jobs, failed = _jobs_of_this_batch(configs, out, steps, prune)
        todo = [j for j in jobs if rerun or not job_is_done(j)]
        todo_keys = {j.key for j in todo}
        done = [j for j in jobs if j.key not in todo_keys]
        logger.info("batch: %d jobs over %d config(s): %d to run, %d unchanged and whole; %d "
                    "config(s) whose districts could not be read", len(jobs), len(configs),
                    len(todo), len(done), len(failed))
        tables: list[pd.DataFrame] = [failed] if len(failed) else []
        tables += [_reuse(j) for j in done]
        if todo:
            tables += _run_on_dask(todo, jobs, out, steps, scheduler, workers, progress)
        summary = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
        _say_warnings(summary)
        write_csv(summary, out / "batch_summary.csv")
        from geoplan.report.batch_index import write_batch_index

        write_batch_index(summary, jobs, out)
        return summary


def _jobs_of_this_batch(configs: Sequence[AnalysisConfig], out: Path, steps: tuple[str, ...],
                        prune: bool) -> tuple[list[Job], pd.DataFrame]:
    """The batch's jobs and failed configs (:func:`district_jobs`), its folder cleared of
    districts gone and, with ``prune``, of configs not in it (else those stop it)."""
    jobs, failed = district_jobs(configs, out, steps)
    keys = {j.config_key for j in jobs} | set(failed["config"] if len(failed) else ())
    others = other_configs(out, keys)
    if others and not prune:
        raise OutputError(
            f"{out} holds the job folders of {len(others)} config(s) not in this batch "
            f"({first_named([p.name for p in others], 5)}), from an earlier batch: its summary "
            "would not list them. Give those configs too, choose another folder with --out, "
            "or remove them with --prune.")
    remove_stale_jobs(jobs)
    remove_other_configs(out, others)
    return jobs, failed


def _run_on_dask(todo: list[Job], jobs: list[Job], out: Path, steps: tuple[str, ...],
                 scheduler: str | None, workers: int | None, progress: bool
                 ) -> list[pd.DataFrame]:
    """Run ``todo`` on the scheduler (or a LocalCluster of ``workers``); each job's rows."""
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm.std import tqdm

    tables: list[pd.DataFrame] = []
    cluster = client = None
    try:
        if scheduler:
            client = Client(scheduler)
        else:
            with _ctrl_c_held():  # a Ctrl-C meanwhile acts once the cluster is up
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                       processes=True, dashboard_address=":0",
                                       preload=["geoplan._worker_signals"])
            client = Client(cluster)
        city = _city_tasks(client, todo, out)
        city = _seat_tasks(client, jobs, city, out)
        futures = [client.submit(run_job, job, steps, city[job.config_key],
                                 pure=False, key=f"geoplan-{job.key}-{job.fingerprint[:8]}")
                   for job in todo]
        bar = tqdm(as_completed(futures), total=len(futures), disable=not progress,
                   desc="jobs", unit="job")
        n_failed = 0
        for future in bar:
            rows = future.result()
            n_failed += int((rows["status"] == "failed").any())
            bar.set_postfix(failed=n_failed)
            tables.append(rows)
    except KeyboardInterrupt:
        # the nannies (here) kill the workers still in a job: said, it reads like a fault
        logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
        raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return tables


@contextmanager
def _run_lock(out: Path) -> Iterator[None]:
    """The lock ``geoplan run --out`` takes beside ``out`` too, so that neither writes into
    the other's folder; skipped when ``out``'s parent cannot be written (a shared
    ``/shared/batch``): the lock inside ``out`` still keeps batches apart."""
    with ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(out, "geoplan batch"))
        except OutputBusyError:
            raise
        except OutputError:
            pass
        yield


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """A Ctrl-C while the LocalCluster starts is held, and raised once it is up.

    Raised at once, it would leave a half-started cluster's processes behind; ignored (as
    before), it was lost and the batch ran to its end. The workers ignore Ctrl-C themselves
    (:mod:`geoplan._worker_signals`), so that only this process handles it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    except Exception:
        # the same Ctrl-C reached the workers still starting ("Nanny failed to start"): it
        # is the interrupt the planner asked for, not an error to report
        if pressed:
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, handler)
    if pressed:
        raise KeyboardInterrupt


def remove_stale_jobs(jobs: Sequence[Job]) -> list[Path]:
    """Remove the job folders of districts a config no longer has (renamed, recoded or gone
    from its districts file), so that its folder holds this batch's jobs only.

    Only a job's folder (its ``job.json`` names it) holding just what the batch wrote, as it
    wrote it (the sizes and hashes ``job.json`` lists, and the run's own records), is
    removed, with its log and school-seat count; one holding anything else, or a file
    changed since, is kept, with a warning.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    current: dict[Path, set[str]] = {}
    for job in jobs:
        current.setdefault(job.out.parent, set()).add(job.out.name)
    removed: list[Path] = []
    for folder, names in current.items():
        if folder.is_dir():
            removed += _remove_job_folders((p for p in folder.iterdir()
                                            if p.is_dir() and p.name not in names),
                                           "of a district this batch no longer has")
    if removed:
        logger.info("removed %d job folder(s) of districts the configs no longer have: %s",
                    len(removed), first_named([p.name for p in removed], 10))
    return removed


def other_configs(out: Path, keys: Collection[str]) -> list[Path]:
    """The config folders of ``out`` holding jobs of an earlier batch, for configs whose keys
    are not in ``keys`` (folders whose jobs' ``job.json`` name them; a copy or a planner's
    own folder does not count)."""
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_dir() and p.name not in keys
                  and any(_job_key(j.parent) == f"{p.name}/{j.parent.name}"
                          for j in p.glob(f"*/{JOB_FILE}")))


def remove_other_configs(out: Path, folders: Iterable[Path]) -> list[Path]:
    """Remove the job folders in ``folders`` (:func:`other_configs`: an earlier batch's, of
    configs not in this one), by the rule of :func:`remove_stale_jobs`; a config folder left
    empty goes too, with its config's logs.

    Returns
    -------
    list of pathlib.Path
        The job folders removed.
    """
    removed: list[Path] = []
    for folder in folders:
        gone = _remove_job_folders((p for p in folder.iterdir() if p.is_dir()),
                                   "of a config not in this batch")
        removed += gone
        if not any(folder.iterdir()):
            folder.rmdir()
            for path in (out / LOG_DIR / f"{folder.name}.log", facts_log(out, folder.name)):
                path.unlink(missing_ok=True)
        if gone:
            logger.warning("removed %d job folder(s) of %s, a config not in this batch (--prune)",
                           len(gone), folder.name)
    return removed


def _job_key(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))["key"])
    except (ValueError, KeyError, TypeError, OSError):
        return None


def _remove_job_folders(folders: Iterable[Path], why: str) -> list[Path]:
    """Remove each of ``folders`` that is a job's and holds only what the batch wrote, as it
    wrote it, with the job's log and school-seat count; say which are kept (``why``: whose
    folder it is)."""
    removed = []
    for old in sorted(folders):
        record = old / JOB_FILE
        try:
            written = json.loads(record.read_text(encoding="utf-8"))
            key, listed = str(written["key"]), dict(written["files"])
        except (ValueError, KeyError, TypeError, OSError):
            continue  # not a job's folder
        if key != f"{old.parent.name}/{old.name}":
            continue  # a job's folder copied or moved here: not this batch's to remove
        files = {str(p.relative_to(old)) for p in old.rglob("*") if p.is_file()}
        others = sorted(f for f in files - set(listed) - {JOB_FILE, "run.json"}
                        if not Path(f).name.startswith(".geoplan"))
        changed = sorted(f for f in set(listed) & files if not _as_written(old / f, listed[f]))
        if others or changed:
            logger.warning("%s: a job folder %s, kept because it holds %s; move them out "
                           "and the next batch removes the folder", old, why,
                           f"files the batch did not write ({first_named(others, 5)})" if others
                           else f"files changed since the batch wrote them "
                                f"({first_named(changed, 5)})")
            continue
        shutil.rmtree(old)
        base = old.parent.parent
        (base / LOG_DIR / f"{old.parent.name}__{old.name}.log").unlink(missing_ok=True)
        (base / SEATS_DIR / f"{old.parent.name}__{old.name}.json").unlink(missing_ok=True)
        removed.append(old)
    return removed


def _as_written(path: Path, entry: Any) -> bool:
    """Whether ``path`` has the size and SHA-256 its job's record lists."""
    try:
        size, digest = entry
        return path.stat().st_size == size and (not digest or _sha256(path) == digest)
    except (TypeError, ValueError, OSError):
        return False


def _say_warnings(summary: pd.DataFrame) -> None:
    """Each config's warnings once, on the batch's own log (its jobs' workers logged them
    where nobody reads)."""
    from geoplan.report.batch_index import warning_counts

    if "warnings" not in summary.columns:
        return
    for ckey, part in summary.groupby("config", sort=False):
        city, counts, n_jobs = warning_counts(part)
        for said in city:
            logger.warning("%s (the whole city): %s", ckey, said)
        for said, n in counts.items():
            logger.warning("%s (%d of %d jobs): %s", ckey, n, n_jobs, said)


def _city_tasks(client: Any, jobs: Sequence[Job], out: Path) -> dict[str, Any]:
    """One :func:`measure_city_facts` task per config with jobs to run (config key -> its
    future); the jobs take the future, so Dask runs them after it."""
    tasks: dict[str, Any] = {}
    for job in jobs:
        ckey = job.config_key
        if ckey in tasks:
            continue
        whole = job.config.model_copy(update={"districts": job.config.districts.model_copy(
            update={"include": list(job.whole_include) if job.whole_include is not None
                    else None})})
        tasks[ckey] = client.submit(measure_city_facts, whole, facts_log(out, ckey), pure=False,
                                    key=f"geoplan-city-{ckey}-{_short_hash(job.fingerprint)}")
    return tasks


def _seat_tasks(client: Any, jobs: Sequence[Job], city: dict[str, Any], out: Path
                ) -> dict[str, Any]:
    """For each config with jobs to run: one :func:`measure_seat_demand` task per district of
    the config (those whose jobs are done too: every district's children compete) and one
    task that adds them up (:func:`with_school_children`); config key -> that task's future,
    which the jobs take instead of the city task's."""
    by_config: dict[str, list[Job]] = {}
    for job in jobs:
        by_config.setdefault(job.config_key, []).append(job)
    tasks: dict[str, Any] = {}
    for ckey, facts in city.items():
        mine = by_config[ckey]
        parts = [client.submit(measure_seat_demand, job, facts, seat_file(out, job), pure=False,
                               key=f"geoplan-seats-{job.key}-{job.fingerprint[:8]}")
                 for job in mine]
        tasks[ckey] = client.submit(with_school_children, facts, *parts, pure=False,
                                    key=f"geoplan-seats-{ckey}-{_short_hash(mine[0].fingerprint)}")
    return tasks


def summarise(summary: pd.DataFrame) -> pd.DataFrame:
    """One line per job, by config and district: status, standards meeting their target, or
    the full error; the config's key when the batch has more than one config, and how many
    warnings bear on the job's figures: its own and its config's city task's (on the city's
    data, so on every district's), each once, as ``index.html`` lists them for the config
    (``batch_summary.csv`` has the texts, in ``warnings`` and ``city_warnings``)."""
    if summary.empty:
        return summary
    rows: list[dict[str, Any]] = []
    keys = [c for c in ("config", "district") if c in summary.columns]
    several = "config" in summary.columns and summary["config"].nunique() > 1
    for _, part in summary.groupby(keys, sort=True, dropna=False):
        status = str(part["status"].iloc[0])
        row: dict[str, Any] = {"city": part["city"].iloc[0],
                               **({"config": part["config"].iloc[0]} if several else {}),
                               "district": part["district"].iloc[0], "status": status}
        if status in ("ok", "skipped") and "meets_target" in part:
            verdict = verdicts(part)
            measured = int(verdict.notna().sum())
            row["result"] = (f"{int((verdict == True).sum())}/{measured} standards met"  # noqa: E712
                             + (f", {len(part) - measured} with nothing to measure"
                                if measured < len(part) else ""))
        elif "error" in part and pd.notna(part["error"].iloc[0]):
            log = part["log"].iloc[0] if "log" in part else None
            row["result"] = str(part["error"].iloc[0]) + (f" (log: {log})" if pd.notna(log) else "")
        else:
            row["result"] = ""
        city = set(warnings_in(part, CITY_WARNINGS)) if status != "outside" else set()  # ran nothing
        row["warnings"] = len(city | set(warnings_in(part, "warnings")))
        rows.append(row)
    return pd.DataFrame(rows)
