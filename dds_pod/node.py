"""A DDS node: the configuration, the stores, the validator and the pods built from them.

``store`` holds the node's own pods; ``merged`` holds the federation's merged graph (every
member's resources, this node's pods included, with provenance).

Built once by the application factory; the HTTP layer reaches the domain only through it.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from .config import Config
from .federation.graphs import MergedGraphs
from .federation.inbox import Inbox
from .federation.members import MemberPlatforms, member_fetcher
from .federation.outbox import Outbox
from .ldp.intake import Intake
from .ldp.resources import Pod
from .store import Store, open_store
from .validation import Validator, default_validator


class BackgroundTask(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class Node:
    def __init__(self, config: Config, store: Store | None = None, validator: Validator | None = None,
                 merged_store: Store | None = None) -> None:
        self.config = config
        self.store = store or open_store(config.store, config.data_dir)
        self.merged = merged_store or open_store(
            config.store, config.data_dir / "federation" if config.data_dir else None)
        self.graphs = MergedGraphs(config.base_url)
        self.validator = validator or default_validator()
        self.context_url = f"{config.base_url}ns/context.jsonld"
        self.shapes_url = f"{config.base_url}shapes"
        self.intake = Intake(self.context_url, config.max_body_bytes)
        self.outbox = Outbox(self.store, member_fetcher(config, config.federation.max_response_bytes,
                                                        "dds-pod notifications"), config.federation.retry_base_s)
        self.pods = {name: Pod(pod, config.base_url, self.store, self.validator, self.intake, hook=self.outbox)
                     for name, pod in config.pods.items()}
        self._background: list[BackgroundTask] = []
        for pod in self.pods.values():
            pod.initialize()
        self.inbox = Inbox.configured(config, self.pods.values(), self.store,
                                      MemberPlatforms(config, self.merged, self.graphs), self.validator,
                                      self.intake.loader)
        self.add_background(self.outbox)
        self.add_background(self.inbox)

    def add_background(self, task: BackgroundTask) -> None:
        """Register a task (harvesting, notification delivery) run by a server, not by the CLI or tests."""
        self._background.append(task)

    def start_background(self) -> None:
        for task in self._background:
            task.start()

    def stop_background(self) -> None:
        for task in self._background:
            task.stop()

    def pods_accepting(self, token: str) -> set[str]:
        """Names of the pods this bearer token may write to (compared in constant time)."""
        accepted = set()
        for name, pod in self.pods.items():
            matches = [hmac.compare_digest(token.encode(), known.encode()) for known in pod.config.tokens]
            if any(matches):
                accepted.add(name)
        return accepted

    def close(self) -> None:
        self.store.close()
        self.merged.close()
