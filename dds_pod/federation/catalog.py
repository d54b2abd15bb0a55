"""The node's DCAT catalogue: member pods (from the members graph of the merged store) and the
datasets their platforms publish elsewhere, from DCAT records such as a city's open-data catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from ..canonical import reachable
from ..config import ConfigError
from ..store import Change
from ..vocab import DCAT, DCTERMS, RDF
from .merged import MergedGraph


class Catalog:
    """The catalogue of ``members`` (this node's pods first, then the configured members) and their datasets."""

    def __init__(self, merged: MergedGraph, members: Iterable[str], records: Mapping[str, Sequence[Path]]) -> None:
        self.merged = merged
        self.members = list(dict.fromkeys(members))
        self.records = records
        self.iri = merged.graphs.catalog

    def triples(self) -> list[ox.Triple]:
        """The catalogue, each member a ``dcat:DataService`` with its endpoint, platform, title, last sync and
        status.

        Members never synced yet appear too (status unknown), so a member that was never reachable is visible.
        """
        catalog = ox.NamedNode(self.iri)
        triples = [
            ox.Triple(catalog, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(DCAT.Catalog))),
            ox.Triple(catalog, ox.NamedNode(str(DCTERMS.title)),
                      ox.Literal("Democracy Data Space federation", language="en")),
        ]
        for member in self.members:
            subject = ox.NamedNode(member)
            triples.append(ox.Triple(catalog, ox.NamedNode(str(DCAT.service)), subject))
            known = self.merged.member_statements(member)
            if not known:
                known = [ox.Triple(subject, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(DCAT.DataService))),
                         ox.Triple(subject, ox.NamedNode(str(DCAT.endpointURL)), subject)]
            triples.extend(known)
        triples.extend(self._datasets(catalog))
        return triples

    def read_records(self) -> Change:
        """The configured DCAT records as the change that replaces the merged store's datasets graph: read at
        start-up (a bad record is a configuration error), committed once the store answers."""
        datasets = self.merged.graphs.datasets
        change = Change(drop_graphs={datasets})
        graph = ox.NamedNode(datasets)
        for member, paths in self.records.items():
            for path in paths:
                fmt = ox.RdfFormat.TURTLE if path.suffix == ".ttl" else ox.RdfFormat.RDF_XML
                try:
                    quads = list(ox.parse(path=str(path), format=fmt))
                except (SyntaxError, ValueError, OSError) as exc:
                    raise ConfigError(f"DCAT record {path}: {exc}") from None
                change.add.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads)
                for quad in quads:
                    if quad.predicate == _TYPE and quad.object == _DATASET:
                        change.add.append(ox.Quad(ox.NamedNode(member), _SERVES, quad.subject, graph))
        return change

    def store_records(self, records: Change) -> None:
        self.merged.commit(records)

    def _datasets(self, catalog: ox.NamedNode) -> list[ox.Triple]:
        """Datasets and everything they hang on (distributions, periods...), linked from the catalogue."""
        triples = self.merged.dataset_statements()
        datasets = {t.subject for t in triples if t.predicate == _TYPE and t.object == _DATASET}
        kept = [ox.Triple(catalog, ox.NamedNode(str(DCAT.dataset)), d) for d in sorted(datasets, key=str)]
        roots = [*datasets, *(t.subject for t in triples if t.predicate == _SERVES)]
        kept.extend(reachable(triples, roots))
        return kept


_TYPE = ox.NamedNode(str(RDF.type))
_DATASET = ox.NamedNode(str(DCAT.Dataset))
_SERVES = ox.NamedNode(str(DCAT.servesDataset))
