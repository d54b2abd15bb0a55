"""The node's DCAT catalogue of member pods, built from the members graph of the merged store."""

from __future__ import annotations

import pyoxigraph as ox

from ..node import Node
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
    return triples
