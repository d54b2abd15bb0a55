"""Similar contributions on other platforms and in other languages: for each text, its nearest texts by cosine
similarity of TF-IDF vectors, keeping those of another platform or another language.

Across languages the texts are compared either through a pivot language (each text translated to it by Apertium,
then stemmed: ``pivot``), or by character n-grams, which Catalan, Spanish and French largely share (``char``);
``word`` compares stems within one language. ``auto`` takes the pivot when Apertium translates every language of
the corpus into it. The comparison runs in blocks of rows of a sparse matrix, so memory stays bounded (a block of
scores, never the n × n matrix) however many texts there are; above :data:`EXACT_UP_TO` texts, their vectors
are first reduced to :data:`DIMENSIONS` (truncated SVD, seeded), which bounds the cost of each comparison.

:class:`SimilarIndex` keeps the fitted vectoriser and the matrix, so that the texts changed by a harvest are
compared with the rest (:func:`update_similar`) without vectorising everything again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from . import Corpus, NotEnoughData, Run, Similar, Text
from .translate import COMMAND, mode
from .vectors import MAX_CHARS, PIVOT, char_vectoriser, document, make_run, pivoted, stemmed, utc_now, word_vectoriser

METHODS = ("auto", "pivot", "char", "word")
K = 5
MIN_SCORE = 0.25
NEAR_DUPLICATE = 0.9
BLOCK_CELLS = 8_000_000  # scores of one block (32 MB of float32)
EXACT_UP_TO = 20_000  # texts compared on their full sparse vectors; more are first reduced to DIMENSIONS
DIMENSIONS = 256
SEED = 0
SVD_ITERATIONS = 3  # of the randomised SVD, below scikit-learn's 5: each is two passes over the large matrix


@dataclass
class SimilarIndex:
    """What a similarity run keeps to compare changed texts with the rest."""

    method: str
    pivot: str
    command: str
    vectoriser: TfidfVectorizer
    reducer: TruncatedSVD | None  # the projection of a large corpus's vectors, None when compared in full
    matrix: sparse.csr_matrix | np.ndarray  # one row per text, in the order of ``texts``
    texts: list[Text]


@dataclass(frozen=True)
class SimilarResult:
    similar: list[Similar]
    run: Run
    index: SimilarIndex


def find_similar(corpus: Corpus, *, method: str = "auto", k: int = K, min_score: float = MIN_SCORE,
                 near_duplicate: float = NEAR_DUPLICATE, pivot: str = PIVOT, command: str = COMMAND,
                 dimensions: int | None = None) -> SimilarResult | NotEnoughData:
    """For each contribution, up to ``k`` contributions of another platform or language scoring at least
    ``min_score``; those at ``near_duplicate`` or above are flagged. ``dimensions``: compare the texts' vectors
    reduced to that many (latent semantic analysis, seeded), 0 for their full vectors; None: full up to
    :data:`EXACT_UP_TO` texts, :data:`DIMENSIONS` above (the sparse products of a large corpus of related
    texts cost nearly what a dense n × n matrix does)."""
    started = utc_now()
    texts = sorted((text for text in corpus.texts if document(text).strip()), key=_order)
    if len({text.iri for text in texts}) < 2:
        return NotEnoughData("similar", "fewer than two contributions have a text")
    chosen = choose_method(method, {text.language for text in texts}, pivot, command)
    vectoriser, matrix = vectorise(texts, chosen, pivot, command)
    if matrix.shape[1] == 0 or matrix.nnz == 0:
        return NotEnoughData("similar", "the texts have no words in common to compare")
    size = (DIMENSIONS if len(texts) > EXACT_UP_TO else 0) if dimensions is None else dimensions
    reducer = TruncatedSVD(size, n_iter=SVD_ITERATIONS, random_state=SEED) if 0 < size < min(matrix.shape) else None
    rows = normalize(reducer.fit_transform(matrix)).astype(np.float32) if reducer else matrix
    index = SimilarIndex(chosen, pivot, command, vectoriser, reducer, rows, texts)
    found = _similar(index, range(len(texts)), k, min_score, near_duplicate)
    parameters: dict[str, str | int | float | bool] = {
        "method": chosen, "k": k, "min_score": min_score, "near_duplicate": near_duplicate, "max_chars": MAX_CHARS,
        "features": int(matrix.shape[1]), "dimensions": reducer.n_components if reducer else 0,
        "svd_iterations": SVD_ITERATIONS if reducer else 0}
    if chosen == "pivot":
        parameters["pivot"] = pivot
    return SimilarResult(found, make_run(f"tfidf-{chosen}-cosine", parameters, corpus, started), index)


def update_similar(index: SimilarIndex, changed: Sequence[Text], removed: Collection[str] = (), *, k: int = K,
                   min_score: float = MIN_SCORE, near_duplicate: float = NEAR_DUPLICATE) -> list[Similar]:
    """The similar contributions of the changed ones, against all the others; ``index`` then holds the changed
    texts instead of their old versions (and none of the ``removed`` contributions). The vectoriser is not
    fitted again: a word new to the corpus counts from the next full run."""
    gone = set(removed) | {text.iri for text in changed}
    kept = [row for row, text in enumerate(index.texts) if text.iri not in gone]
    fresh = sorted((text for text in changed if document(text).strip()), key=_order)
    added = index.vectoriser.transform(_documents(fresh, index.method, index.pivot, index.command))
    if index.reducer is not None:
        index.matrix = np.vstack([index.matrix[kept], normalize(index.reducer.transform(added)).astype(np.float32)])
    else:
        index.matrix = sparse.vstack([index.matrix[kept], added], format="csr")
    index.texts = [index.texts[row] for row in kept] + fresh
    return _similar(index, range(len(kept), len(index.texts)), k, min_score, near_duplicate)


def choose_method(method: str, languages: Collection[str], pivot: str = PIVOT, command: str = COMMAND) -> str:
    """``auto`` is the pivot when Apertium translates every language of the corpus into it, else char n-grams."""
    if method not in METHODS:
        raise ValueError(f"unknown similarity method {method!r}: one of {', '.join(METHODS)}")
    if method != "auto":
        return method
    others = {language for language in languages if language and language != pivot}
    return "pivot" if others and all(mode(language, pivot, command) for language in others) else "char"


def vectorise(texts: Sequence[Text], method: str, pivot: str = PIVOT,
              command: str = COMMAND) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    """The fitted vectoriser of ``method`` and the texts' rows (L2-normalised, so a product is a cosine)."""
    vectoriser = char_vectoriser(len(texts)) if method == "char" else word_vectoriser(len(texts))
    documents = _documents(texts, method, pivot, command)
    try:
        return vectoriser, sparse.csr_matrix(vectoriser.fit_transform(documents))
    except ValueError:  # every word a stop word, or pruned: nothing to compare
        return vectoriser, sparse.csr_matrix((len(texts), 0), dtype=np.float32)


def nearest(queries: sparse.csr_matrix | np.ndarray, base: sparse.csr_matrix | np.ndarray, k: int,
            exclude: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``base`` nearest to each row of ``queries`` (indices, -1 where fewer, and scores), best
    first, ties by index. A pair is skipped when, for any ``(query_labels, base_labels)`` of ``exclude``, their
    labels are equal. Computed a block of query rows at a time."""
    rows, size = queries.shape[0], base.shape[0]
    k = min(k, size)
    indices = np.full((rows, k), -1, dtype=np.int64)
    scores = np.zeros((rows, k), dtype=np.float32)
    # sparse, as rows: a product with a column matrix would convert it at every block
    transposed = sparse.csr_matrix(base.T) if sparse.issparse(base) else np.ascontiguousarray(base.T)
    for start, stop in _blocks(rows, size) if k else ():
        product = queries[start:stop] @ transposed
        block = product.toarray() if sparse.issparse(product) else np.asarray(product)
        for query_labels, base_labels in exclude:
            block[query_labels[start:stop, None] == base_labels[None, :]] = -1.0
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(block, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)
        indices[start:stop] = np.take_along_axis(top, order, axis=1)
        scores[start:stop] = np.take_along_axis(top_scores, order, axis=1)
    indices[scores <= 0] = -1
    return indices, np.maximum(scores, 0)


def _similar(index: SimilarIndex, rows: range, k: int, min_score: float, near_duplicate: float) -> list[Similar]:
    if not rows:
        return []
    texts = index.texts
    iris = _labels([text.iri for text in texts])
    places = _labels([f"{text.platform or text.member}\x1f{text.language}" for text in texts])
    queries = index.matrix[rows.start:rows.stop]
    exclude = [(iris[rows.start:rows.stop], iris), (places[rows.start:rows.stop], places)]
    # a contribution with several texts (one per language) may meet the same target twice: k more give room
    found, scores = nearest(queries, index.matrix, 2 * k, exclude)
    best: dict[str, dict[str, tuple[float, bool]]] = defaultdict(dict)
    for offset, row in enumerate(rows):
        source = texts[row]
        for column, score in zip(found[offset], scores[offset], strict=True):
            value = round(float(score), 6)
            if column < 0 or value < min_score:
                continue
            target = texts[column]
            cross = target.language != source.language
            previous = best[source.iri].get(target.iri)
            if previous is None or value > previous[0]:
                best[source.iri][target.iri] = (value, cross)
    return [Similar(source, target, score, score >= near_duplicate, cross)
            for source in sorted(best)
            for target, (score, cross) in sorted(best[source].items(), key=lambda item: (-item[1][0], item[0]))[:k]]


def _documents(texts: Sequence[Text], method: str, pivot: str, command: str) -> list[str]:
    if method == "char":
        return [document(text) for text in texts]
    if method == "word":
        return [" ".join(stemmed(document(text), text.language)) for text in texts]
    translated = pivoted(texts, pivot, command)
    return [" ".join(stemmed(body, language)) for body, language in translated]


def _labels(values: list[str]) -> np.ndarray:
    """Each value as an integer, equal values equal."""
    _, inverse = np.unique(np.array(values, dtype=object), return_inverse=True)
    return inverse.astype(np.int64)


def _blocks(rows: int, columns: int) -> Iterator[tuple[int, int]]:
    step = max(1, BLOCK_CELLS // max(columns, 1))
    for start in range(0, rows, step):
        yield start, min(rows, start + step)


def _order(text: Text) -> tuple[str, str, str]:
    return text.iri, text.language, text.kind
