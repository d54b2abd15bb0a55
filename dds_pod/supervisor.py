"""Keeps a serving process alive: ``dds-pod serve`` runs the node in a child process and starts a new one when it
dies (a crash, a kill, memory exhaustion), as a gunicorn master restarts its workers.

The child inherits the listening socket, so connections that arrive during a restart wait in its backlog
instead of being refused. A child that exits with :data:`EXIT_FATAL` failed to start (a bad seed, a
configuration the node refuses): starting it again would fail again, so the supervisor gives up.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

EXIT_FATAL = 3
FIRST_DELAY_S, MAX_DELAY_S = 0.5, 30.0
STABLE_AFTER_S = 60.0  # a child that ran this long crashed on its own: restart it at once again next time
GRACE_S = 15.0  # what a child has to finish its requests and close its stores once asked to stop


class Supervisor:
    def __init__(self, target: Callable[[], None]) -> None:
        self._target = target
        self._stopping = threading.Event()
        self._child: multiprocessing.process.BaseProcess | None = None

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0 after a clean stop, 2 when the child cannot start."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        delay = FIRST_DELAY_S
        while not self._stopping.is_set():
            started = time.monotonic()
            self._child = multiprocessing.get_context("fork").Process(target=self._target, name="dds-pod-node")
            self._child.start()
            code = self._wait(self._child)
            self._child = None
            if self._stopping.is_set():
                break
            if code == EXIT_FATAL:
                return 2
            delay = FIRST_DELAY_S if time.monotonic() - started > STABLE_AFTER_S else min(delay * 2, MAX_DELAY_S)
            print(f"dds-pod: the serving process exited ({_describe(code)}); starting it again in {delay:g} s",
                  file=sys.stderr)
            self._stopping.wait(delay)
        return 0

    def _wait(self, child: multiprocessing.process.BaseProcess) -> int | None:
        """The child's exit code; once a stop is asked, it has GRACE_S to exit before it is killed."""
        stop_asked: float | None = None
        while child.exitcode is None:
            child.join(0.5)
            if self._stopping.is_set() and child.exitcode is None:
                if stop_asked is None:  # the signal may have come before the child had a pid
                    stop_asked = time.monotonic()
                    if child.pid is not None:  # set once started, as every child waited on is
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(child.pid, signal.SIGTERM)
                if time.monotonic() - stop_asked > GRACE_S:
                    child.kill()
        return child.exitcode

    def _stop(self, signum: int, frame) -> None:
        self._stopping.set()
        child = self._child
        if child is not None and child.pid is not None:
            with contextlib.suppress(ProcessLookupError):  # not reaped here: _wait does that
                os.kill(child.pid, signal.SIGTERM)


def _describe(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"
