"""The analysis as a job of the node: run again once harvests have changed the merged graph.

A change is seen in the input snapshot (each member's last applied feed sequence, one small query of the members
graph), polled every few seconds. A run starts once the snapshot has stayed the same for ``quiet_s`` (a harvest in
progress is left to finish) and the last run is at least ``min_interval_s`` old; a node restarted on a graph it
already analysed does not analyse it again.

The job is one thread of the process that runs the node's jobs (:mod:`dds_pod.jobs`), never of a request. It asks
the operating system to schedule it below the serving threads (``nice``) and keeps the numerical libraries to one
thread, so that on a small machine a core stays free for requests; the steps return to the interpreter between
them, and their heavy parts run in numpy and scikit-learn, which release the GIL. One BLAS thread is also what
keeps the process's forks safe: OpenBLAS's worker threads deadlock a fork that comes during a matrix product,
and the SPARQL endpoint forks a child for each query.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from threadpoolctl import threadpool_limits

from ..config import AnalysisConfig
from ..errors import StoreUnavailable
from .corpus import snapshot
from .service import NodeAnalysis

log = logging.getLogger(__name__)
POLL_S = 2.0
NICENESS = 10


class AnalysisJob:
    def __init__(self, service: NodeAnalysis, settings: AnalysisConfig, poll_s: float = POLL_S) -> None:
        self.service, self.settings, self.poll_s = service, settings, poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dds-analysis", daemon=True)
        self._seen: Mapping[str, int] | None = None  # the snapshot at the last poll
        self._changed_at = float("-inf")
        self._analysed: Mapping[str, int] | None = None  # the snapshot the last run read
        self._ran_at = float("-inf")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        _lower_priority()
        # The numerical libraries are loaded here, in this thread, before their thread pools are limited (a limit
        # reaches only the libraries already loaded). It matters beyond speed: OpenBLAS with worker threads
        # deadlocks a fork (the SPARQL endpoint forks a child per query) that comes during a product.
        from . import runner  # noqa: F401

        with threadpool_limits(limits=1):
            self.resume()
            while not self._stop.wait(self.poll_s):
                try:
                    self.tick(time.monotonic())
                except StoreUnavailable as exc:  # the engine is down: the next poll tries again
                    log.warning("analysis skipped: %s", exc.message)
                except Exception:  # a bug in one run must not end the job
                    log.exception("analysis run failed")
                    self._ran_at = time.monotonic()

    def tick(self, now: float) -> bool:
        """Run the analysis if it is due at ``now`` (monotonic seconds); whether it ran."""
        current = snapshot(self.service.merged)
        if current != self._seen:
            self._seen, self._changed_at = current, now
        if not current or current == self._analysed:
            return False
        if now - self._changed_at < self.settings.quiet_s or now - self._ran_at < self.settings.min_interval_s:
            return False
        outcome = self.service.run()
        self._analysed, self._ran_at = outcome.snapshot, time.monotonic()
        log.info("%s", outcome.summary())
        return True

    def resume(self) -> None:
        """Take up from the published analysis: a restarted node need not analyse the same graph again."""
        try:
            published = self.service.published()
        except StoreUnavailable:  # the first poll that reaches the store decides
            return
        if published is not None and published.runs:
            self._analysed = next(iter(published.runs.values())).snapshot


def _lower_priority() -> None:
    """Schedule this thread below the serving threads (Linux gives each thread its own niceness)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
    except (OSError, AttributeError):  # another system, or not allowed: the job runs at the usual priority
        log.debug("the analysis thread keeps its priority")
