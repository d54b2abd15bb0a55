"""A bounded cache of compact JSON-LD node objects, keyed by (IRI, version).

A version changes on every write, so an entry can never be stale: containers render their
embedded members from here instead of recompacting each of them on every request.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable


class NodeCache:
    """Entries are the node object and its JSON text, so a container joins texts instead of re-encoding."""

    def __init__(self, capacity: int = 20000) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[dict, str]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, iri: str, version: str, build: Callable[[], dict]) -> tuple[dict, str]:
        key = (iri, version)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        node = build()
        entry = (node, json.dumps(node, ensure_ascii=False))
        with self._lock:
            self._entries[key] = entry
            if len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return entry
