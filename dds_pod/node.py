"""A DDS node, the composition root: the stores, the validator, the pods and the services built from them.

``store`` holds the node's own pods; ``merged`` holds the federation's merged graph (every
member's resources, this node's pods included, with provenance), read through ``merged_graph``.
The harvester, the merged views, the catalogue and the Decidim API each get only the parts they
use; the node owns their background tasks. Nothing below this module imports it.

Built once by the application factory; the HTTP layer reaches the domain only through it. A node whose store does not
answer yet (a SPARQL engine still starting) is built all the same: it prepares its pods once the store answers
(:meth:`Node.ensure_ready`), and until then its requests get 503.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from functools import partial
from typing import Protocol

from .analysis.background import AnalysisJob
from .analysis.corpus import Pseudonyms
from .analysis.graph import run_iri, theme_iri
from .analysis.service import NodeAnalysis
from .api.decidim import DecidimAPI
from .config import Config, PodConfig
from .errors import StoreUnavailable
from .federation.catalog import Catalog
from .federation.fetch import AddressPolicy
from .federation.harvester import BackgroundSync, Harvester
from .federation.inbox import Inbox, InboxLimits
from .federation.members import MemberPlatforms, member_fetcher, member_pods
from .federation.merged import MergedGraph, MergedGraphs
from .federation.outbox import Outbox
from .federation.sources import member_sources
from .federation.views import MergedViews
from .ldp import reactions
from .ldp.hooks import Hooks
from .ldp.intake import Intake
from .ldp.reactions import Reaction
from .ldp.resources import Pod
from .notify import Notifications
from .portal.analysis import Links
from .portal.service import Portal
from .search import SearchIndex, open_index
from .search.documents import DocumentBuilder
from .search.updater import IndexUpdater, build_if_empty
from .store import Store, open_store
from .store.blobs import open_blobs
from .validation import Validator, default_validator

log = logging.getLogger(__name__)
RETRY_READY_S = 1.0  # how often a node whose store did not answer tries again, at most


class BackgroundTask(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class Node:
    def __init__(self, config: Config, store: Store | None = None, validator: Validator | None = None,
                 merged_store: Store | None = None, search: SearchIndex | None = None) -> None:
        self.config = config
        self.store = store or open_store(config.store)
        self.merged = merged_store or open_store(config.store, part="federation")
        self.merged_graph = MergedGraph(self.merged, MergedGraphs(config.base_url))
        self.search = search or open_index(config.search)
        self.search_documents = DocumentBuilder(self.merged_graph)
        self.merged_graph.add_listener(IndexUpdater(self.search, self.search_documents))
        self.validator = validator or default_validator()
        self.context_url = f"{config.base_url}ns/context.jsonld"
        self.shapes_url = f"{config.base_url}shapes"
        self.intake = Intake(self.context_url, config.max_body_bytes)
        self.outbox = Outbox(self.store, member_fetcher(config, config.federation.max_response_bytes,
                                                        "dds-pod notifications"), config.federation.retry_base_s)
        self.notifications = Notifications(config.notifications, config.base_url)
        # The bytes of the pods' files, beside the store that describes them.
        self.blobs = open_blobs(config.data_dir / "files" if config.data_dir is not None else None)
        self.pods = {name: self._pod(pod) for name, pod in config.pods.items()}
        self._jobs: list[BackgroundTask] = []
        self._serving_tasks: list[BackgroundTask] = []
        self._started: dict[bool, list[BackgroundTask]] = {True: [], False: []}  # by "is a job"
        self._ready, self._ready_lock, self._tried = False, threading.Lock(), float("-inf")
        self._waiting = ""  # why the store did not answer, last time
        federation = config.federation
        limits = InboxLimits(federation.inbox_queue, federation.inbox_per_actor, federation.inbox_workers,
                             federation.retry_base_s, config.max_body_bytes)
        self.inbox = Inbox(self.pods.values(), self.store, member_pods(config),
                           MemberPlatforms(config, self.merged_graph), self.validator, self.intake.loader,
                           member_fetcher(config, config.max_body_bytes, "dds-pod notifications"), limits,
                           f"{config.base_url}federation/notifications/")
        self.add_background(self.outbox)
        self.add_background(self.inbox, every_process=True)
        self.add_background(self.notifications.endpoint, every_process=True)
        self.add_background(self.notifications.follower, every_process=True)
        self._build_federation()
        self._records = self.catalog.read_records()
        try:
            self.ensure_ready()
        except StoreUnavailable as exc:
            log.warning("the store does not answer (%s): requests get 503 until it does", exc.message)

    def _pod(self, config: PodConfig) -> Pod:
        """A pod whose writes queue what they owe other pods (the outbox), then tell their subscribers."""
        hooks = Hooks(self.outbox)
        pod = Pod(config, self.config.base_url, self.store, self.validator, self.intake, hook=hooks,
                  blobs=self.blobs)
        hooks.add(self.notifications.watcher(pod))
        return pod

    def _build_federation(self) -> None:
        """The services over the merged graph, each given what it reads and writes."""
        federation, pods = self.config.federation, list(self.pods.values())
        sources = member_sources(pods, federation.members, federation.fetch_timeout_s,
                                 federation.max_response_bytes, AddressPolicy.of(self.config))
        data_dir = self.config.data_dir
        copies = open_blobs(data_dir / "files" / "federation" if data_dir is not None else None)
        self.harvester = Harvester(self.merged_graph, self.validator, sources, blobs=copies,
                                   copies_url=f"{self.config.base_url}federation/files/")
        self.add_background(BackgroundSync(self.harvester, federation.interval_s))
        self.views = MergedViews(self.merged_graph, self.search, self.search_documents.topic_key)
        self.catalog = Catalog(self.merged_graph, [pod.url for pod in pods] + list(federation.members),
                               self.config.catalog_records)
        self.decidim = DecidimAPI(self.merged_graph)
        analysis, key = self.config.analysis, self.config.import_settings.pseudonym_key
        self.analysis = NodeAnalysis(self.merged_graph, self.config.base_url, analysis, self.config.analysis_llm,
                                     lambda: Pseudonyms.for_node(key, data_dir))
        if analysis.enabled and analysis.background:
            self.add_background(AnalysisJob(self.analysis, analysis))
        base_url = self.config.base_url
        self.portal = Portal(self.merged_graph, self.received_reactions, analysis=self.analysis.published,
                             links=Links(theme=partial(theme_iri, base_url), run=partial(run_iri, base_url)))

    def ensure_ready(self) -> None:
        """Create the pods' initial containers, start following their feeds, queue again the inbox's pending
        notifications and store the catalogue's records, once; raise
        :class:`StoreUnavailable` while the store does not answer (tried again at most every RETRY_READY_S)."""
        if self._ready:
            return
        # One request tries at a time; the others answer at once rather than queue behind it for the engine's time
        # out, which would take every server thread while an engine hangs.
        if not self._ready_lock.acquire(blocking=False):
            raise StoreUnavailable(f"the node is waiting for its store: {self._waiting or 'it is being asked'}")
        try:
            if self._ready:
                return
            if time.monotonic() - self._tried < RETRY_READY_S:
                raise StoreUnavailable(f"the node is waiting for its store: {self._waiting}")
            self._tried = time.monotonic()
            try:
                self._prepare()
            except StoreUnavailable as exc:
                self._waiting = exc.message
                raise StoreUnavailable(f"the node is waiting for its store: {exc.message}") from None
            self._ready = True
        finally:
            self._ready_lock.release()

    def _prepare(self) -> None:
        for pod in self.pods.values():
            pod.initialize()
        for watcher in self.notifications.watchers:
            watcher.follow()
        self.inbox.resume()
        self.catalog.store_records(self._records)

    @property
    def ready(self) -> bool:
        return self._ready

    def received_reactions(self, iri: str) -> list[Reaction]:
        """The reactions one of this node's pods holds or accepted through its inbox for ``iri`` (none for a
        resource of another node)."""
        for pod in self.pods.values():
            if iri.startswith(pod.url):
                return reactions.find(self.store, pod.url, iri)
        return []

    def prepare_search(self) -> int:
        """Build the search index from the merged graph if it is empty (at start-up); the documents written."""
        return build_if_empty(self.search, self.search_documents)

    def add_background(self, task: BackgroundTask, *, every_process: bool = False) -> None:
        """Register a task run by a server, not by the CLI or tests. By default a job of the node (harvesting,
        delivering notifications, analysis): however many processes serve the node, one runs its jobs (see
        :mod:`.jobs`). ``every_process``: a task of each process that serves requests, about what that process
        received itself (the inbox's verification, the websocket endpoint of its subscribers)."""
        (self._serving_tasks if every_process else self._jobs).append(task)

    def start_background(self, *, jobs: bool = True, serving: bool = True) -> None:
        """Start the node's jobs, the tasks of a serving process, or both."""
        for is_job, tasks in ((False, self._serving_tasks if serving else []), (True, self._jobs if jobs else [])):
            for task in tasks:
                task.start()
                self._started[is_job].append(task)

    def stop_background(self, *, jobs: bool = True, serving: bool = True) -> None:
        """Stop what :meth:`start_background` started (the jobs, the serving tasks or both), the last first."""
        for is_job, chosen in ((True, jobs), (False, serving)):
            started = self._started[is_job]
            while chosen and started:
                started.pop().stop()

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
        self.search.close()
