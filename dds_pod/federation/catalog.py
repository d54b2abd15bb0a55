"""The node's DCAT catalogue: member pods (from the members graph of the merged store) and the
datasets their platforms publish elsewhere, from DCAT records such as a city's open-data catalogue."""

from __future__ import annotations

import pyoxigraph as ox

from ..canonical import reachable
from ..config import ConfigError
from ..node import Node
from ..store import Change
from ..vocab import DCAT, DCTERMS, RDF


def catalog_triples(node: Node) -> list[ox.Triple]:
    """The catalogue, each member a ``dcat:DataService`` with its endpoint, platform, title, last sync and status.

    Members never synced yet appear too (status unknown), so a member that was never reachable is visible.
    """
    catalog = ox.NamedNode(node.graphs.catalog)
    triples = [
        ox.Triple(catalog, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(DCAT.Catalog))),
        ox.Triple(catalog, ox.NamedNode(str(DCTERMS.title)),
                  ox.Literal("Democracy Data Space federation", language="en")),
    ]
    members = [pod.url for pod in node.pods.values()] + list(node.config.federation.members)
    for member in dict.fromkeys(members):
        subject = ox.NamedNode(member)
        triples.append(ox.Triple(catalog, ox.NamedNode(str(DCAT.service)), subject))
        known = [q.triple for q in node.merged.quads(subject, None, None, node.graphs.members)]
        if not known:
            known = [ox.Triple(subject, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(DCAT.DataService))),
                     ox.Triple(subject, ox.NamedNode(str(DCAT.endpointURL)), subject)]
        triples.extend(known)
    triples.extend(_datasets(node, catalog))
    return triples


def load_records(node: Node) -> None:
    """Read the configured DCAT records into the merged store's datasets graph (replacing what was there)."""
    change = Change(drop_graphs={node.graphs.datasets})
    graph = ox.NamedNode(node.graphs.datasets)
    for member, paths in node.config.catalog_records.items():
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
    node.merged.commit(change)


def _datasets(node: Node, catalog: ox.NamedNode) -> list[ox.Triple]:
    """Datasets and everything they hang on (distributions, periods...), linked from the catalogue."""
    triples = [q.triple for q in node.merged.quads(None, None, None, node.graphs.datasets)]
    datasets = {t.subject for t in triples if t.predicate == _TYPE and t.object == _DATASET}
    kept = [ox.Triple(catalog, ox.NamedNode(str(DCAT.dataset)), d) for d in sorted(datasets, key=str)]
    roots = [*datasets, *(t.subject for t in triples if t.predicate == _SERVES)]
    kept.extend(reachable(triples, roots))
    return kept


_TYPE = ox.NamedNode(str(RDF.type))
_DATASET = ox.NamedNode(str(DCAT.Dataset))
_SERVES = ox.NamedNode(str(DCAT.servesDataset))
