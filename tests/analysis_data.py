"""Corpora for the analysis tests and benchmark: the 220 budget projects of Barcelona's open data (each with a
Catalan and a Spanish text and the city's own category), and small built texts."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from dds_pod.analysis import Corpus, Text
from dds_pod.sanitize import clean_html, plain_text

PROJECTS = (Path(__file__).resolve().parents[1] / "data/real/decidim_barcelona_open_data"
            / "www.decidim.barcelona-open-data-projects.csv")
PLATFORM = "https://www.decidim.barcelona/"


@lru_cache(maxsize=1)
def projects() -> tuple[dict[str, str], ...]:
    with PROJECTS.open(encoding="utf-8", newline="") as source:
        return tuple(csv.DictReader(source, delimiter=";"))


def barcelona(languages: tuple[str, ...] = ("ca", "es"), *, tagged: bool = True) -> Corpus:
    """One text per project and language, sharing the project's IRI; the city's category as its topic.
    Untagged (``tagged=False``), the texts carry no language, as a platform that does not say."""
    texts = tuple(
        Text(iri=row["url"], kind="budget-projects", member="barcelona", language=language if tagged else "",
             title=row[f"title/{language}"], body=plain_text(clean_html(row[f"description/{language}"])),
             platform=PLATFORM, topics=(f"category-{row['category/id']}",))
        for row in projects() for language in languages)
    return Corpus(texts=texts, snapshot={"https://pods.example/barcelona/changes": len(texts)})


def categories() -> dict[str, str]:
    """Each project's IRI and the city's category of it: the known answer themes are measured against."""
    return {row["url"]: row["category/id"] for row in projects()}
