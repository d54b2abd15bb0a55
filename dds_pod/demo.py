"""Filling pods with example documents, through the same validated write path as HTTP clients."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import URIRef

from .errors import DDSError
from .ldp.resources import Pod, Preconditions
from .node import Node
from .vocab import AS, DDS, RDF

# Where a document without "id" goes, by its type.
CONTAINER_FOR = {DDS.Support: "reactions/", AS.Like: "reactions/", AS.Dislike: "reactions/",
                 DDS.Comment: "comments/", DDS.Meeting: "meetings/", DDS.Result: "results/",
                 DDS.Decision: "results/"}


def seed(node: Node, pod_name: str, directory: Path) -> list[str]:
    """Publish every JSON-LD file of ``directory`` into a pod; returns the IRIs written.

    Documents name themselves relative to the pod (``"id": "../proposals/x"``), so each is read
    against a base one level below the pod root. Documents identified outside the pod (a
    platform's own description) are skipped.
    """
    pod = node.pods[pod_name]
    credential = pod.config.tokens[0]
    written = []
    for path in sorted(directory.glob("*.jsonld")):
        document = json.loads(path.read_text(encoding="utf-8"))
        graph = node.intake.read_json(document, f"{pod.url}examples/{path.stem}", pod.config.language)
        target = _target(pod, graph)
        if target is None:
            continue
        try:
            if target.endswith("/"):
                proposed = pod.propose_member_iri(target, path.stem, as_container=False)
                graph = node.intake.read_json(document, proposed, pod.config.language)
                result = pod.create(target, graph, proposed_iri=proposed, slug=path.stem, as_container=False,
                                    credential=credential)
            else:
                result = pod.replace(target, graph, preconditions=Preconditions(), credential=credential)
        except DDSError as error:
            raise DDSError(f"{path}: {error.message}") from error
        written.append(result.resource.iri)
    return written


def _target(pod: Pod, graph) -> str | None:
    """The IRI to PUT a document at, or the container to POST it to."""
    subjects = {s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}
    referenced = set(graph.objects())
    roots = [s for s in subjects if s not in referenced] or list(subjects)
    if roots:
        iri = str(roots[0])
        return iri if iri.startswith(pod.url) else None
    for cls, container in CONTAINER_FOR.items():
        if (None, RDF.type, cls) in graph:
            return pod.url + container
    return None

