"""The node's jobs run in one process at a time, however many processes serve the node.

Harvesting, delivering the outbox's notifications, updating the search index (it follows the harvester's commits)
and analysis are work of the node, not of a request: two processes doing them would harvest twice and notify twice.
Every process that may run them (each one of ``dds-pod serve --workers N``, a ``dds-pod worker``, each gunicorn
worker) waits for the node's jobs lock, a write lock of the store (:meth:`Store.write_lock`); the process that takes it
runs the jobs until it stops, then releases it. A remote store's lock is one of the operating system, released when
its holder dies, even by SIGKILL: a waiting process then takes over at once. An embedded store belongs to one
process, which takes the lock at once.

Lock and jobs are per machine: processes on other machines serving the same engine set ``[server] jobs =
"elsewhere"`` and leave the jobs to this one.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from .errors import StoreUnavailable
from .node import Node

log = logging.getLogger(__name__)

JOBS_LOCK = "urn:dds:jobs"
STOP_WAIT_S = 15.0


class JobRunner:
    """A thread that waits for the jobs lock, then runs the node's jobs while this process lives."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dds-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the jobs, if this process runs them, and release the lock for another process."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(STOP_WAIT_S)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.node.store.write_lock(JOBS_LOCK):
                    if not self._stopping.is_set():
                        self._run_jobs()
            except StoreUnavailable:  # waited the lock's time out: another process runs the jobs, wait again
                continue

    def _run_jobs(self) -> None:
        print(f"dds-pod: the node's jobs run in this process (pid {os.getpid()})", file=sys.stderr, flush=True)
        try:
            self.node.prepare_search()
        except StoreUnavailable as exc:  # the index is built by the next harvest's commits instead
            log.warning("the search index could not be prepared: %s", exc.message)
        self.node.start_background(jobs=True, serving=False)
        try:
            self._stopping.wait()
        finally:
            self.node.stop_background(jobs=True, serving=False)
