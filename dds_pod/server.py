"""Running a node under gunicorn from the ``dds-pod serve`` command.

One worker process owns the embedded store; threads serve requests concurrently (writes are
serialised per pod by the domain layer).
"""

from __future__ import annotations

import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .app import create_app
from .config import Config
from .demo import seed


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._app


def serve(config: Config, host: str, port: int, threads: int, seeds: list[tuple[str, Path]]) -> int:
    app = create_app(config)
    node = app.extensions["dds.node"]
    for pod_name, directory in seeds:
        pod = node.pods[pod_name]
        if pod.feed.last_sequence() == 0:
            written = seed(node, pod_name, directory)
            print(f"seeded {pod_name}: {len(written)} documents from {directory}", file=sys.stderr)
    for pod in node.pods.values():
        print(f"pod {pod.config.name}: {pod.url}  (HTML: open in a browser; JSON-LD: Accept: application/ld+json)",
              file=sys.stderr)
    print(f"ontology: {config.base_url}ns   shapes: {config.base_url}shapes", file=sys.stderr)
    options = {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": threads,
               "timeout": 60, "graceful_timeout": 5, "accesslog": None, "errorlog": "-", "loglevel": "warning"}
    try:
        _Gunicorn(app, options).run()
    finally:
        node.close()
    return 0
