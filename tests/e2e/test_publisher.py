"""The publisher against a real pod whose request limit is small: documents and deletions stay within it."""

from __future__ import annotations

import pytest
import requests

from dds_pod.importers.common import Batch
from dds_pod.importers.publisher import Publisher, PublishError
from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config

CONTEXT = "https://w3id.org/dds/context.jsonld"
LIMIT = 200_000  # the pod's max_body_bytes


def test_documents_then_many_deletions_go_in_requests_within_the_pods_limit(tmp_path):
    port = free_port()
    server = ServerProcess(write_config(tmp_path, port, max_body_bytes=LIMIT), port, tmp_path / "server.log").start()
    try:
        pod = f"{server.url}bordeaux/"
        publisher = Publisher(pod, TOKENS["bordeaux"], max_bytes=LIMIT - 10_000)
        documents = {f"{pod}proposals/p{i}": {
            "@context": CONTEXT, "id": f"{pod}proposals/p{i}", "type": "Proposal", "title": {"fr": f"Proposition {i}"},
            "content": {"fr": "x" * 1500}, "published": "2025-03-04T09:12:00Z"} for i in range(300)}
        assert publisher.publish(Batch(documents)).created == 300  # about 500 kB: several requests
        gone = [f"{pod}proposals/p{i}" for i in range(100)]
        never = [f"{pod}proposals/never-{i:05d}" for i in range(6000)]  # about 300 kB of IRIs on their own
        summary = publisher.publish(Batch({}, gone + never))
        assert summary.deleted == 100 and not summary.rejected
        assert requests.get(gone[0], timeout=10).status_code == 410
        assert requests.get(f"{pod}proposals/p100", timeout=10).status_code == 200
        assert "413" not in server.log()
    finally:
        server.stop()


def test_an_atomic_import_in_several_requests_writes_nothing_when_its_last_document_is_refused(tmp_path):
    port = free_port()
    server = ServerProcess(write_config(tmp_path, port, max_body_bytes=LIMIT), port, tmp_path / "server.log").start()
    try:
        pod = f"{server.url}bordeaux/"
        publisher = Publisher(pod, TOKENS["bordeaux"], atomic=True, max_bytes=LIMIT - 10_000)
        documents = {f"{pod}proposals/s{i}": {
            "@context": CONTEXT, "id": f"{pod}proposals/s{i}", "type": "Proposal", "title": {"fr": f"Proposition {i}"},
            "content": {"fr": "x" * 1500}, "published": "2025-03-04T09:12:00Z"} for i in range(300)}
        kept = f"{pod}proposals/s299"
        assert Publisher(pod, TOKENS["bordeaux"]).publish(Batch({kept: documents[kept]})).created == 1
        untitled = f"{pod}proposals/untitled"  # neither a title nor a content: the shapes refuse it
        refused = {**documents, untitled: {"@context": CONTEXT, "id": untitled, "type": "Proposal"}}
        summary = publisher.publish(Batch(refused, [kept]))
        assert list(summary.rejected) == [untitled] and summary.created == 0 and summary.deleted == 0
        assert requests.get(f"{pod}proposals/s0", timeout=10).status_code == 404, "the first requests wrote nothing"
        assert requests.get(kept, timeout=10).status_code == 200, "nor did the deletion run"
        done = publisher.publish(Batch(documents, [kept]))
        assert (done.created, done.unchanged, done.deleted) == (299, 1, 1)
    finally:
        server.stop()


def test_an_atomic_import_whose_deletion_the_pod_refuses_writes_nothing(tmp_path):
    port = free_port()
    server = ServerProcess(write_config(tmp_path, port), port, tmp_path / "server.log").start()
    try:
        pod = f"{server.url}bordeaux/"
        first, second = ({"@context": CONTEXT, "id": f"{pod}proposals/{name}", "type": "Proposal",
                          "title": {"fr": name}, "published": "2025-03-04T09:12:00Z"} for name in ("m", "n"))
        assert Publisher(pod, TOKENS["bordeaux"]).publish(Batch({first["id"]: first})).created == 1
        with pytest.raises(PublishError, match="proposals/ is not empty"):
            Publisher(pod, TOKENS["bordeaux"], atomic=True).publish(Batch({second["id"]: second},
                                                                          [f"{pod}proposals/"]))
        assert requests.get(second["id"], timeout=10).status_code == 404
    finally:
        server.stop()
