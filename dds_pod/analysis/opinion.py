"""Opinion: how comments lean on each proposal and theme, and which groups of participants react alike.

Two readings of the corpus. The *stances* count the comments' own stance (Decidim's alignment: in favour,
against, neutral) per contribution their thread answers, and per theme over its members. The *opinion groups*
follow the Polis and Community Notes idea on individual reactions (supports, likes, stances): participants are
placed by how they reacted (a sparse participant × contribution matrix reduced by truncated SVD), grouped by
k-means (k chosen by the silhouette), and each group is described by the contributions it supports more than the
others; a contribution a high share of *every* group supports is a *bridge*, a point of agreement across the
divide. Groups need enough participants who reacted to enough contributions, else the step says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import silhouette_score

from . import Bridge, Corpus, NotEnoughData, OpinionGroup, Reaction, Run, Stances, Text, Theme, runs, threads

STANCE_FIELDS = {"inFavour": "in_favour", "against": "against", "neutral": "neutral"}
SEED = 0
SILHOUETTE_SAMPLE = 2000  # the silhouette is quadratic in participants: scored on a seeded sample beyond this


@dataclass(frozen=True)
class OpinionSettings:
    """The thresholds and sizes of the opinion groups; every one is recorded in the run."""

    min_actors: int = 10  # participants with at least min_actor_reactions reactions
    min_actor_reactions: int = 3
    min_target_reactions: int = 3  # a contribution fewer eligible participants reacted to is left out
    min_group_size: int = 3  # a smaller cluster is not a group
    max_groups: int = 5
    components: int = 2  # dimensions of the reduced space, as Polis
    min_support: int = 3  # reactions in the group a contribution needs to be among its agreements
    agree_margin: float = 0.2  # how much more the group supports it than the other participants do
    bridge_share: float = 0.5  # the least share of every group that supports a bridge
    max_statements: int = 10  # agreements per group, bridges in all
    max_reactions: int = 2_000_000  # read at most this many reactions (the node faces anonymous data)


def stance_counts(corpus: Corpus, themes: Sequence[Theme] = ()) -> tuple[list[Stances], Run] | NotEnoughData:
    """The comments' stances per contribution their thread answers (sorted by IRI), then per theme (in the given
    order, over the comments that are its members or answer one); ``NotEnoughData`` when no comment carries a
    stance. A theme no stance-bearing comment concerns gets no count."""
    started = runs.now()
    stances = _comment_stances(corpus.texts)
    if not stances:
        return NotEnoughData("stances", "no comment carries a stance (in favour, against, neutral)")
    root_of = threads.roots(corpus.texts)
    per_subject: dict[str, Counter[str]] = defaultdict(Counter)
    for comment, stance in stances.items():
        per_subject[root_of.get(comment, comment)][stance] += 1
    results = [_stances(subject, per_subject[subject]) for subject in sorted(per_subject)]
    for theme in themes:
        members = set(theme.members)
        total = Counter(stance for comment, stance in stances.items()
                        if comment in members or root_of.get(comment) in members)
        if total:
            results.append(_stances(theme.key, total))
    run = runs.finish("stance-count", {"themes": len(themes), "follows_reply_chains": True}, corpus, started)
    return results, run


def opinion_groups(corpus: Corpus, settings: OpinionSettings | None = None
                   ) -> tuple[list[OpinionGroup], list[Bridge], Run] | NotEnoughData:
    """Opinion groups and bridging contributions from the individual reactions, deterministic for the same
    corpus; ``NotEnoughData`` when too few participants reacted to enough contributions, or all alike."""
    settings = settings or OpinionSettings()
    started = runs.now()
    matrix = _Matrix.build(corpus.reactions[:settings.max_reactions], settings)
    if isinstance(matrix, NotEnoughData):
        return matrix
    labels = _cluster(matrix.values, settings)
    if labels is None:
        return NotEnoughData("opinion", "the participants reacted too much alike to form distinct groups")
    groups, bridges = _describe(matrix, labels, settings)
    run = runs.finish("svd-kmeans", _parameters(settings, matrix, len(groups)), corpus, started,
                      ("scikit-learn", "numpy"))
    return groups, bridges, run


def _comment_stances(texts: Sequence[Text]) -> dict[str, str]:
    """Comment IRI -> its stance; a comment given in several languages counts once."""
    return {t.iri: t.stance for t in texts if t.kind == threads.COMMENTS and t.stance in STANCE_FIELDS}


def _stances(subject: str, counts: Counter[str]) -> Stances:
    return Stances(subject=subject, **{STANCE_FIELDS[stance]: n for stance, n in counts.items()})


@dataclass(frozen=True)
class _Matrix:
    """The participants × contributions reaction matrix, kept to those with enough reactions."""

    actors: tuple[str, ...]
    targets: tuple[str, ...]
    values: sparse.csr_matrix  # +1 support or agreement, -1 against, 0 neutral or no reaction

    @classmethod
    def build(cls, reactions: Sequence[Reaction], settings: OpinionSettings) -> _Matrix | NotEnoughData:
        latest = {(r.actor, r.target): max(-1, min(1, r.value)) for r in reactions}  # the last reaction counts
        for _ in range(3):  # dropping rare contributions can leave participants below the minimum, and back
            by_actor = Counter(actor for actor, _ in latest)
            latest = {k: v for k, v in latest.items() if by_actor[k[0]] >= settings.min_actor_reactions}
            by_target = Counter(target for _, target in latest)
            latest = {k: v for k, v in latest.items() if by_target[k[1]] >= settings.min_target_reactions}
        actors = tuple(sorted({actor for actor, _ in latest}))
        targets = tuple(sorted({target for _, target in latest}))
        if len(actors) < settings.min_actors or len(targets) < 2:
            return NotEnoughData("opinion", f"{len(actors)} participants reacted to {settings.min_actor_reactions} "
                                 f"or more contributions (each with {settings.min_target_reactions} or more "
                                 f"reactions); opinion groups need {settings.min_actors}")
        row = {a: i for i, a in enumerate(actors)}
        column = {t: j for j, t in enumerate(targets)}
        keys = sorted(latest)
        values = sparse.csr_matrix(([float(latest[k]) for k in keys],
                                    ([row[a] for a, _ in keys], [column[t] for _, t in keys])),
                                   shape=(len(actors), len(targets)))
        values.eliminate_zeros()  # a neutral reaction places a participant as no reaction does
        return cls(actors, targets, values)


def _cluster(values: sparse.csr_matrix, settings: OpinionSettings) -> np.ndarray | None:
    """Group labels (0 for the largest group) per participant, or ``None`` when no split is worth making."""
    n_actors, n_targets = values.shape
    distinct = len({(tuple(row.indices), tuple(row.data)) for row in values})
    if distinct < 2:
        return None
    components = max(1, min(settings.components, n_targets - 1))
    points = TruncatedSVD(n_components=components, random_state=SEED).fit_transform(values)
    best: tuple[float, np.ndarray] | None = None
    for k in range(2, min(settings.max_groups, n_actors // settings.min_group_size, distinct) + 1):
        labels = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit_predict(points)
        if min(np.bincount(labels, minlength=k)) < settings.min_group_size or len(set(labels)) < 2:
            continue
        score = float(silhouette_score(points, labels, sample_size=min(len(points), SILHOUETTE_SAMPLE),
                                       random_state=SEED))
        if best is None or score > best[0] + 1e-9:
            best = (score, labels)
    return None if best is None else _relabel(best[1])


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Number the groups by size, largest first (ties by their first participant), whatever k-means called them."""
    sizes = Counter(labels.tolist())
    first = {label: int(np.argmax(labels == label)) for label in sizes}
    order = sorted(sizes, key=lambda label: (-sizes[label], first[label]))
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping[label] for label in labels.tolist()])


def _describe(matrix: _Matrix, labels: np.ndarray, settings: OpinionSettings
              ) -> tuple[list[OpinionGroup], list[Bridge]]:
    """Each group's agreements and the bridges: shares of each group's members who support each contribution."""
    supports = (matrix.values > 0).astype(np.float64).tocsc()
    n_groups = int(labels.max()) + 1
    members = [labels == g for g in range(n_groups)]
    counts = np.vstack([np.asarray(supports[m].sum(axis=0)).ravel() for m in members])  # groups × targets
    sizes = np.array([m.sum() for m in members], dtype=np.float64)
    shares = counts / sizes[:, None]
    keys = [f"group-{g + 1}" for g in range(n_groups)]
    groups = [OpinionGroup(key=keys[g], size=int(sizes[g]),
                           agrees_with=_agreements(matrix.targets, counts, sizes, g, settings))
              for g in range(n_groups)]
    return groups, _bridges(matrix.targets, counts, shares, keys, settings)


def _agreements(targets: tuple[str, ...], counts: np.ndarray, sizes: np.ndarray, group: int,
                settings: OpinionSettings) -> tuple[str, ...]:
    others = (counts.sum(axis=0) - counts[group]) / max(1.0, sizes.sum() - sizes[group])
    margin = counts[group] / sizes[group] - others
    chosen = [j for j in range(len(targets))
              if counts[group, j] >= settings.min_support and margin[j] >= settings.agree_margin]
    chosen.sort(key=lambda j: (-round(float(margin[j]), 9), targets[j]))
    return tuple(targets[j] for j in chosen[:settings.max_statements])


def _bridges(targets: tuple[str, ...], counts: np.ndarray, shares: np.ndarray, keys: list[str],
             settings: OpinionSettings) -> list[Bridge]:
    least = shares.min(axis=0)
    chosen = [j for j in range(len(targets))
              if least[j] >= settings.bridge_share and counts[:, j].sum() >= settings.min_support]
    chosen.sort(key=lambda j: (-round(float(least[j]), 9), targets[j]))
    return [Bridge(contribution=targets[j],
                   agreement={key: round(float(shares[g, j]), 4) for g, key in enumerate(keys)})
            for j in chosen[:settings.max_statements]]


def _parameters(settings: OpinionSettings, matrix: _Matrix, groups: int) -> dict[str, int | float | bool | str]:
    parameters: dict[str, int | float | bool | str] = dict(asdict(settings))
    parameters.update(participants=len(matrix.actors), contributions=len(matrix.targets), groups=groups,
                      random_state=SEED, selection="silhouette")
    return parameters
