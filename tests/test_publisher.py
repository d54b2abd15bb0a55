"""How the publisher cuts an import into requests: by count and by bytes, in order, each document encoded once."""

from __future__ import annotations

import json

from dds_pod.importers.publisher import chunked


def _documents(count: int, text_size: int) -> list[dict]:
    return [{"id": f"https://pod.example/b/p{i}", "type": "Proposal", "content": {"es": "á" * text_size}}
            for i in range(count)]


def test_chunks_hold_at_most_the_number_of_documents_asked_for_in_order():
    documents = _documents(25, 10)
    chunks = list(chunked(documents, size=10, budget=1 << 20))
    assert [len(chunk) for chunk in chunks] == [10, 10, 5]
    assert [json.loads(encoded) for chunk in chunks for encoded in chunk] == documents


def test_chunks_stay_within_the_byte_budget_as_sent():
    documents = _documents(40, 1000)  # about 2 kB each once encoded: "á" is two bytes in UTF-8
    budget = 9000
    chunks = list(chunked(documents, size=1000, budget=budget))
    bodies = [b'{"put": [' + b", ".join(chunk) + b"]}" for chunk in chunks]
    assert all(len(body) <= budget for body in bodies) and len(chunks) > 5
    assert [d for body in bodies for d in json.loads(body)["put"]] == documents


def test_a_document_larger_than_the_budget_goes_alone():
    small, large = _documents(2, 10), _documents(1, 5000)[0]
    chunks = list(chunked([small[0], large, small[1]], size=10, budget=2000))
    assert [len(chunk) for chunk in chunks] == [1, 1, 1]


def test_nothing_to_publish_gives_no_chunk():
    assert list(chunked([])) == []
