"""A light rule-based sentence splitter for the interface languages (ca, es, fr, en).

A sentence ends at ``.``, ``!``, ``?`` or ``…`` followed by a space and what can start a sentence (a capital, a
digit, an opening quote or Spanish ``¿``/``¡``), or at a line break, unless the word before the full stop is one
of the language's abbreviations or a single letter (an initial). Good enough to pick whole sentences out of
comments; no model to download.
"""

from __future__ import annotations

import re

ABBREVIATIONS: dict[str, frozenset[str]] = {
    "es": frozenset({"sr", "sra", "sres", "srta", "dr", "dra", "d", "dña", "etc", "pág", "págs", "núm", "art", "arts",
                     "av", "avda", "c", "ej", "aprox", "ud", "uds", "vd", "vds", "tel", "admón", "ayto"}),
    "ca": frozenset({"sr", "sra", "srs", "dr", "dra", "etc", "pàg", "núm", "art", "av", "avda", "c", "pl",
                     "ex", "aprox", "tel", "aj", "ajunt"}),
    "fr": frozenset({"m", "mm", "mme", "mmes", "mlle", "dr", "pr", "etc", "cf", "p", "pp", "av", "bd", "n°", "no",
                     "art", "env", "ex", "tél", "st", "ste"}),
    "en": frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "etc", "e.g", "i.e", "vs", "cf", "no", "art", "ave",
                     "approx", "fig", "p", "pp"}),
}
END = re.compile(r"[.!?…]+[\"'»”)\]]*\s+(?=[\"'«“(\[¿¡]?[A-ZÀ-ÖØ-Þ0-9])")
LINE_BREAK = re.compile(r"\s*\n\s*")
LAST_WORD = re.compile(r"(\S+)$")
MAX_CHARACTERS = 200_000  # of one text: a longer one is read up to here


def split(text: str, language: str) -> list[str]:
    """The sentences of ``text`` in order, stripped, none empty."""
    abbreviations = ABBREVIATIONS.get(language.split("-")[0].lower(), frozenset())
    sentences = []
    for line in LINE_BREAK.split(text[:MAX_CHARACTERS]):
        sentences += _split_line(line.strip(), abbreviations)
    return [s for s in sentences if s]


def _split_line(line: str, abbreviations: frozenset[str]) -> list[str]:
    pieces, start = [], 0
    for match in END.finditer(line):
        before = line[start:match.start() + 1]
        if match.group().startswith(".") and _abbreviated(before, abbreviations):
            continue
        pieces.append(line[start:match.end()].strip())
        start = match.end()
    pieces.append(line[start:].strip())
    return pieces


def _abbreviated(before: str, abbreviations: frozenset[str]) -> bool:
    """Whether the full stop closing ``before`` ends an abbreviation or an initial rather than a sentence."""
    word = LAST_WORD.search(before[:-1])
    if word is None:
        return False
    token = word.group(1).lstrip("(\"'«“").lower()
    return (len(token) == 1 and token.isalpha()) or token in abbreviations or token.rstrip(".") in abbreviations
