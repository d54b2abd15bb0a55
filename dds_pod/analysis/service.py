"""The node's analysis: read the corpus from the merged graph, analyse it, publish the result in the analysis graph.

One :class:`NodeAnalysis` per node keeps the :class:`~dds_pod.analysis.runner.Analyser` (so that a later run may
update the last one's themes and similar links instead of starting over) and is what ``dds-pod analyse``, the
background job and the HTTP layer use. The language model is asked only when ``[analysis.llm]`` enables it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..config import AnalysisConfig, LLMConfig
from ..federation.merged import MergedGraph
from . import Analysis
from .corpus import Pseudonyms, read_corpus
from .graph import load_analysis, publish

if TYPE_CHECKING:
    from .runner import Analyser


@dataclass(frozen=True)
class Outcome:
    """What one run did: its analysis, and how long reading, analysing and publishing took (seconds)."""

    analysis: Analysis
    contributions: int
    snapshot: Mapping[str, int]  # what the run read of each member's feed
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line per step: its count of results, or why it had not enough data; then the times."""
        a = self.analysis
        counts = {"languages": len(a.languages), "themes": len(a.themes), "similar": len(a.similar),
                  "stances": len(a.stances), "opinion": len(a.groups), "summaries": len(a.summaries)}
        missing = {item.step: item.reason for item in a.not_enough}
        lines = [f"analysed {self.contributions} contributions"]
        for step, count in counts.items():
            why = missing.get(step)
            lines.append(f"  {step}: {count}" + (f" (not enough data: {why})" if why and not count else ""))
        if a.bridges:
            lines.append(f"  bridges: {len(a.bridges)}")
        lines.append("  time: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.timings.items()))
        return "\n".join(lines)


class NodeAnalysis:
    """Runs the node's analysis (one run at a time) and reads back the published one."""

    def __init__(self, merged: MergedGraph, base_url: str, settings: AnalysisConfig, llm: LLMConfig,
                 pseudonyms: Callable[[], Pseudonyms]) -> None:
        self.merged, self.base_url, self.settings, self.llm = merged, base_url, settings, llm
        self._pseudonyms_of_node = pseudonyms  # called at the first run: a node that never analyses keeps no key
        self._pseudonyms: Pseudonyms | None = None
        self._analyser: Analyser | None = None  # made at the first run: serving needs none of its libraries
        self._running = threading.Lock()

    def run(self) -> Outcome:
        """Read, analyse, publish; a second caller waits for the first to finish."""
        from .llm import ChatClient  # the numerical libraries load with the first run, not with the node
        from .runner import Analyser

        with self._running:
            self._analyser = self._analyser or Analyser()
            self._pseudonyms = self._pseudonyms or self._pseudonyms_of_node()
            timings: dict[str, float] = {}
            started = time.perf_counter()
            corpus = read_corpus(self.merged, self._pseudonyms, max_chars=self.settings.max_text_chars)
            timings["read"] = time.perf_counter() - started
            client = ChatClient(self.llm) if self.llm.enabled else None
            try:
                started = time.perf_counter()
                analysis = self._analyser.analyse(corpus, client)
                timings["analyse"] = time.perf_counter() - started
            finally:
                if client is not None:
                    client.close()
            started = time.perf_counter()
            publish(self.merged.store, analysis, self.base_url)
            timings["publish"] = time.perf_counter() - started
            return Outcome(analysis, len({text.iri for text in corpus.texts}), dict(corpus.snapshot), timings)

    def published(self) -> Analysis | None:
        """The last published analysis (of any process of the node), None before the first."""
        return load_analysis(self.merged.store, self.base_url)
