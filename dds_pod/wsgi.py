"""WSGI entry for gunicorn: ``DDS_CONFIG=node.toml gunicorn 'dds_pod.wsgi:app'``.

Run one worker process (the embedded store belongs to one process) with threads:
``gunicorn -w 1 --threads 8 'dds_pod.wsgi:app'``. The worker runs the node's background tasks (harvest,
notification delivery) as ``dds-pod serve`` does, and stops them when it exits.
"""

import os

from .config import load
from .lifecycle import wsgi_application

app = wsgi_application(load(os.environ["DDS_CONFIG"]))
