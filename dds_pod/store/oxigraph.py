"""The embedded default store: pyoxigraph, in memory or on disk (RocksDB).

Writes go through one SPARQL Update request per :class:`Change`, or, when the change only adds
quads, one ``extend`` (a transaction) or for large changes one ``bulk_extend`` (one atomic
ingestion of sorted files): a crash leaves either all of a change or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import ConfigError
from . import StoreContext, refuse_unknown_options, register
from .base import Change, Store

# From this many quads, a change that only adds is bulk-loaded: written as sorted files that RocksDB ingests at
# once (one atomic ingestion: all of the files or none) instead of through a transaction's write-ahead log
# and memtable: faster for a batch of 500 proposals, and its cost does not grow with the store. Below,
# the few files per index each ingestion adds cost more than the transaction (benchmarks/RESULTS.md). Above
# BULK_MAX_QUADS, a transaction again: oxigraph's loader cuts its input into chunks of a million quads, and one
# chunk is what makes one ingestion.
BULK_MIN_QUADS = 2_000
BULK_MAX_QUADS = 500_000


class OxigraphStore(Store):
    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self._store = ox.Store()
            return
        path.mkdir(parents=True, exist_ok=True)
        self._store = ox.Store(str(path))
        _remove_unfinished_loads(path)

    def triples(self, graph: str) -> list[ox.Triple]:
        return [q.triple for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def has_graph(self, graph: str) -> bool:
        return next(iter(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))), None) is not None

    def quads(self, subject=None, predicate=None, obj=None, graph: str | None = None) -> Iterable[ox.Quad]:
        return self._store.quads_for_pattern(subject, predicate, obj,
                                             ox.NamedNode(graph) if graph is not None else None)

    def commit(self, change: Change) -> None:
        if change.insert_only:
            insertions = change.insertions()
            if BULK_MIN_QUADS <= len(insertions) <= BULK_MAX_QUADS:
                self._store.bulk_extend(insertions)
            else:  # one transaction too, without rendering and parsing SPARQL
                self._store.extend(insertions)
            return
        update = update_request(change)
        if update:
            self._store.update(update)

    def query(self, sparql: str, *, union_default_graph: bool = True, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None,
              base_iri: str | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        dataset: dict = {"use_default_graph_as_union": union_default_graph}
        if default_graph is not None:  # pyoxigraph refuses the union flag beside an explicit default graph
            dataset = {"default_graph": [ox.NamedNode(graph) for graph in default_graph]}
        if named_graphs is not None:
            dataset["named_graphs"] = [ox.NamedNode(graph) for graph in named_graphs]
        return self._store.query(sparql, base_iri=base_iri, **dataset)

    def close(self) -> None:
        self._store.flush()


def _remove_unfinished_loads(path: Path) -> None:
    """Delete the sorted files of a bulk load a crash interrupted: RocksDB renames the files it ingests, so
    those still named as the loader wrote them were never part of the store. Called once the store is open,
    so under its lock: no load of this store is running anywhere."""
    for leftover in path.glob("bulk-*.sst"):
        leftover.unlink(missing_ok=True)


def update_request(change: Change, blank_nodes_in_data: bool = True) -> str:
    """A change as one SPARQL Update request (several operations applied as one): also what a SPARQL engine
    is sent. ``blank_nodes_in_data`` False: insertions with blank nodes go in ``INSERT { } WHERE {}``, for an engine
    that refuses them in ``INSERT DATA``."""
    operations = [f"DROP SILENT GRAPH <{graph}>" for graph in sorted(change.drop_graphs)]
    if change.remove:
        operations.append("DELETE DATA { " + " ".join(_quad(q) for q in change.remove) + " }")
    operations.extend(
        f"DELETE WHERE {{ GRAPH <{graph}> {{ {subject} {predicate} ?value }} }}"
        for subject, predicate, graph in change.remove_values
    )
    operations.extend(
        f"DELETE WHERE {{ GRAPH <{graph}> {{ {subject} ?predicate ?value }} }}"
        for subject, graph in change.clear_subjects
    )
    insertions = change.insertions()
    if insertions:
        quads = " ".join(_quad(q) for q in insertions)
        if blank_nodes_in_data or not any(_has_blank_node(q) for q in insertions):
            operations.append("INSERT DATA { " + quads + " }")
        else:
            operations.append("INSERT { " + quads + " } WHERE {}")
    return " ;\n".join(operations)


def _has_blank_node(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _quad(quad: ox.Quad) -> str:
    return f"GRAPH {quad.graph_name} {{ {quad.subject} {quad.predicate} {quad.object} }}"


def _read_options(raw: Mapping[str, Any], context: StoreContext) -> dict[str, Any]:
    """``path``: the RocksDB folder, relative to the configuration's; by default ``data_dir``, and without
    either the store lives in memory."""
    refuse_unknown_options("oxigraph", raw, {"path"})
    path = raw.get("path")
    if path is not None and (not isinstance(path, str) or not path):
        raise ConfigError("store.path must be a folder's path", field="store.path")
    return {"path": context.relative_to / path if path else context.data_dir}


def _open(options: Mapping[str, Any], part: str) -> OxigraphStore:
    path = options["path"]
    return OxigraphStore(path / part if path is not None and part else path)


register("oxigraph", _read_options, _open)
