"""WSGI entry for gunicorn: ``DDS_CONFIG=node.toml gunicorn 'dds_pod.wsgi:app'``.

On the embedded store, run one worker process (the store belongs to one process) with threads:
``gunicorn -w 1 --threads 8 'dds_pod.wsgi:app'``. On a store on a SPARQL engine, run as many as the machine takes
(``-w 4``): one of them runs the node's jobs (harvest, notification delivery), another takes them over when it dies
(:mod:`dds_pod.jobs`), as with ``dds-pod serve --workers N``.
"""

import os

from .config import load
from .lifecycle import wsgi_application

app = wsgi_application(load(os.environ["DDS_CONFIG"]))
