"""Error bodies that Startin'blox forms can show: the form walks every key of the body and descends into each
value that is not an array, so any string it reaches that way would send it into endless recursion."""

from __future__ import annotations

import json

import requests

from .conftest import JSONLD, auth, example, post

FORM_HEADERS = {**JSONLD, "Accept": "application/ld+json"}  # what Startin'blox's store sends


def _walk_as_a_form_does(value, depth: int = 0) -> None:
    """Fail where Startin'blox's error display would recurse without end (or on null)."""
    assert depth < 20, "too deep"
    if isinstance(value, list | bool | int | float):
        return
    assert isinstance(value, dict), f"a form would recurse into {value!r} forever"
    for key, item in value.items():
        if depth == 0 and key.startswith("@context"):
            continue
        _walk_as_a_form_does(item, depth + 1)


def test_a_validation_report_gives_its_types_as_arrays(base):
    document = example("proposal-community-garden")
    document["status"] = "approved"
    response = post(base, "proposals/", document, Accept="application/ld+json")
    assert response.status_code == 422
    body = response.json()
    assert body["@type"] == ["sh:ValidationReport"]
    assert all(result["@type"] == ["sh:ValidationResult"] for result in body["sh:result"])
    _walk_as_a_form_does(body)


def test_a_problem_for_a_form_lists_its_texts_and_names_the_field(base):
    form = {"@context": {"@vocab": "https://cdn.startinblox.com/owl#"}, "@type": "Proposal", "colour": "red"}
    response = requests.post(f"{base}bordeaux/proposals/", data=json.dumps(form),
                             headers={**FORM_HEADERS, **auth()}, timeout=5)
    assert response.status_code == 400
    body = response.json()
    _walk_as_a_form_does(body)
    assert body["status"] == 400 and body["field"] == ["colour"]
    assert body["colour"] == body["detail"] and "colour" in body["detail"][0]


def test_every_problem_of_a_form_save_can_be_walked(base):
    answers = [
        requests.post(f"{base}bordeaux/proposals/", data=b"{", headers={**FORM_HEADERS, **auth()}, timeout=5),
        requests.post(f"{base}bordeaux/proposals/", data=b"{}", headers=FORM_HEADERS, timeout=5),
        requests.post(f"{base}bordeaux/nowhere/", data=b"{}", headers={**FORM_HEADERS, **auth()}, timeout=5),
        requests.put(f"{base}bordeaux/changes/", data=b"{}", headers={**FORM_HEADERS, **auth()}, timeout=5),
        requests.patch(f"{base}bordeaux/proposals/x", data=b"{}", timeout=5, headers={
            **auth(), "Content-Type": "text/plain", "Accept": "application/ld+json"}),
        requests.post(f"{base}nobody/", data=b"{}", headers=FORM_HEADERS, timeout=5),
    ]
    assert [a.status_code for a in answers] == [400, 401, 404, 405, 415, 404]
    for answer in answers:
        _walk_as_a_form_does(answer.json())


def test_other_clients_keep_rfc_9457_problem_documents(base):
    for accept in ({}, {"Accept": "application/problem+json"}, {"Accept": "*/*"}):
        refused = requests.post(f"{base}bordeaux/proposals/", data=b"{", headers={**JSONLD, **auth(), **accept},
                                timeout=5).json()
        assert isinstance(refused["title"], str) and isinstance(refused["detail"], str) and refused["status"] == 400
    for url in (f"{base}bordeaux/nowhere", f"{base}federation/proposals/?platform=x%20y"):
        read = requests.get(url, headers={"Accept": "application/ld+json"}, timeout=5).json()
        assert isinstance(read["title"], str), "a reader's problem is not a form's"


# ------------------------------------------------------------------- the language of plain text

SIB = {"@vocab": "https://cdn.startinblox.com/owl#"}


def _form_post(base: str, **headers) -> str:
    form = {"@context": SIB, "title": "Des bancs", "published": "2025-06-01T10:00:00Z"}
    response = requests.post(f"{base}bordeaux/proposals/", data=json.dumps(form),
                             headers={**JSONLD, **auth(), **headers}, timeout=5)
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def _title(location: str) -> dict:
    return requests.get(location, headers={"Accept": "application/ld+json"}, timeout=5).json()["title"]


def test_plain_text_is_in_the_stated_language_else_the_pods_never_the_readers(base):
    assert _title(_form_post(base, **{"Accept-Language": "en"})) == {"fr": "Des bancs"}
    assert _title(_form_post(base, **{"Accept-Language": "*"})) == {"fr": "Des bancs"}
    assert _title(_form_post(base, **{"Content-Language": "en", "Accept-Language": "fr"})) == {"en": "Des bancs"}


def _form_patch(location: str, title: str, **headers) -> None:
    response = requests.patch(location, data=json.dumps({"@context": SIB, "title": title}),
                              headers={**JSONLD, **auth(), **headers}, timeout=5)
    assert response.status_code == 204, response.text


def test_a_patch_of_plain_text_replaces_the_value_in_its_stored_language(base):
    english = _form_post(base, **{"Content-Language": "en"})
    _form_patch(english, "More benches", **{"Accept-Language": "fr"})
    assert _title(english) == {"en": "More benches"}, "not a French title beside the English one"
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    _form_patch(location, "Un jardin")
    assert _title(location) == {"en": "A community garden in La Bastide", "fr": "Un jardin"}


def test_a_patch_stating_its_language_adds_that_language(base):
    english = _form_post(base, **{"Content-Language": "en"})
    _form_patch(english, "Des bancs, encore", **{"Content-Language": "fr"})
    assert _title(english) == {"en": "Des bancs", "fr": "Des bancs, encore"}
    refused = requests.patch(english, data=json.dumps({"@context": SIB, "title": "x"}),
                             headers={**JSONLD, **auth(), "Content-Language": "not a tag"}, timeout=5)
    assert refused.status_code == 400 and refused.json()["field"] == "Content-Language"
