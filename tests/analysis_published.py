"""The analysis the node would publish of a corpus, step by step, with the real computations: for the tests of
the pages that show it."""

from __future__ import annotations

from dds_pod.analysis import Analysis, Corpus, NotEnoughData
from dds_pod.analysis.opinion import opinion_groups, stance_counts
from dds_pod.analysis.similar import find_similar
from dds_pod.analysis.summaries import summarise
from dds_pod.analysis.themes import find_themes


def analysed(data: Corpus, n_themes: int) -> Analysis:
    """Every step on ``data``; a step without enough data is recorded as such, as the node records it."""
    analysis = Analysis()
    themes = find_themes(data, n_themes=n_themes)
    if isinstance(themes, NotEnoughData):
        analysis.not_enough.append(themes)
    else:
        analysis.themes, analysis.runs["themes"] = themes.themes, themes.run
    similar = find_similar(data, method="char")
    if isinstance(similar, NotEnoughData):
        analysis.not_enough.append(similar)
    else:
        analysis.similar, analysis.runs["similar"] = similar.similar, similar.run
    for step, found in (("stances", stance_counts(data, analysis.themes)),
                        ("summaries", summarise(data, analysis.themes))):
        if isinstance(found, NotEnoughData):
            analysis.not_enough.append(found)
        elif step == "stances":
            analysis.stances, analysis.runs[step] = found
        else:
            analysis.summaries, analysis.runs[step] = found
    groups = opinion_groups(data)
    if isinstance(groups, NotEnoughData):
        analysis.not_enough.append(groups)
    else:
        analysis.groups, analysis.bridges, analysis.runs["opinion"] = groups
    return analysis
