"""Corpora for the analysis tests, read from the real exports in ``data/real`` as the merged graph would give them:
Madrid's Decide comments (Spanish, replies pointing at the comment they answer, no stance) and Barcelona's result
comments (Catalan and Spanish, Decidim's alignment as stance, replies pointing at a comment). Authors become keyed
hashes, as the pseudonymised reactions of the corpus are."""

from __future__ import annotations

import csv
import functools
import hashlib

from dds_pod.analysis import Corpus, Reaction, Text

from .conftest import DATA

MADRID = DATA / "real" / "decide_madrid_dgov_visual_analytics"
BARCELONA = DATA / "real" / "decidim_barcelona_open_data" / "www.decidim.barcelona-open-data-result_comments.csv"
MADRID_POD = "https://decide.madrid.example/pod/"
BARCELONA_POD = "https://decidim.barcelona.example/pod/"
STANCE = {"1": "inFavour", "-1": "against", "0": "neutral"}


def pseudonym(author: str) -> str:
    return hashlib.sha256(f"test-key:{author}".encode()).hexdigest()[:16]


def madrid_proposal(ident: str) -> str:
    return f"{MADRID_POD}proposals/{ident}"


def madrid_comment(ident: str) -> str:
    return f"{MADRID_POD}comments/{ident}"


@functools.cache
def madrid() -> Corpus:
    """Madrid's proposals and comments; each commenter's reaction is a +1 on the proposal commented on."""
    with (MADRID / "proposals.csv").open(encoding="utf-8") as stream:
        proposals = [Text(iri=madrid_proposal(row["id"]), kind="proposals", member=MADRID_POD, language="es",
                          title=row["title"], body=" ".join(filter(None, (row["summary"], row["text"]))),
                          published=row["date"]) for row in csv.DictReader(stream)]
    comments, reactions = [], []
    with (MADRID / "comments.csv").open(encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            parent = row["parentId"]
            answers = madrid_comment(parent) if parent != "-1" else madrid_proposal(row["proposalId"])
            comments.append(Text(iri=madrid_comment(row["id"]), kind="comments", member=MADRID_POD, language="es",
                                 body=row["text"], in_reply_to=answers, published=row["date"]))
            reactions.append(Reaction(pseudonym(row["userId"]), madrid_proposal(row["proposalId"]), 1))
    return Corpus(texts=tuple(proposals + comments), reactions=tuple(reactions), snapshot={MADRID_POD: 5714})


def madrid_proposal_of() -> dict[str, str]:
    """Comment IRI -> the proposal it was written under, as the export's ``proposalId`` column says."""
    with (MADRID / "comments.csv").open(encoding="utf-8") as stream:
        return {madrid_comment(row["id"]): madrid_proposal(row["proposalId"]) for row in csv.DictReader(stream)}


def barcelona_rows() -> list[dict[str, str]]:
    with BARCELONA.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


@functools.cache
def barcelona() -> Corpus:
    """Barcelona's result comments: a reply answers the comment (``commentable_id``), a root comment the result."""
    texts, reactions = [], []
    for row in barcelona_rows():
        if row["commentable_type"] == "Decidim::Comments::Comment":
            answers = f"{BARCELONA_POD}comments/{row['commentable_id']}"
        else:
            answers = row["root_commentable_url"]
        texts.append(Text(iri=f"{BARCELONA_POD}comments/{row['id']}", kind="comments", member=BARCELONA_POD,
                          language=row["locale"], body=row["body"], in_reply_to=answers,
                          stance=STANCE.get(row["alignment"]), published=row["created_at"]))
        if row["alignment"]:
            reactions.append(Reaction(pseudonym(row["author/id"]), answers, int(row["alignment"])))
    return Corpus(texts=tuple(texts), reactions=tuple(reactions), snapshot={BARCELONA_POD: 87})
