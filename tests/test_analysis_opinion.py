"""Stances per proposal and theme, opinion groups and bridges: on real exports and on built corpora whose answer
is known."""

from __future__ import annotations

from collections import Counter

import pytest

from dds_pod.analysis import Bridge, Corpus, NotEnoughData, Reaction, Text, Theme
from dds_pod.analysis.opinion import OpinionSettings, opinion_groups, stance_counts

from .analysis_comments import BARCELONA_POD, STANCE, barcelona, barcelona_rows, madrid

POD = "https://pod.example/"


def comment(ident: str, answers: str, stance: str | None = None, language: str = "es") -> Text:
    return Text(iri=f"{POD}comments/{ident}", kind="comments", member=POD, language=language, body="texto",
                in_reply_to=answers, stance=stance)


def proposal(ident: str) -> Text:
    return Text(iri=f"{POD}proposals/{ident}", kind="proposals", member=POD, language="es", title=ident)


def theme(key: str, *members: str) -> Theme:
    return Theme(key=key, terms=("x",), labels={"en": key}, members=members, platforms={})


# Stances


def test_stances_follow_reply_chains_up_to_the_proposal():
    p1, p2 = f"{POD}proposals/1", f"{POD}proposals/2"
    texts = (proposal("1"), proposal("2"), comment("a", p1, "inFavour"), comment("b", f"{POD}comments/a", "against"),
             comment("c", f"{POD}comments/b", "against"), comment("d", p2, "neutral"), comment("e", p2))
    result = stance_counts(Corpus(texts=texts))
    assert not isinstance(result, NotEnoughData)
    stances, run = result
    by_subject = {s.subject: s for s in stances}
    assert (by_subject[p1].in_favour, by_subject[p1].against, by_subject[p1].neutral) == (1, 2, 0)
    assert (by_subject[p2].in_favour, by_subject[p2].against, by_subject[p2].neutral) == (0, 0, 1)
    assert set(by_subject) == {p1, p2}  # replies are counted under the proposal, not under their parent comment
    assert run.method == "stance-count" and run.started <= run.ended


def test_a_comment_in_two_languages_counts_once():
    p1 = f"{POD}proposals/1"
    texts = (comment("a", p1, "inFavour", "ca"), comment("a", p1, "inFavour", "es"))
    stances, _ = stance_counts(Corpus(texts=texts))  # type: ignore[misc]
    assert stances[0].in_favour == 1


def test_theme_stances_add_up_their_members_threads():
    p1, p2, p3 = (f"{POD}proposals/{n}" for n in "123")
    texts = (comment("a", p1, "inFavour"), comment("b", p2, "against"), comment("c", p2, "inFavour"),
             comment("d", p3, "against"))
    result = stance_counts(Corpus(texts=texts), [theme("mobility", p1, p2), theme("quiet", "https://x.example/9")])
    assert not isinstance(result, NotEnoughData)
    by_subject = {s.subject: s for s in result[0]}
    assert (by_subject["mobility"].in_favour, by_subject["mobility"].against) == (2, 1)
    assert "quiet" not in by_subject  # no comment concerns it


def test_barcelona_stances_match_the_exports_alignments():
    rows = barcelona_rows()
    result = stance_counts(barcelona())
    assert not isinstance(result, NotEnoughData)
    stances, _ = result
    expected = Counter(STANCE[row["alignment"]] for row in rows)
    assert sum(s.in_favour for s in stances) == expected["inFavour"] == 5
    assert sum(s.against for s in stances) == expected["against"] == 6
    assert sum(s.neutral for s in stances) == expected["neutral"]
    # Replies to comments are counted under the result their thread answers, never under a comment.
    assert not any(s.subject.startswith(BARCELONA_POD) for s in stances)
    assert len(stances) == len({row["root_commentable_url"] for row in rows})


@pytest.mark.parametrize("texts", [(), (proposal("1"),), (comment("a", f"{POD}proposals/1"),)])
def test_no_stance_is_not_enough_data(texts):
    result = stance_counts(Corpus(texts=texts))
    assert isinstance(result, NotEnoughData) and result.step == "stances"


def test_madrid_has_no_stances():
    assert isinstance(stance_counts(madrid()), NotEnoughData)


# Opinion groups


def divided(per_group: int = 10) -> Corpus:
    """Two camps: the left supports l1..l4 and opposes r1..r4, the right the other way round; everyone supports
    "park", and only two people of the left camp support "fountain"."""
    reactions = []
    for camp, mine, theirs in (("left", "l", "r"), ("right", "r", "l")):
        for n in range(per_group):
            actor = f"{camp}-{n}"
            reactions += [Reaction(actor, f"{POD}proposals/{mine}{i}", 1) for i in range(1, 5)]
            reactions += [Reaction(actor, f"{POD}proposals/{theirs}{i}", -1) for i in range(1, 5)]
            reactions.append(Reaction(actor, f"{POD}proposals/park", 1))
    reactions += [Reaction("left-0", f"{POD}proposals/fountain", 1), Reaction("left-1", f"{POD}proposals/fountain", 1)]
    return Corpus(texts=(), reactions=tuple(reactions), snapshot={POD: 42})


def test_two_camps_are_found_with_the_statement_both_support_as_bridge():
    result = opinion_groups(divided())
    assert not isinstance(result, NotEnoughData)
    groups, bridges, run = result
    assert sorted(g.size for g in groups) == [10, 10]
    agreements = {frozenset(g.agrees_with) for g in groups}
    assert agreements == {frozenset(f"{POD}proposals/l{i}" for i in range(1, 5)),
                          frozenset(f"{POD}proposals/r{i}" for i in range(1, 5))}
    assert bridges == [Bridge(f"{POD}proposals/park", {g.key: 1.0 for g in groups})]
    assert run.method == "svd-kmeans" and run.snapshot == {POD: 42}
    assert run.parameters["groups"] == 2 and run.parameters["random_state"] == 0


def test_a_statement_one_camp_supports_is_no_bridge():
    groups, bridges, _ = opinion_groups(divided())  # type: ignore[misc]
    assert f"{POD}proposals/l1" not in {b.contribution for b in bridges}
    assert all(f"{POD}proposals/fountain" not in g.agrees_with for g in groups)  # two reactions: below the minimum


def test_groups_are_the_same_whatever_the_reactions_order():
    corpus = divided()
    first = opinion_groups(corpus)
    again = opinion_groups(Corpus(texts=(), reactions=tuple(reversed(corpus.reactions))))
    assert not isinstance(first, NotEnoughData) and not isinstance(again, NotEnoughData)
    assert first[:2] == again[:2]


def test_madrid_commenters_form_groups_with_the_thresholds_held():
    corpus = madrid()
    settings = OpinionSettings()
    result = opinion_groups(corpus, settings)
    assert not isinstance(result, NotEnoughData)
    groups, bridges, run = result
    per_actor = Counter(r.actor for r in set(corpus.reactions))
    assert sum(g.size for g in groups) == run.parameters["participants"]
    assert run.parameters["participants"] <= sum(1 for n in per_actor.values() if n >= settings.min_actor_reactions)
    assert 2 <= len(groups) <= settings.max_groups
    assert all(g.size >= settings.min_group_size for g in groups)
    assert [g.size for g in groups] == sorted((g.size for g in groups), reverse=True)
    proposals = {t.iri for t in corpus.texts if t.kind == "proposals"}
    assert any(g.agrees_with for g in groups)
    assert all(set(g.agrees_with) <= proposals for g in groups)
    assert all(min(b.agreement.values()) >= settings.bridge_share for b in bridges)
    assert opinion_groups(corpus, settings)[:2] == (groups, bridges)  # type: ignore[index]


def test_each_group_supports_its_agreements_more_than_the_rest_do():
    """Checked from the reactions themselves: the groups' members are those whose supports fit their group."""
    corpus = divided(per_group=12)
    groups, _, _ = opinion_groups(corpus)  # type: ignore[misc]
    supporters: dict[str, set[str]] = {}
    for r in corpus.reactions:
        if r.value > 0:
            supporters.setdefault(r.target, set()).add(r.actor)
    for group in groups:
        for iri in group.agrees_with:
            camp = {actor.split("-")[0] for actor in supporters[iri]}
            assert len(camp) == 1 and len(supporters[iri]) == group.size  # a camp's own proposals, all of it


def test_reply_loops_end():
    a, b = f"{POD}comments/a", f"{POD}comments/b"
    texts = (comment("a", b, "inFavour"), comment("b", a, "against"))
    result = stance_counts(Corpus(texts=texts))
    assert not isinstance(result, NotEnoughData)
    assert sum(s.in_favour + s.against for s in result[0]) == 2


def test_barcelona_has_too_few_reactions_for_groups():
    result = opinion_groups(barcelona())
    assert isinstance(result, NotEnoughData) and result.step == "opinion"
    assert "participants" in result.reason


@pytest.mark.parametrize("reactions", [
    (),
    tuple(Reaction(f"a{n}", f"{POD}proposals/1", 1) for n in range(50)),  # one contribution only
    tuple(Reaction(f"a{n}", f"{POD}proposals/{i}", 1) for n in range(5) for i in range(5)),  # five participants
])
def test_too_few_reactions_is_not_enough_data(reactions):
    result = opinion_groups(Corpus(texts=(), reactions=reactions))
    assert isinstance(result, NotEnoughData) and result.step == "opinion"


def test_everyone_reacting_alike_is_not_enough_data():
    reactions = tuple(Reaction(f"a{n}", f"{POD}proposals/{i}", 1) for n in range(30) for i in range(6))
    result = opinion_groups(Corpus(texts=(), reactions=reactions))
    assert isinstance(result, NotEnoughData) and "alike" in result.reason


def test_out_of_range_values_count_as_support_or_opposition():
    corpus = divided()
    scaled = Corpus(texts=(), reactions=tuple(Reaction(r.actor, r.target, r.value * 7) for r in corpus.reactions))
    assert opinion_groups(scaled)[:2] == opinion_groups(corpus)[:2]  # type: ignore[index]
