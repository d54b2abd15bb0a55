"""One lifecycle for a serving node, whichever server runs it (``dds-pod serve``, plain gunicorn, ``dds-pod worker``).

A serving process builds the application, starts its own background tasks (the inbox's verification, the websocket
endpoint) and competes for the node's jobs (harvesting the federation, delivering notifications: see :mod:`.jobs`),
which one process of the node runs at a time; at exit it stops them and closes the stores. A ``dds-pod worker``
process serves no request: it only runs the jobs. The stores and threads
belong to the process that serves: they are never made in a parent that then forks (a gunicorn master with
``--preload``), where the threads would not survive the fork and an on-disk store would be shared.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from flask import Flask

from .app import create_app
from .config import Config
from .jobs import JobRunner
from .node import Node


class ServingNode:
    """The application of one serving process and the start and stop of its node's background tasks.

    ``serves_requests`` False: a worker process, which runs the node's jobs only. A serving process competes for
    the jobs unless the configuration leaves them to other processes (``[server] jobs = "elsewhere"``).
    """

    def __init__(self, config: Config, *, serves_requests: bool = True) -> None:
        self.app: Flask = create_app(config)
        self.node: Node = self.app.extensions["dds.node"]
        self.serves_requests = serves_requests
        runs_jobs = config.server.jobs == "here" or not serves_requests
        self.jobs = JobRunner(self.node) if runs_jobs else None
        self._lock = threading.Lock()
        self._state = "built"  # then "running", then "stopped"; each step happens once

    def start(self) -> None:
        with self._lock:
            if self._state != "built":
                return
            # What start-up built (ontology, shapes, contexts, seeded data) lives as long as the process: frozen, it
            # is no longer walked by every full collection of the garbage collector, a cost bulk imports feel.
            gc.freeze()
            self.node.start_background(jobs=False, serving=self.serves_requests)
            if self.jobs is not None:
                self.jobs.start()
            self._state = "running"
        atexit.register(self.stop)  # a gunicorn worker leaves through sys.exit: atexit runs, daemon threads die

    def stop(self) -> None:
        with self._lock:
            if self._state == "stopped":
                return
            if self._state == "running":
                if self.jobs is not None:
                    self.jobs.stop()
                self.node.stop_background()
            self.node.close()
            self._state = "stopped"
        print(f"dds-pod: node stopped (pid {os.getpid()})", file=sys.stderr)


WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def wsgi_application(config: Config) -> WSGIApp:
    """The application of ``dds_pod.wsgi`` for plain gunicorn. Imported in a worker (gunicorn's default), the node
    is built and started at once; imported by a master that preloads, it is built in each worker after the fork."""
    if _preloading_in_gunicorn_master():
        return _BuiltAfterFork(config)
    serving = ServingNode(config)
    serving.start()
    return serving.app


class _BuiltAfterFork:
    """Builds the node in every process the master forks (its workers), never in the master itself."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._master = os.getpid()
        self._app: Flask | None = None
        os.register_at_fork(after_in_child=self._build)

    def _build(self) -> None:
        if os.getppid() != self._master or self._app is not None:
            return  # a process forked by a worker, not a worker
        serving = ServingNode(self._config)
        serving.start()
        self._app = serving.app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self._app is None:
            raise RuntimeError("dds-pod: the node is built in gunicorn's workers, not in its master")
        return self._app(environ, start_response)


def _preloading_in_gunicorn_master() -> bool:
    """True when gunicorn's arbiter loads the application before forking (``--preload``): the import then runs
    inside ``Arbiter.setup``, whereas a worker imports it from ``spawn_worker``."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "setup" and code.co_filename.endswith(os.path.join("gunicorn", "arbiter.py")):
            return True
        frame = frame.f_back
    return False
