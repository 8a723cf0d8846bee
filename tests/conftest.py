"""Shared fixtures: the embedded Chengdu analysis, loaded once per test session."""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The suite starts Python processes by the dozen (the command line, Dask workers, kernels):
# where PYTHONDONTWRITEBYTECODE is set (as in many containers, and on CI here) each would
# compile geoplan's modules and pytest would rewrite the tests' asserts again. Their bytecode
# is written for this run (``__pycache__``, ignored by git): 265 -> 254 s for the suite from a
# clean checkout, 6m58 -> 6m36 CPU (2026-12-07).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# the browser tests' fixtures (``browser``, ``session``), for every module that opens pages
pytest_plugins = ["tests._browser"]

ROOT = Path(__file__).resolve().parents[1]
CHENGDU_CONFIG = ROOT / "analyses" / "chengdu_core.yaml"
CHENGDU_PBF = ROOT / "layers" / "chengdu" / "chengdu_core_2018.osm.pbf"
CHENGDU_XML = ROOT / "layers" / "chengdu" / "chengdu_core_2018.osm.bz2"
CHENGDU_DISTRICTS = ROOT / "layers" / "boundaries" / "510100_districts_gcj02.geojson"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the layer cache of a test run away from the user's own cache."""
    os.environ["GEOPLAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("geoplan-cache"))
    os.environ.setdefault("GEOPLAN_NO_PROGRESS", "1")
    # the suite already keeps both cores busy (two xdist workers): pages built on forked
    # processes or districts on threads only add forks and switches here. The tests of those
    # paths (test_processes, test_threads, test_thread_safety) unset it for themselves.
    os.environ.setdefault("GEOPLAN_THREADS", "1")


# A worker holds the Chengdu layers and results (shapely geometries are tracked by the cyclic
# collector) while its tests make and drop many short-lived frames: at the default thresholds
# the full collections walked that heap again and again, 29 s of the two workers' CPU in one
# measured run against 7 s with these thresholds.
gc.set_threshold(20_000, 20, 20)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """What is alive when the tests are done stays out of pytest's last garbage collections.

    pytest collects the garbage once more as it ends (to report errors raised in finalizers);
    walking every worker's heap of session fixtures then took 4.7 sampled CPU s across the two
    workers in one profiled suite (py-spy), at the very end, when no test overlaps it. Garbage
    made by the tests was collected as they ran; the fixtures still alive are not garbage.
    """
    gc.freeze()


def _under_xdist() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder all xdist workers of this test run share (the parent of their base temps)."""
    return tmp_path_factory.getbasetemp().parent


def _built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
                build: Callable[[], Any]) -> Any:
    """``build()`` once per test run, shared by the xdist workers through a pickle.

    The first worker to ask builds it under a file lock and pickles it; the others wait on the
    lock and unpickle the same objects. Without xdist it is simply built.
    """
    if not _under_xdist():
        return build()
    root = _shared_root(tmp_path_factory)
    path = root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.is_file():
                return pickle.loads(path.read_bytes())
            value = build()
            tmp = root / f".{name}.pickle.tmp"
            tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, path)
            return value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _written_once(tmp_path_factory: pytest.TempPathFactory, name: str,
                  write: Callable[[Path], None]) -> Path:
    """A folder that ``write(folder)`` fills once per test run; the xdist workers share it.

    Only for folders the tests read (or copy), never change.
    """
    if not _under_xdist():
        out = tmp_path_factory.mktemp(name)
        write(out)
        return out
    root = _shared_root(tmp_path_factory)
    out, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.is_file():
                if out.exists():  # a worker that failed half-way: start again
                    import shutil

                    shutil.rmtree(out)
                out.mkdir()
                write(out)
                done.touch()
            return out
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def chengdu_config():
    from geoplan.config import load_config

    return load_config(CHENGDU_CONFIG)


@pytest.fixture(scope="session")
def _chengdu_built(tmp_path_factory, chengdu_config):
    """The layers and the results of the default analysis, computed once per test run.

    Under xdist the first worker computes them and the others unpickle the same objects (layers
    and results in one pickle, so what they share stays shared).
    """
    from geoplan.layers import load_layers
    from geoplan.pipeline import compute_results

    shared_cache = _shared_root(tmp_path_factory) / "chengdu-layer-cache"

    def build() -> tuple:
        layers = load_layers(chengdu_config)
        value = layers, compute_results(chengdu_config, layers)
        if _under_xdist():  # the parsed extract, for the other workers' layer caches
            _copy_cache_entries(Path(os.environ["GEOPLAN_CACHE_DIR"]), shared_cache)
        return value

    value = _built_once(tmp_path_factory, "chengdu-results", build)
    if _under_xdist():
        # as if this worker had parsed the extract itself: its commands and kernels started by
        # tests (same GEOPLAN_CACHE_DIR) find the Chengdu layers in its cache
        _copy_cache_entries(shared_cache, Path(os.environ["GEOPLAN_CACHE_DIR"]))
    return value


def _copy_cache_entries(source: Path, target: Path) -> None:
    """Copy whole layer-cache entries (each keyed by its input's content hash, never tmp files)."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for meta in sorted(source.glob("[!.]*.json")):
        gpkg = meta.with_suffix(".gpkg")
        if gpkg.is_file() and not (target / meta.name).exists():
            shutil.copy2(gpkg, target / gpkg.name)
            shutil.copy2(meta, target / meta.name)


@pytest.fixture(scope="session")
def chengdu_layers(request, chengdu_config):
    if _under_xdist():  # both come from the one computation shared by the workers
        return request.getfixturevalue("_chengdu_built")[0]
    from geoplan.layers import load_layers

    return load_layers(chengdu_config)


@pytest.fixture(scope="session")
def chengdu_results(request, chengdu_config, chengdu_layers):
    """Coverage, dead ends and sites of the default analysis, computed once per test run.

    The same call ``geoplan run``, ``map`` and ``report`` make
    (:func:`geoplan.pipeline.compute_results`), in-process: tests that check what the commands
    render use this instead of running the whole pipeline again in a subprocess. Under xdist
    one worker computes them and the others read its pickle (see ``_chengdu_built``).
    """
    if _under_xdist():
        return request.getfixturevalue("_chengdu_built")[1]
    from geoplan.pipeline import compute_results

    return compute_results(chengdu_config, chengdu_layers)


@pytest.fixture(scope="session")
def chengdu_outputs(tmp_path_factory, chengdu_config, chengdu_layers, chengdu_results):
    """The meeting map and the reports of the default analysis, written once into one folder.

    Written in the order ``geoplan run`` writes them (map first, so the reports link to it).
    Tests only read this folder (or copy it): under xdist the workers share one.
    """
    from geoplan.data_checks import data_checks
    from geoplan.pipeline import check_config_standards
    from geoplan.report.html import write_reports
    from geoplan.report.maps import write_map

    def write(out: Path) -> None:
        coverage, deadends, sites = chengdu_results
        checks = data_checks(chengdu_layers, coverage, deadends,
                             check_config_standards(chengdu_config), chengdu_layers.datum)
        table = checks.drop(columns="geometry").assign(
            located=(checks.geometry.notna() & ~checks.geometry.is_empty).to_numpy())
        table.to_csv(out / "data_checks_table.csv", index=False)
        write_map(chengdu_layers, coverage, deadends, chengdu_config, out, sites=sites,
                  checks=checks)
        files = write_reports(chengdu_layers, coverage, deadends, chengdu_config, out,
                              sites=sites, checks=checks)
        assert files.failures == {}, files.failures

    return _written_once(tmp_path_factory, "chengdu-outputs", write)
