"""Names of the merged store's graphs.

Every harvested resource keeps its pod's IRI and lives in the named graph of that IRI. Beside
them, the node keeps a provenance graph (where and when each resource was retrieved), a members
graph (the DCAT catalogue of pods with their sync status) and one inferred graph per resource
(what the ontology's alignment axioms add), so that an update replaces exactly what it derived.
"""

from __future__ import annotations

from urllib.parse import quote


class MergedGraphs:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.provenance = f"{base_url}federation/provenance"
        self.members = f"{base_url}federation/members"
        self.catalog = f"{base_url}catalog"
        self.datasets = f"{base_url}federation/datasets"

    def inferred(self, resource: str) -> str:
        return f"{self.base_url}federation/inferred?resource={quote(resource, safe='')}"

    def is_internal(self, graph: str) -> bool:
        """Graphs the node writes about the data rather than harvested data itself."""
        return graph.startswith(f"{self.base_url}federation/")
