"""Explore's theme facet at scale: the analysis's themes counted and filtered on through the search index.

The search benchmark's synthetic contributions (100 000 by default, ``--documents``), each put in one of 40 themes
(``--themes``) as the theme step assigns them. Measured, p50 / p95 of ``search`` with every facet count:

1. without the theme facet (what Explore costs without an analysis: the baseline);
2. with it, *cold*: the first search after a write, when the themes' members are turned into bitsets of the
   index's document ids again (once per state of the index and version of the analysis);
3. with it, *again* (the bitsets kept), with and without a theme chosen, with words;
4. the SQL path of the map (``facets=False``), one theme chosen: its members given to SQLite as a JSON list;
5. the portal's lookups of one analysis (themes by member, similar links by source, ...), built once per analysis.

    .venv/bin/python -m benchmarks.theme_facet [--documents 100000] [--themes 40] [--rounds 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.search import CIVIC_WORDS, _changed, _document, _percentiles, _timed, _vocabulary
from dds_pod.analysis import Analysis, Similar, Theme
from dds_pod.portal.analysis import Lookup
from dds_pod.search import SearchQuery
from dds_pod.search.sqlite import SqliteIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--themes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    vocabularies = {language: _vocabulary(words.split()) for language, words in CIVIC_WORDS.items()}
    documents = [_document(i, rng, vocabularies) for i in range(args.documents)]
    keys = [f"theme-{n:02d}" for n in range(args.themes)]
    members: dict[str, list[str]] = {key: [] for key in keys}
    for document in documents:
        members[rng.choice(keys)].append(document.iri)
    analysis = Analysis(
        themes=[Theme(key, ("x",), {"en": key}, tuple(iris), {}) for key, iris in members.items()],
        similar=[Similar(document.iri, rng.choice(documents).iri, 0.5) for document in documents for _ in range(5)])
    seconds = _timed(lambda: Lookup(analysis))
    lookup = Lookup(analysis)
    print(f"{len(documents)} documents in {args.themes} themes, {len(analysis.similar)} similar links")
    print(f"portal lookups of the analysis (themes by member, similar by source, the grouping): {seconds * 1000:.0f} ms"
          " once per analysis")
    grouping = lookup.grouping
    with tempfile.TemporaryDirectory() as directory:
        index = SqliteIndex(str(Path(directory) / "search.sqlite3"))
        index.replace(documents)
        index.search(SearchQuery())
        print(f"\nsearch + every facet count, {args.rounds} rounds (p50 / p95 ms)")
        write = lambda: index.upsert(_changed(documents, 0, rng)[:1])  # noqa: E731
        baseline = _percentiles(lambda: index.search(SearchQuery()), args.rounds, before=write)
        _row("no theme facet, first after a write (baseline)", baseline)
        cold = _percentiles(lambda: index.search(SearchQuery(grouping=grouping)), args.rounds, before=write)
        _row("theme facet, first after a write", cold)
        again = _percentiles(lambda: index.search(SearchQuery(grouping=grouping)), args.rounds)
        warm_baseline = _percentiles(lambda: index.search(SearchQuery()), args.rounds)
        _row("no theme facet, again (baseline)", warm_baseline)
        _row("theme facet, again", again)
        chosen = SearchQuery(grouping=grouping, groups=frozenset({keys[0]}))
        _row("one theme chosen, again", _percentiles(lambda: index.search(chosen), args.rounds))
        worded = SearchQuery(text="cyclables", grouping=grouping, groups=frozenset({keys[0]}))
        _row("a word + one theme chosen, again", _percentiles(lambda: index.search(worded), args.rounds))
        mapped = SearchQuery(grouping=grouping, groups=frozenset({keys[0]}), limit=1000)
        _row("map path (no facets), one theme chosen", _percentiles(lambda: index.search(mapped, facets=False),
                                                                     args.rounds))
        print(f"\nratios: theme facet / baseline, first after a write {cold[0] / baseline[0]:.2f}; "
              f"again {again[0] / warm_baseline[0]:.2f}")
        index.close()


def _row(name: str, figures: tuple[float, float]) -> None:
    print(f"  {name:<50} {figures[0]:7.1f} / {figures[1]:7.1f}")


if __name__ == "__main__":
    main()
