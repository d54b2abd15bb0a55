"""Storage backends, registered by name (as rdflib registers its stores).

The rest of the code only sees the :class:`Store` interface; ``open_store("oxigraph", path)``
builds the embedded default, and a remote SPARQL store can be added with ``register``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import Change, Store

_FACTORIES: dict[str, Callable[[Path | None], Store]] = {}


def register(name: str, factory: Callable[[Path | None], Store]) -> None:
    _FACTORIES[name] = factory


def open_store(name: str, path: Path | None = None) -> Store:
    if name not in _FACTORIES and name == "oxigraph":
        from . import oxigraph  # noqa: F401  (registers itself)
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown store {name!r}; known: {', '.join(sorted(_FACTORIES)) or 'none'}") from None
    return factory(path)


__all__ = ["Change", "Store", "open_store", "register"]
