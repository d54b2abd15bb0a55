"""Validated writes over HTTP: 422 reports, warnings, server-managed triples, auth, patches, search."""

from __future__ import annotations

import json

import requests

from dds_pod.testing import TOKENS

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post


def test_invalid_document_is_422_with_report_and_field_errors(base):
    document = example("proposal-community-garden")
    document["status"] = "approved"
    del document["published"]
    before = requests.get(f"{base}bordeaux/changes/?since=0&limit=100000", headers={"Accept": "text/turtle"},
                          timeout=5).text
    response = post(base, "proposals/", document)
    assert response.status_code == 422
    body = response.json()
    assert body["@type"] == ["sh:ValidationReport"] and body["sh:conforms"] is False
    paths = {r.get("sh:resultPath", {}).get("@id") for r in body["sh:result"]}
    assert "https://w3id.org/dds/ns#status" in paths
    assert any("must be one of submitted" in m for m in body["status"])
    assert any("publication date" in m for m in body["published"])
    assert 'rel="http://www.w3.org/ns/ldp#constrainedBy"' in response.headers["Link"]
    after = requests.get(f"{base}bordeaux/changes/?since=0&limit=100000", headers={"Accept": "text/turtle"},
                         timeout=5).text
    assert before == after, "a refused write must not even reach the change feed"


def test_field_errors_follow_accept_language(base):
    document = example("comment-on-proposal")
    document["stance"] = "maybe"
    response = post(base, "comments/", document, **{"Accept-Language": "fr"})
    assert response.status_code == 422
    assert any("La position doit être" in m for m in response.json()["stance"])


def test_warnings_do_not_block_and_come_back_in_headers(base):
    document = example("proposal-community-garden")
    del document["topic"]
    response = post(base, "proposals/", document)
    assert response.status_code == 201
    assert any(w.startswith("topic:") for w in response.headers["DDS-Validation-Warning"].split(", "))


def test_server_managed_fields_are_set_by_the_pod(base):
    document = dict(example("proposal-community-garden"), platform="https://forged.example",
                    created="2000-01-01T00:00:00Z")
    body = post(base, "proposals/", document).json()
    assert body["platform"] == "https://participation.bordeaux-metropole.example"
    assert body["created"] != "2000-01-01T00:00:00Z"
    assert body["publishedWith"] == f"{base}bordeaux/#credential-1"
    assert TOKENS["bordeaux"] not in json.dumps(body)


def test_writes_need_the_pod_token(base, server):
    document = json.dumps(example("proposal-community-garden"))
    url = f"{base}bordeaux/proposals/"
    missing = requests.post(url, data=document, headers=JSONLD, timeout=5)
    assert missing.status_code == 401
    wrong = requests.post(url, data=document, headers={**JSONLD, "Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401
    other = requests.post(url, data=document, headers={**JSONLD, **auth("paris")}, timeout=5)
    assert other.status_code == 403
    assert requests.get(url, headers=ACCEPT_JSONLD, timeout=5).status_code == 200, "reads are public"
    assert TOKENS["paris"] not in server.log() and TOKENS["bordeaux"] not in server.log()


def test_sparql_update_patch(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    update = ("PREFIX dds: <https://w3id.org/dds/ns#> DELETE { <> dds:supportCount ?n }"
              " INSERT { <> dds:supportCount 213 } WHERE { <> dds:supportCount ?n }")
    response = requests.patch(location, data=update.encode(),
                              headers={**auth(), "Content-Type": "application/sparql-update"}, timeout=5)
    assert response.status_code == 204, response.text
    assert requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()["supportCount"] == 213


def test_patch_whose_result_is_invalid_is_422_and_stores_nothing(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    before = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    update = "DELETE WHERE { <> <https://www.w3.org/ns/activitystreams#published> ?d }"
    response = requests.patch(location, data=update.encode(),
                              headers={**auth(), "Content-Type": "application/sparql-update"}, timeout=5)
    assert response.status_code == 422
    after = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    assert after.headers["ETag"] == before.headers["ETag"] and after.text == before.text


def test_n3_patch(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    patch = """@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix dds: <https://w3id.org/dds/ns#>.
    _:p a solid:InsertDeletePatch ; solid:where { <> dds:status ?s } ;
        solid:deletes { <> dds:status ?s } ; solid:inserts { <> dds:status dds:accepted } ."""
    response = requests.patch(location, data=patch.encode(), headers={**auth(), "Content-Type": "text/n3"}, timeout=5)
    assert response.status_code == 204, response.text
    assert requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()["status"] == "accepted"
    conflict = patch.replace("dds:status ?s }", "dds:status dds:rejected }", 2).replace("?s", "dds:rejected")
    assert requests.patch(location, data=conflict.encode(), headers={**auth(), "Content-Type": "text/n3"},
                          timeout=5).status_code == 409


def test_merge_patch_changes_only_given_fields(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    patch = {"title": {"en": "A protected cycle lane"}, "statusDate": None}
    response = requests.patch(location, data=json.dumps(patch),
                              headers={**auth(), "Content-Type": "application/merge-patch+json"}, timeout=5)
    assert response.status_code == 204, response.text
    after = requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()
    assert after["title"] == {"fr": "Une piste cyclable protégée cours Victor-Hugo", "en": "A protected cycle lane"}
    assert "statusDate" not in after and after["supportCount"] == 212


def test_merge_patch_null_in_a_language_map_removes_only_that_language(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    headers = {**auth(), "Content-Type": "application/merge-patch+json"}
    added = {"title": {"en": "A protected cycle lane"}}
    assert requests.patch(location, data=json.dumps(added), headers=headers, timeout=5).status_code == 204
    removed = {"title": {"en": None}, "content": {"fr": "Nouveau texte", "en": None}}
    response = requests.patch(location, data=json.dumps(removed), headers=headers, timeout=5)
    assert response.status_code == 204, response.text
    after = requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()
    assert after["title"] == {"fr": "Une piste cyclable protégée cours Victor-Hugo"}
    assert after["content"] == {"fr": "Nouveau texte"}


def test_merge_patch_removing_an_unknown_field_is_400_naming_it_and_changes_nothing(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    before = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    response = requests.patch(location, data=json.dumps({"titel": None, "supportCount": 1}),
                              headers={**auth(), "Content-Type": "application/merge-patch+json"}, timeout=5)
    assert response.status_code == 400 and response.json()["field"] == "titel"
    after = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    assert after.headers["ETag"] == before.headers["ETag"] and after.json() == before.json()


def test_startinblox_form_post_is_mapped_to_dds_terms(base):
    form = {"@context": {"@vocab": "https://cdn.startinblox.com/owl#", "ldp": "http://www.w3.org/ns/ldp#"},
            "title": "Plus de bancs", "content": "Sur la place.", "published": "2025-06-01T10:00:00Z"}
    response = requests.post(f"{base}bordeaux/proposals/", data=json.dumps(form),
                             headers={**JSONLD, **auth(), "Content-Language": "fr"}, timeout=5)
    assert response.status_code == 201, response.text
    body = requests.get(response.headers["Location"], headers=ACCEPT_JSONLD, timeout=5).json()
    assert body["@type"] == "Proposal" and body["title"] == {"fr": "Plus de bancs"}
    unknown = dict(form, colour="blue")
    refused = requests.post(f"{base}bordeaux/proposals/", data=json.dumps(unknown), headers={**JSONLD, **auth()},
                            timeout=5)
    assert refused.status_code == 400 and refused.json()["field"] == "colour"


def test_search_parameters(base):
    post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="search-velo")
    post(base, "proposals/", example("proposal-community-garden"), slug="search-garden")
    def ids(**params):
        response = requests.get(f"{base}bordeaux/proposals/", headers=ACCEPT_JSONLD, params={"limit": 1000, **params},
                                timeout=5)
        return {m["@id"].rsplit("/", 1)[1] for m in response.json()["ldp:contains"]}
    found = ids(**{"search-fields": "title", "search-terms": "PISTE cyclable", "search-method": "ibasic"})
    assert "search-velo" in found and "search-garden" not in found
    assert "search-velo" not in ids(**{"search-fields": "title", "search-terms": "PISTE", "search-method": "basic"})
    exact = ids(**{"search-fields": "title", "search-terms": "A community garden in La Bastide",
                   "search-method": "exact"})
    assert "search-garden" in exact and "search-velo" not in exact
    bad = requests.get(f"{base}bordeaux/proposals/", params={"search-fields": "colour", "search-terms": "x"}, timeout=5)
    assert bad.status_code == 400


def test_batch_deletes_only_the_pods_own_deletable_resources(base):
    victim = post(base, "proposals/", example("proposal-community-garden"), pod="paris").headers["Location"]
    for target in (victim, f"{base}bordeaux/changes/", f"{base}bordeaux/proposals/", f"{base}bordeaux/"):
        response = requests.post(f"{base}bordeaux/batch", data=json.dumps({"delete": [target]}),
                                 headers={**auth(), "Content-Type": "application/json"}, timeout=10)
        assert response.status_code in (400, 405, 409), (target, response.status_code, response.text)
    assert requests.get(victim, headers=ACCEPT_JSONLD, timeout=5).status_code == 200
    feed = requests.get(f"{base}bordeaux/changes/", headers={"Accept": "text/turtle"}, timeout=5)
    assert feed.status_code == 200 and "tree:member" in feed.text
    writes = [(requests.put, "text/turtle", b"<> a <https://w3id.org/dds/ns#Proposal> ."),
              (requests.patch, "application/sparql-update", b"INSERT DATA { <> <http://x/p> 1 }"),
              (requests.delete, "text/turtle", b"")]
    for method, media_type, body in writes:
        response = method(f"{base}bordeaux/changes/x", data=body, headers={**auth(), "Content-Type": media_type},
                          timeout=5)
        assert response.status_code in (404, 405), (method, response.status_code)


def test_post_without_slug_keeps_fragment_ids(base):
    document = example("proposal-community-garden")
    document["location"] = {"id": "#place", "type": "Place", "name": "La Bastide"}
    response = post(base, "proposals/", document)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"] == f"{response.headers['Location']}#place"


def test_deeply_nested_blank_nodes_are_refused_and_nothing_breaks(base):
    turtle = ("@prefix dds: <https://w3id.org/dds/ns#> . @prefix as: <https://www.w3.org/ns/activitystreams#> . "
              "<> a dds:Proposal ; as:location " + "[ as:location " * 300 + "[ a as:Place ]" + " ]" * 300 + " .")
    response = requests.post(f"{base}bordeaux/proposals/", data=turtle.encode(),
                             headers={**auth(), "Content-Type": "text/turtle"}, timeout=10)
    assert response.status_code == 400  # refused before parsing: nesting is bounded at 64 levels
    assert "nested deeper" in json.dumps(response.json())
    assert requests.get(f"{base}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=5).status_code == 200


def test_unauthenticated_writes_say_how_to_authenticate(base):
    response = requests.post(f"{base}bordeaux/proposals/", data=b"{}", headers=JSONLD, timeout=5)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
