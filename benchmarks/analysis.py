"""The offline analysis measured: quality on real data with known answers, and cost at scale.

Quality, on the 220 budget projects of Barcelona's open data (each with a Catalan and a Spanish text and the
city's own category among 24):

1. theme agreement with the city's categories (normalised mutual information and adjusted Rand index) with the
   number of themes of the rule (10) and with 24, for the themes read through the Apertium pivot, stemmed in each
   language, and a plain baseline (scikit-learn's default word TF-IDF over the raw texts, the same NMF);
2. cross-language retrieval: of each project's Catalan text, how often its Spanish text is the nearest of the
   220 Spanish texts (recall@1) and among the five nearest (recall@5), through the pivot, by character n-grams,
   by stems, and by the plain baseline.

Cost, on N built contributions (``--size``, 100 000 by default): each is two to five sentences of the real
projects of one category, in Catalan or Spanish (half untagged, for the language step), on one of four
platforms. The full analysis (languages, themes, similar contributions by character n-grams) is timed step by
step with the peak memory of the process, then an incremental update after 100 changed contributions (placing
them into the themes and comparing them with the rest).

    .venv/bin/python -m benchmarks.analysis [--size 100000] [--no-quality] [--no-cost]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.analysis import Corpus, Text  # noqa: E402
from dds_pod.analysis.language import detect_languages, tagged  # noqa: E402
from dds_pod.analysis.similar import SimilarResult, find_similar, nearest, update_similar, vectorise  # noqa: E402
from dds_pod.analysis.themes import ThemesResult, find_themes, place  # noqa: E402
from dds_pod.analysis.translate import mode  # noqa: E402
from dds_pod.analysis.vectors import document  # noqa: E402
from tests.analysis_data import barcelona, categories  # noqa: E402

PLATFORMS = [f"https://platform-{n}.example/" for n in range(4)]
CHANGES = 100
SEED = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-cost", action="store_true")
    arguments = parser.parse_args()
    if not arguments.no_quality:
        quality()
    if not arguments.no_cost:
        cost(arguments.size)


def quality() -> None:
    apertium = mode("ca", "es") is not None
    print(f"## Quality on Barcelona's 220 budget projects (Apertium ca-es: {'yes' if apertium else 'absent'})\n")
    print("| themes read | themes | NMI | adjusted Rand |\n|---|---:|---:|---:|")
    corpus = barcelona()
    ways: list[tuple[str, bool | None]] = [("each language's stems", False)]
    if apertium:
        ways.insert(0, ("through the Apertium pivot (es)", True))
    for count in (None, 24):
        for name, translate in ways:
            found = find_themes(corpus, n_themes=count, translate=translate)
            assert isinstance(found, ThemesResult)
            print(_agreement(name, {iri: theme.key for theme in found.themes for iri in theme.members}))
        print(_agreement("plain word TF-IDF baseline", _baseline_themes(corpus, count or 10)))
    print("\n| cross-language retrieval (ca → es) | recall@1 | recall@5 | seconds |\n|---|---:|---:|---:|")
    texts = sorted(corpus.texts, key=lambda text: (text.iri, text.language))
    methods = [("Apertium pivot, stems", "pivot")] if apertium else []
    methods += [("character 3-5-grams", "char"), ("stems, no translation", "word")]
    for name, method in methods:
        started = time.perf_counter()
        _, matrix = vectorise(texts, method)
        print(_recall(name, texts, matrix, time.perf_counter() - started))
    started = time.perf_counter()
    plain = sparse.csr_matrix(TfidfVectorizer().fit_transform([document(text) for text in texts]))
    print(_recall("plain word TF-IDF baseline", texts, plain, time.perf_counter() - started))
    print()


def _agreement(name: str, assignment: dict[str, str]) -> str:
    known = categories()
    iris = sorted(assignment)
    truth, found = [known[iri] for iri in iris], [assignment[iri] for iri in iris]
    return (f"| {name} | {len(set(found))} | {normalized_mutual_info_score(truth, found):.3f} "
            f"| {adjusted_rand_score(truth, found):.3f} |")


def _baseline_themes(corpus: Corpus, count: int) -> dict[str, str]:
    joined: dict[str, list[str]] = defaultdict(list)
    for text in corpus.texts:
        joined[text.iri].append(document(text))
    iris = sorted(joined)
    matrix = TfidfVectorizer().fit_transform(["\n".join(joined[iri]) for iri in iris])
    weights = NMF(n_components=count, init="nndsvda", random_state=0, max_iter=300).fit_transform(matrix)
    return {iri: str(weights[row].argmax()) for row, iri in enumerate(iris)}


def _recall(name: str, texts: list[Text], matrix: sparse.csr_matrix, seconds: float) -> str:
    catalan = [row for row, text in enumerate(texts) if text.language == "ca"]
    spanish = [row for row, text in enumerate(texts) if text.language == "es"]
    column = {texts[row].iri: position for position, row in enumerate(spanish)}
    found, _ = nearest(matrix[catalan], matrix[spanish], 5)
    wanted = np.array([column[texts[row].iri] for row in catalan])
    at_1, at_5 = (found[:, 0] == wanted).mean(), (found == wanted[:, None]).any(axis=1).mean()
    return f"| {name} | {at_1:.3f} | {at_5:.3f} | {seconds:.1f} |"


def built(size: int) -> Corpus:
    """``size`` contributions recombined from the real projects' sentences, each from one category."""
    sentences: dict[tuple[str, str], list[str]] = defaultdict(list)
    for text in barcelona().texts:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", f"{text.title}. {text.body}"):
            if len(sentence) > 20:
                sentences[(text.topics[0], text.language)].append(sentence)
    keys = sorted(key for key, found in sentences.items() if len(found) >= 3)
    chance = random.Random(SEED)
    texts = []
    for n in range(size):
        topic, language = keys[chance.randrange(len(keys))]
        body = " ".join(chance.sample(sentences[(topic, language)], min(len(sentences[(topic, language)]),
                                                                          chance.randint(2, 5))))
        texts.append(Text(iri=f"https://{n % 4}.example/c/{n}", kind="proposals", member=PLATFORMS[n % 4],
                          language=language if n % 2 else "", title=body[:60], body=body,
                          platform=PLATFORMS[n % 4], topics=(topic,)))
    return Corpus(texts=tuple(texts), snapshot={platform: size // 4 for platform in PLATFORMS})


def cost(size: int) -> None:
    print(f"## Cost: full analysis of {size:,} built contributions\n")
    print("| step | seconds | peak memory (MB) |\n|---|---:|---:|")
    started = time.perf_counter()
    corpus = built(size)
    _row("build the corpus (not the analysis)", started)
    total = time.perf_counter()
    started = time.perf_counter()
    languages = detect_languages(corpus)
    assert not isinstance(languages, type(None)) and isinstance(languages, tuple)
    corpus = tagged(corpus, languages[0])
    _row(f"languages ({len(languages[0]):,} untagged)", started)
    started = time.perf_counter()
    themes = find_themes(corpus, translate=False)
    assert isinstance(themes, ThemesResult)
    _row(f"themes ({len(themes.themes)}, {themes.run.parameters['features']:,} stems)", started)
    started = time.perf_counter()
    similar = find_similar(corpus, method="char")
    assert isinstance(similar, SimilarResult)
    _row(f"similar ({len(similar.similar):,} pairs, {similar.run.parameters['features']:,} n-grams)", started)
    _row("**full analysis**", total)
    changed = [replace(text, body=text.body + " Més arbres i bancs a la plaça.")
               for text in corpus.texts[:: max(1, len(corpus.texts) // CHANGES)][:CHANGES]]
    started = time.perf_counter()
    place(themes.model, changed)
    _row(f"incremental: {len(changed)} changes placed into the themes", started)
    started = time.perf_counter()
    update_similar(similar.index, changed)
    _row(f"incremental: {len(changed)} changes compared with the rest", started)
    print()


def _row(name: str, started: float) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {name} | {time.perf_counter() - started:.1f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
