"""Dask preload of the LocalCluster workers of ``geoplan batch``: Ctrl-C is the batch's.

Ctrl-C in a terminal goes to every process of the command. A worker that took it printed its
own KeyboardInterrupt traceback (and, under asyncio, shut itself down mid-task); the batch
process alone handles it and closes the cluster. Loaded by each worker as it starts, a
worker restarted later included (see :func:`geoplan.batch.run_batch`).

A worker busy in a job when the batch closes the cluster also logged the closing as errors:
a heartbeat to the scheduler, which is the batch itself and has just stopped, with two
tracebacks, and the cancelled job. Those two records are dropped here; for a LocalCluster
they only ever mean that the batch has ended.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

_CLOSING = ("Failed to communicate with scheduler during heartbeat", "ended with CancelledError")


def _not_the_batch_closing(record: logging.LogRecord) -> bool:
    return not any(text in record.getMessage() for text in _CLOSING)


def dask_setup(worker: Any) -> None:
    """Ignore SIGINT in this worker process (Dask calls this in the worker's main thread) and
    drop the records of the cluster closing under a busy worker."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("distributed.worker", "distributed.worker.state_machine"):
        logging.getLogger(name).addFilter(_not_the_batch_closing)
