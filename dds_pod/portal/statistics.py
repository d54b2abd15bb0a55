"""The federation's statistics: contributions over time, how far proposals got, how comments lean — per platform.

Computed from the merged graph (its queries are :class:`~dds_pod.federation.merged.MergedGraph`'s), once per
version of it; the web layer draws them as charts.

The status funnel counts, for each stage, the proposals (and budget projects) that reached it: a proposal in
progress has been submitted, evaluated and accepted. A rejected or not selected one reached the evaluation, a
withdrawn one was only submitted. A proposal states only its current status, so this is what the data allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..federation.merged import MergedGraph

STAGES = ("submitted", "evaluating", "accepted", "inProgress", "implemented")
"""The funnel's stages, in order."""
REACHED = {"submitted": 1, "withdrawn": 1, "evaluating": 2, "rejected": 2, "notSelected": 2, "accepted": 3,
           "selected": 3, "inProgress": 4, "implemented": 5}
"""How many of the funnel's stages a proposal in each status has passed through."""
STANCES = ("inFavour", "against", "neutral")
MAX_MONTHS = 120
"""Months on the time axis at most: the latest ones, so a stray date in year 1 cannot make it endless."""


@dataclass(frozen=True)
class Platform:
    iri: str
    name: str


@dataclass(frozen=True)
class Statistics:
    """What the charts show; every mapping is keyed by platform IRI first."""

    platforms: tuple[Platform, ...]
    months: tuple[str, ...]
    monthly: Mapping[str, Mapping[str, int]]
    funnel: Mapping[str, Mapping[str, int]]
    stances: Mapping[str, Mapping[str, int]]

    @property
    def empty(self) -> bool:
        return not self.platforms


def compute(merged: MergedGraph) -> Statistics:
    """The statistics of the merged graph as it is now."""
    monthly = _nested(merged.contributions_per_month())
    funnel = _funnel(_nested(merged.status_counts()))
    stances = {platform: {stance: counts.get(stance, 0) for stance in STANCES}
               for platform, counts in _nested(merged.stance_counts()).items()
               if any(counts.get(stance) for stance in STANCES)}
    names = merged.platform_names()
    seen = set(monthly) | set(funnel) | set(stances)
    platforms = tuple(sorted((Platform(iri, names.get(iri) or _host(iri)) for iri in seen),
                             key=lambda platform: (platform.name.lower(), platform.iri)))
    months = month_range(month for counts in monthly.values() for month in counts)
    return Statistics(platforms, months, monthly, funnel, stances)


def _nested(rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for platform, key, count in rows:
        nested.setdefault(platform, {})[key] = nested.get(platform, {}).get(key, 0) + count
    return nested


def _funnel(statuses: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """Per platform, the proposals that reached each stage; statuses outside the scheme count as submitted."""
    funnel = {}
    for platform, counts in statuses.items():
        reached = dict.fromkeys(STAGES, 0)
        for status, count in counts.items():
            for stage in STAGES[:REACHED.get(status, 1)]:
                reached[stage] += count
        funnel[platform] = reached
    return funnel


def month_range(months: Iterable[str]) -> tuple[str, ...]:
    """Every month from the first to the last of ``months`` (``YYYY-MM``; others are ignored), gaps included,
    at most the latest MAX_MONTHS."""
    valid = sorted({m for m in months if len(m) == 7 and m[4] == "-" and m[:4].isdigit() and m[5:].isdigit()
                    and 1 <= int(m[5:]) <= 12})
    if not valid:
        return ()
    last_year, last_month = int(valid[-1][:4]), int(valid[-1][5:])
    first = max(int(valid[0][:4]) * 12 + int(valid[0][5:]) - 1, last_year * 12 + last_month - MAX_MONTHS)
    end = last_year * 12 + last_month - 1
    return tuple(f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(first, end + 1))


def _host(iri: str) -> str:
    return urlsplit(iri).hostname or iri
