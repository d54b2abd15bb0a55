"""Keeps serving processes alive: ``dds-pod serve`` runs the node in child processes (one, or ``--workers N``) and
starts a new one when one dies (a crash, a kill, memory exhaustion), as a gunicorn master restarts its workers.

The children inherit the listening socket, so connections that arrive during a restart wait in its backlog (or go to
another child) instead of being refused. A child that exits with :data:`EXIT_FATAL` failed to start (a bad seed, a
configuration the node refuses): starting it again would fail again, so the supervisor stops them all and gives up.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

EXIT_FATAL = 3
FIRST_DELAY_S, MAX_DELAY_S = 0.5, 30.0
STABLE_AFTER_S = 60.0  # a child that ran this long crashed on its own: restart it at once again next time
GRACE_S = 15.0  # what a child has to finish its requests and close its stores once asked to stop
POLL_S = 0.2


@dataclass
class _Slot:
    """One child the supervisor keeps running, and when to start it again."""

    target: Callable[[], None]
    name: str
    child: multiprocessing.process.BaseProcess | None = None
    started: float = 0.0
    start_at: float = 0.0  # monotonic
    delay: float = FIRST_DELAY_S


class Supervisor:
    def __init__(self, targets: Callable[[], None] | Sequence[Callable[[], None]], name: str = "dds-pod-node") -> None:
        listed = [targets] if callable(targets) else list(targets)
        self._slots = [_Slot(target, f"{name}-{n}" if len(listed) > 1 else name) for n, target in enumerate(listed)]
        self._stopping = threading.Event()

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0 after a clean stop, 2 when a child cannot start."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        status = 0
        while not self._stopping.is_set() and status == 0:
            for slot in self._slots:
                status = status or self._tend(slot)
            self._stopping.wait(POLL_S)
        self._stop_children()
        return status

    def _tend(self, slot: _Slot) -> int:
        """Start a slot's child when due, or note that it ended; 2 when it ended unable to start."""
        now = time.monotonic()
        if slot.child is None:
            if now >= slot.start_at and not self._stopping.is_set():
                slot.child = multiprocessing.get_context("fork").Process(target=slot.target, name=slot.name)
                slot.child.start()
                slot.started = now
            return 0
        code = slot.child.exitcode
        if code is None:
            return 0
        slot.child.join()
        slot.child = None
        if self._stopping.is_set():
            return 0
        if code == EXIT_FATAL:
            return 2
        slot.delay = FIRST_DELAY_S if now - slot.started > STABLE_AFTER_S else min(slot.delay * 2, MAX_DELAY_S)
        slot.start_at = now + slot.delay
        print(f"dds-pod: the serving process {slot.name} exited ({_describe(code)}); starting it again in "
              f"{slot.delay:g} s", file=sys.stderr)
        return 0

    def _stop_children(self) -> None:
        """SIGTERM to every child; one still running GRACE_S later is killed."""
        children = [slot.child for slot in self._slots if slot.child is not None]
        for child in children:
            if child.pid is not None:  # set once started, as every child kept is
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for child in children:
            child.join(max(deadline - time.monotonic(), 0))
            if child.exitcode is None:
                child.kill()
                child.join()

    def _stop(self, signum: int, frame) -> None:
        self._stopping.set()


def _describe(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"
