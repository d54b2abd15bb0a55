"""Storage backends, registered by name (as rdflib registers its stores).

The rest of the code only sees the :class:`Store` interface. The configuration's ``[store]`` table names a
backend and gives its options; each backend reads its own options (so a typo is refused at load time) and
opens its stores from them: ``oxigraph`` embeds the store, ``sparql`` speaks to an external SPARQL 1.1 engine.
Another backend is added with ``register``, without touching any caller.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import Change, Store


@dataclass(frozen=True)
class StoreContext:
    """What a backend may need to read its options: the node's ``data_dir`` and the configuration's folder."""

    data_dir: Path | None
    relative_to: Path


@dataclass(frozen=True)
class StoreSettings:
    backend: str = "oxigraph"
    options: Mapping[str, Any] = field(default_factory=dict)


# A backend's two functions: read the raw options of its [store] table, and open the store of one part of the
# node ("" for the pods, "federation" for the merged graph) from the options read.
ReadOptions = Callable[[Mapping[str, Any], StoreContext], Mapping[str, Any]]
Opener = Callable[[Mapping[str, Any], str], Store]


@dataclass(frozen=True)
class Backend:
    read_options: ReadOptions
    open: Opener
    shared: bool  # whether several processes may open its stores at once (a remote engine's are)


_BACKENDS: dict[str, Backend] = {}
# Imported when first named: each module registers itself.
_BUILT_IN = {"oxigraph": f"{__name__}.oxigraph", "sparql": f"{__name__}.sparql"}


def register(name: str, read_options: ReadOptions, opener: Opener, *, shared: bool = False) -> None:
    _BACKENDS[name] = Backend(read_options, opener, shared)


def read_settings(raw: Any, context: StoreContext) -> StoreSettings:
    """The ``store`` key: a backend's name (``store = "oxigraph"``) or a table (``[store] backend = ...``)."""
    if isinstance(raw, str):
        raw = {"backend": raw}
    if not isinstance(raw, dict):
        raise ConfigError("store must be a backend's name or a [store] table", field="store")
    options = dict(raw)
    name = options.pop("backend", "oxigraph")
    return StoreSettings(name, _backend(name).read_options(options, context))


def open_store(settings: StoreSettings, part: str = "") -> Store:
    """The store of one part of the node: ``""`` holds its pods, ``"federation"`` the merged graph."""
    return _backend(settings.backend).open(settings.options, part)


def shared_between_processes(settings: StoreSettings) -> bool:
    """Whether several processes of a node may serve from these stores: not an embedded store, which one process
    owns (RocksDB locks its folder), but a remote engine's."""
    return _backend(settings.backend).shared


def _backend(name: Any) -> Backend:
    if isinstance(name, str) and name not in _BACKENDS and name in _BUILT_IN:
        importlib.import_module(_BUILT_IN[name])
    if not isinstance(name, str) or name not in _BACKENDS:
        known = ", ".join(sorted({*_BACKENDS, *_BUILT_IN}))
        raise ConfigError(f"store.backend: unknown store backend {name!r}; known: {known}", field="store.backend")
    return _BACKENDS[name]


def refuse_unknown_options(backend: str, options: Mapping[str, Any], known: set[str]) -> None:
    """For a backend's ``read_options``: a misspelt option is an error naming it, not a silent default."""
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"store.{unknown[0]}: unknown option of the {backend!r} store backend; known: "
                          f"{', '.join(sorted(known | {'backend'}))}", field=f"store.{unknown[0]}")


__all__ = [
    "Change",
    "Store",
    "StoreContext",
    "StoreSettings",
    "open_store",
    "read_settings",
    "refuse_unknown_options",
    "register",
    "shared_between_processes",
]
