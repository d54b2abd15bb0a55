"""The server starts and answers; the node index lists its pods."""

import requests


def test_index_lists_pods(base):
    body = requests.get(base, headers={"Accept": "application/ld+json"}, timeout=5).json()
    assert {p["@id"] for p in body["pods"]} == {f"{base}bordeaux/", f"{base}paris/"}
