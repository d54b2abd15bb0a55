"""WSGI entry for gunicorn: ``DDS_CONFIG=node.toml gunicorn 'dds_pod.wsgi:app'``.

Run one worker process (the embedded store belongs to one process) with threads:
``gunicorn -w 1 --threads 8 'dds_pod.wsgi:app'``.
"""

import gc
import os

from .app import create_app
from .config import load

app = create_app(load(os.environ["DDS_CONFIG"]))
gc.freeze()  # start-up objects live as long as the process: spare the garbage collector's full passes
