"""Running a node under gunicorn from the ``dds-pod serve`` command.

One worker process owns the embedded stores; threads serve requests concurrently (writes are
serialised per pod by the domain layer). The application is built inside the worker, never in
the master before the fork: an on-disk store and background threads must belong to the
process that uses them.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .app import create_app
from .config import Config
from .demo import seed_source


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, seeds: list[tuple[str, str, Path]], options: dict) -> None:
        self._config = config
        self._seeds = seeds
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        self.cfg.set("worker_exit", _stop_node)

    def load(self):
        app = create_app(self._config)
        node = app.extensions["dds.node"]
        empty = {name for name, pod in node.pods.items() if pod.feed.last_sequence() == 0}
        key = os.environ.get("DDS_PSEUDONYM_KEY") or (self._config.extra.get("import") or {}).get("pseudonym_key")
        for pod_name, kind, path in self._seeds:
            if pod_name in empty:
                written = seed_source(node, pod_name, kind, path, key)
                print(f"seeded {pod_name}: {written} documents from {path} ({kind})", file=sys.stderr)
        # What start-up built (ontology, shapes, contexts, seeded data) lives as long as the worker: frozen, it is
        # no longer walked by every full collection of the garbage collector (6% of a bulk import's time).
        gc.freeze()
        node.start_background()
        _nodes.append(node)
        return app


_nodes: list = []


def _stop_node(server, worker) -> None:
    for node in _nodes:
        node.stop_background()
        node.close()


def serve(config: Config, host: str, port: int, threads: int, seeds: list[tuple[str, str, Path]]) -> int:
    for name in config.pods:
        print(f"pod {name}: {config.pod_url(name)}  (a browser gets HTML; Accept: application/ld+json gets JSON-LD)",
              file=sys.stderr)
    print(f"ontology: {config.base_url}ns   shapes: {config.base_url}shapes   SPARQL: {config.base_url}sparql   "
          f"catalogue: {config.base_url}catalog", file=sys.stderr)
    options = {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": threads,
               "timeout": 120, "graceful_timeout": 5, "accesslog": None, "errorlog": "-", "loglevel": "warning"}
    _Gunicorn(config, seeds, options).run()
    return 0
