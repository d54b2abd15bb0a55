"""Every step of the analysis, in order, on one corpus: languages, themes, similar contributions, stances, opinion
groups and bridges, summaries; the optional language model names themes and writes summaries after the offline
steps, and whatever it fails at keeps the offline result.

A step that cannot run records a :class:`NotEnoughData` (why) and the others go on: the runner never raises for
its input. The steps are seeded, so the same corpus gives the same results (only the runs' times differ).

An :class:`Analyser` keeps the last full run's theme model and similarity index in the process: when few
contributions changed since, they are placed into the existing themes and compared with the rest
(``themes.place``, ``similar.update_similar``), in seconds, instead of a full run; themes then keep their terms
and labels until the next full run, which comes when many changed or the process starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from . import Analysis, Corpus, NotEnoughData, Run, Similar, Summary, Text, language, llm, opinion, runs
from . import similar as similar_step
from . import summaries as summaries_step
from . import themes as themes_step
from .opinion import OpinionSettings
from .runs import (
    STEP_LANGUAGES,
    STEP_LLM_SUMMARIES,
    STEP_LLM_THEMES,
    STEP_OPINION,
    STEP_SIMILAR,
    STEP_STANCES,
    STEP_SUMMARIES,
    STEP_THEMES,
)
from .similar import SimilarIndex
from .summaries import SummarySettings
from .themes import ThemeModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """What the steps are given; each value they use is recorded in their run."""

    opinion: OpinionSettings = field(default_factory=OpinionSettings)
    summaries: SummarySettings = field(default_factory=SummarySettings)
    # An update is incremental when at most this many contributions changed, and this share of them.
    incremental_max: int = 500
    incremental_share: float = 0.1


def analyse(corpus: Corpus, settings: RunSettings | None = None, llm_client: llm.ChatClient | None = None
            ) -> Analysis:
    """A full analysis of the corpus."""
    return Analyser(settings).analyse(corpus, llm_client)


@dataclass
class _Previous:
    """What the last run kept to update instead of starting over."""

    texts: dict[tuple[str, str], Text]
    model: ThemeModel
    index: SimilarIndex
    similar: list[Similar]
    runs: dict[str, Run]


class Analyser:
    """Runs the analysis, incrementally when it can (see the module's docstring). One per process and node; not
    to be called from two threads at once."""

    def __init__(self, settings: RunSettings | None = None, pause: Callable[[], None] = lambda: time.sleep(0)) -> None:
        self.settings = settings or RunSettings()
        self._previous: _Previous | None = None
        self._pause = pause  # between steps: lets the serving threads take the interpreter

    def analyse(self, corpus: Corpus, llm_client: llm.ChatClient | None = None) -> Analysis:
        result = Analysis()
        detected = self._step(result, STEP_LANGUAGES, lambda: language.detect_languages(corpus))
        if detected is not None:
            result.languages, result.runs[STEP_LANGUAGES] = detected
        corpus = language.tagged(corpus, result.languages)
        changed = self._changes(corpus)
        if changed is not None:
            self._update(result, corpus, *changed)
        else:
            self._full(result, corpus)
        self._opinion(result, corpus)
        self._summaries(result, corpus, llm_client)
        return result

    def _step(self, result: Analysis, step: str, compute: Callable[[], object]):
        """The step's results, or None when it had not enough data (recorded) or failed (logged, recorded)."""
        self._pause()
        try:
            found = compute()
        except Exception as exc:  # a step's failure must not cost the other steps their results
            log.exception("the analysis step %s failed", step)
            found = NotEnoughData(step, f"the step failed: {type(exc).__name__}")
        if isinstance(found, NotEnoughData):
            result.not_enough.append(found)
            return None
        return found

    # ------------------------------------------------------------------ themes and similar: full or incremental

    def _full(self, result: Analysis, corpus: Corpus) -> None:
        self._previous = None
        themed = self._step(result, STEP_THEMES, lambda: themes_step.find_themes(corpus))
        if themed is not None:
            result.themes, result.runs[STEP_THEMES] = themed.themes, themed.run
        near = self._step(result, STEP_SIMILAR, lambda: similar_step.find_similar(corpus))
        if near is not None:
            result.similar, result.runs[STEP_SIMILAR] = near.similar, near.run
        if themed is not None and near is not None:
            self._previous = _Previous(_keyed(corpus.texts), themed.model, near.index, near.similar,
                                       dict(result.runs))

    def _changes(self, corpus: Corpus) -> tuple[list[Text], set[str]] | None:
        """The changed texts and removed contributions since the last full run, None when a full run is due."""
        previous = self._previous
        if previous is None:
            return None
        current = _keyed(corpus.texts)
        changed_iris = {key[0] for key, text in current.items() if previous.texts.get(key) != text}
        changed_iris |= {key[0] for key in previous.texts if key not in current}
        present = {key[0] for key in current}
        removed = {iri for iri in changed_iris if iri not in present}
        limit = min(self.settings.incremental_max, self.settings.incremental_share * max(len(present), 1))
        if len(changed_iris) > limit:
            return None
        return [text for key, text in current.items() if key[0] in changed_iris], removed

    def _update(self, result: Analysis, corpus: Corpus, changed: list[Text], removed: set[str]) -> None:
        previous = self._previous
        assert previous is not None  # _changes found one
        touched = {text.iri for text in changed} | removed
        started = runs.now()
        placed = self._step(result, STEP_THEMES, lambda: themes_step.place(previous.model, changed, removed))
        if placed is not None:
            result.themes = placed
            result.runs[STEP_THEMES] = _updated(previous.runs[STEP_THEMES], corpus, started, len(touched))
        started = runs.now()
        fresh = self._step(result, STEP_SIMILAR,
                           lambda: similar_step.update_similar(previous.index, changed, removed))
        if fresh is not None:
            kept = [link for link in previous.similar if link.source not in touched and link.target not in touched]
            previous.similar = sorted(kept + fresh, key=lambda link: (link.source, -link.score, link.target))
            result.similar = previous.similar
            result.runs[STEP_SIMILAR] = _updated(previous.runs[STEP_SIMILAR], corpus, started, len(touched))
        if placed is None or fresh is None:  # the kept state is no longer trusted: start over next time
            self._previous = None
            return
        previous.texts = _keyed(corpus.texts)

    # ------------------------------------------------------------------ opinion and summaries

    def _opinion(self, result: Analysis, corpus: Corpus) -> None:
        counted = self._step(result, STEP_STANCES, lambda: opinion.stance_counts(corpus, result.themes))
        if counted is not None:
            result.stances, result.runs[STEP_STANCES] = counted
        grouped = self._step(result, STEP_OPINION, lambda: opinion.opinion_groups(corpus, self.settings.opinion))
        if grouped is not None:
            result.groups, result.bridges, result.runs[STEP_OPINION] = grouped

    def _summaries(self, result: Analysis, corpus: Corpus, client: llm.ChatClient | None) -> None:
        if client is not None:
            named = self._step(result, STEP_LLM_THEMES, lambda: llm.name_themes(result.themes, corpus, client))
            if named is not None:
                result.themes, result.runs[STEP_LLM_THEMES] = named
        found = self._step(result, STEP_SUMMARIES, lambda: summaries_step.summarise(
            corpus, result.themes, result.languages, self.settings.summaries))
        if found is not None:
            result.summaries, result.runs[STEP_SUMMARIES] = found
        if client is None:
            return
        sets = summaries_step.passage_sets(corpus, result.themes, result.languages, self.settings.summaries)
        written = self._step(result, STEP_LLM_SUMMARIES, lambda: llm.summarise(sets, corpus, client))
        if written is not None:
            result.summaries = _preferring(written[0], result.summaries)
            result.runs[STEP_LLM_SUMMARIES] = written[1]


def _keyed(texts: Sequence[Text]) -> dict[tuple[str, str], Text]:
    return {(text.iri, text.language): text for text in texts}


def _updated(full: Run, corpus: Corpus, started: str, changed: int) -> Run:
    """The run of an incremental update: the full run's method and parameters, what changed, the new snapshot."""
    parameters = {**full.parameters, "incremental": True, "changed_contributions": changed,
                  "full_run_started": full.started}
    return replace(full, parameters=parameters, snapshot=dict(corpus.snapshot), started=started, ended=runs.now())


def _preferring(abstractive: list[Summary], extractive: list[Summary]) -> list[Summary]:
    """The extractive summaries, each replaced by the model's summary of the same subject and language if any."""
    written = {(summary.subject, summary.language): summary for summary in abstractive}
    kept = [written.pop((s.subject, s.language), s) for s in extractive]
    return kept + list(written.values())

