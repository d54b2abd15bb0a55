"""What a pod lets others add to its writes: a :class:`WriteHook` stages its quads in the write's own change.

A pod knows nothing of federation, yet some writes must tell other pods (a reply to a member's resource).
The node gives each pod a hook when it builds it; the pod hands the hook every resource it is about to
store, in the change that stores it, so the hook's quads (the outbox's pending notifications) are
committed with the resource or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..store import Change
from ..terms import Statement


@dataclass(frozen=True)
class StagedWrite:
    """A resource a change is about to store: the pod's URL, its IRI and statements, and whether it is new."""

    pod: str
    iri: str
    statements: Sequence[Statement]
    created: bool


class WriteHook(Protocol):
    def stage(self, change: Change, write: StagedWrite) -> None:
        """Add what this write implies to ``change``, before it is committed (it may not be, on a dry run)."""

    def committed(self) -> None:
        """A change this hook staged into is now stored."""


class NoHook:
    """A pod whose writes imply nothing else (a node without federation, a test)."""

    def stage(self, change: Change, write: StagedWrite) -> None:
        pass

    def committed(self) -> None:
        pass


class Hooks:
    """Several hooks of one pod, each told every write in the order they were added (the outbox stages its
    notifications; the subscribers' watcher tells channels once the write is stored)."""

    def __init__(self, *hooks: WriteHook) -> None:
        self._hooks = list(hooks)

    def add(self, hook: WriteHook) -> None:
        self._hooks.append(hook)

    def stage(self, change: Change, write: StagedWrite) -> None:
        for hook in self._hooks:
            hook.stage(change, write)

    def committed(self) -> None:
        for hook in self._hooks:
            hook.committed()
