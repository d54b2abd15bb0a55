"""The :class:`~dds_pod.analysis.Run` of a step: what a reader needs to see how a result was made and remake it.

Each step notes when it starts and, once it has its results, closes its run with the method, the parameters it
used, the versions of the software that computed it and the corpus snapshot it read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata

from . import Corpus, Run

# The steps, by the name each records its run and its NotEnoughData under (Analysis.runs is keyed by them).
STEP_LANGUAGES, STEP_THEMES, STEP_SIMILAR, STEP_STANCES = "languages", "themes", "similar", "stances"
STEP_OPINION, STEP_SUMMARIES = "opinion", "summaries"
STEP_LLM_THEMES, STEP_LLM_SUMMARIES = "llm-themes", "llm-summaries"


def now() -> str:
    """The current time, ISO 8601 in UTC to the second: the form runs record."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def software(libraries: Iterable[str] = ()) -> str:
    """``"dds-pod 0.1.0; scikit-learn 1.5.0"``: the node's version, then each library's that shaped the result."""
    names = ["dds-pod", *libraries]
    return "; ".join(f"{name} {_version(name)}" for name in names)


def finish(method: str, parameters: Mapping[str, str | int | float | bool], corpus: Corpus, started: str,
           libraries: Iterable[str] = ()) -> Run:
    """The run of a step that began at ``started`` and ends now."""
    return Run(method=method, parameters=dict(parameters), software=software(libraries),
               snapshot=dict(corpus.snapshot), started=started, ended=now())


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
