"""Language narrowing of compact JSON-LD: a reader asking for one language gets that language's text only
(Startin'blox shows a map of several languages as raw JSON); other readers keep every language."""

from __future__ import annotations

import requests

from .conftest import ACCEPT_JSONLD, example, post

BOTH = {"fr": "Une piste cyclable protégée", "en": "A protected cycle lane"}


def _proposal(base: str, slug: str) -> str:
    document = dict(example("proposal-piste-cyclable-victor-hugo"), title=BOTH)
    return post(base, "proposals/", document, slug=slug).headers["Location"]


def test_accept_language_or_lang_narrows_resources_and_container_members(base):
    location = _proposal(base, "narrowed")
    whole = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    assert whole.json()["title"] == BOTH and "Accept-Language" in whole.headers["Vary"]
    french = requests.get(location, headers={**ACCEPT_JSONLD, "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
                          timeout=5)
    assert french.json()["title"] == {"fr": BOTH["fr"]}
    english = requests.get(location, params={"lang": "en"}, headers={**ACCEPT_JSONLD, "Accept-Language": "fr"},
                           timeout=5)
    assert english.json()["title"] == {"en": BOTH["en"]}, "lang= wins over Accept-Language"
    assert len({whole.headers["ETag"], french.headers["ETag"], english.headers["ETag"]}) == 3
    assert requests.get(location, headers={**ACCEPT_JSONLD, "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5",
                                           "If-None-Match": french.headers["ETag"]}, timeout=5).status_code == 304
    members = requests.get(f"{base}bordeaux/proposals/", params={"limit": 1000, "lang": "fr"}, headers=ACCEPT_JSONLD,
                           timeout=5).json()["ldp:contains"]
    member = next(m for m in members if m["@id"] == location)
    assert member["title"] == {"fr": BOTH["fr"]}


def test_a_missing_language_keeps_every_language_and_other_formats_are_whole(base):
    location = _proposal(base, "narrowed-missing")
    german = requests.get(location, headers={**ACCEPT_JSONLD, "Accept-Language": "de"}, timeout=5)
    assert german.json()["title"] == BOTH
    turtle = requests.get(location, headers={"Accept": "text/turtle", "Accept-Language": "fr"}, timeout=5)
    assert '"A protected cycle lane"@en' in turtle.text


def test_a_malformed_lang_is_400_naming_it(base):
    location = _proposal(base, "narrowed-bad")
    for value in ("", "fr;DROP", "x" * 40, "fr-" + "-".join(["ab"] * 9)):
        response = requests.get(location, params={"lang": value}, headers=ACCEPT_JSONLD, timeout=5)
        assert response.status_code == 400 and response.json()["field"] == "lang", value
    ignored = requests.get(location, headers={**ACCEPT_JSONLD, "Accept-Language": "*, 12345, ;;"}, timeout=5)
    assert ignored.status_code == 200 and ignored.json()["title"] == BOTH
