"""Filling pods at start-up — example documents and the connectors' sources — through the same
validated write path as HTTP clients (``dds-pod serve --seed POD=[KIND:]PATH``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from .config import ConfigError
from .errors import DDSError
from .importers import consul_csv, decidim_csv, decidim_dataspace
from .importers.common import Settings
from .importers.pseudonyms import Pseudonymiser
from .importers.publisher import BATCH_SIZE
from .ldp.intake import Body
from .ldp.resources import Pod, Preconditions
from .node import Node
from .terms import value_of
from .vocab import AS, DDS, RDF

# Where a document without "id" goes, by its type.
CONTAINER_FOR = {DDS.Support: "reactions/", AS.Like: "reactions/", AS.Dislike: "reactions/",
                 DDS.Comment: "comments/", DDS.Meeting: "meetings/", DDS.Result: "results/",
                 DDS.Decision: "results/"}
JSON_LD = "application/ld+json"


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
        data = path.read_bytes()
        document = json.loads(data.decode("utf-8"))
        triples = node.intake.read_json_triples(document, f"{pod.url}examples/{path.stem}", pod.config.language)
        target = _target(pod, triples)
        if target is None:
            continue
        try:  # as a client would: one level below the pod, as the documents' relative IRIs expect
            if target.endswith("/"):
                result = pod.post(target, Body(data, JSON_LD), slug=path.stem, as_container=False,
                                  credential=credential)
            else:
                result = pod.put(target, Body(data, JSON_LD), preconditions=Preconditions(), credential=credential)
        except DDSError as error:
            raise DDSError(f"{path}: {error.message}") from error
        written.append(result.resource.iri)
    return written


def _target(pod: Pod, triples: list[ox.Triple]) -> str | None:
    """The IRI to PUT a document at, or the container to POST it to."""
    typed = [t for t in triples if t.predicate.value == str(RDF.type)]
    subjects = sorted({t.subject.value for t in typed if isinstance(t.subject, ox.NamedNode)})
    referenced = {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    roots = [s for s in subjects if s not in referenced] or subjects
    if roots:
        return roots[0] if roots[0].startswith(pod.url) else None
    types = {value_of(t.object) for t in typed}
    for cls, container in CONTAINER_FOR.items():
        if str(cls) in types:
            return pod.url + container
    return None


SEED_KINDS = ("jsonld", "decidim-dataspace", "decidim-csv", "consul-csv")


def seed_source(node: Node, pod_name: str, kind: str, path: Path, pseudonym_key: str | None) -> int:
    """Publish one seed source into a pod; returns how many documents were written."""
    if kind == "jsonld":
        return len(seed(node, pod_name, path))
    if not pseudonym_key:
        raise ConfigError("seeding from a platform's data needs a pseudonymisation key: set DDS_PSEUDONYM_KEY "
                          "or [import] pseudonym_key, so that people's names are never published")
    pod = node.pods[pod_name]
    settings = Settings(pod_url=pod.url, platform=pod.config.platform, locale=pod.config.language,
                        pseudonymiser=Pseudonymiser(pseudonym_key))
    if kind == "decidim-dataspace":
        data = {name: json.loads(next(path.glob(f"*_{name}.json")).read_text(encoding="utf-8"))
                for name in ("containers", "authors")}
        data["contributions"] = json.loads(next(path.glob("*_contributions_with_comments.json")).read_text())
        batch = decidim_dataspace.to_batch(data, settings)
    else:
        reader = decidim_csv.read if kind == "decidim-csv" else consul_csv.read
        batch, _problems = reader(sorted(path.glob("*.csv")), settings)
    written = 0
    documents = list(batch.documents.values())
    for start in range(0, len(documents), BATCH_SIZE):  # as the importers publish them, in process
        body = json.dumps({"put": documents[start:start + BATCH_SIZE]}).encode("utf-8")
        outcome = pod.batch(Body(body, "application/json"), credential=pod.config.tokens[0])
        written += len(outcome.created) + len(outcome.updated)
    return written
