"""Machine translation with Apertium, when its command and language pairs are installed (Debian packages
``apertium`` and ``apertium-spa-cat``, ...): to compare texts across languages through a pivot language, and for
readers who ask to read a contribution in theirs. What it gives is a machine translation, never the author's text.

The command runs without a shell, with a bounded input and a timeout. Starting it costs about a second (it loads
the pair's dictionaries), so many texts go through one call, each after a separator line the translators keep.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache

from ..errors import DDSError

COMMAND = "apertium"
# Apertium's modes name languages by ISO 639-3 codes ("cat-spa") or, for some pairs, 639-1 ("fr-es").
CODES = {"ca": "cat", "es": "spa", "fr": "fra", "en": "eng", "oc": "oci", "pt": "por", "it": "ita", "gl": "glg"}
MAX_CHARS = 20_000  # of one text
MAX_BATCH_CHARS = 500_000  # of one call
TIMEOUT = 120.0  # seconds, of one call
SEPARATOR = "§§§§"


class TranslationError(DDSError):
    """The translator is absent, lacks the pair, failed or took too long."""

    status = 503
    title = "Translation unavailable"


@lru_cache(maxsize=8)
def modes(command: str = COMMAND) -> frozenset[str]:
    """The installed Apertium modes (``cat-spa``, ``fr-es``, ...); none when the command is absent."""
    if shutil.which(command) is None:
        return frozenset()
    try:
        listed = subprocess.run([command, "-l"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in listed.stdout.splitlines() if line.strip())


def mode(source: str, target: str, command: str = COMMAND) -> str | None:
    """The mode translating language ``source`` to ``target`` (BCP 47 primary subtags), if installed."""
    installed = modes(command)
    names = {source, CODES.get(source, source)}
    targets = {target, CODES.get(target, target)}
    found = sorted(f"{a}-{b}" for a in names for b in targets if f"{a}-{b}" in installed)
    return found[0] if found else None


def pairs(command: str = COMMAND) -> frozenset[tuple[str, str]]:
    """The (source, target) pairs of the node's languages that can be translated."""
    languages = ("ca", "es", "fr", "en")
    return frozenset((a, b) for a in languages for b in languages if a != b and mode(a, b, command))


def translate(text: str, source: str, target: str, command: str = COMMAND) -> str:
    """``text`` (cut to :data:`MAX_CHARS`) translated from ``source`` to ``target``."""
    return translate_many([text], source, target, command)[0]


def translate_many(texts: Sequence[str], source: str, target: str, command: str = COMMAND) -> list[str]:
    """Each of ``texts`` translated, in as few calls as the bound on a call's input allows."""
    found = mode(source, target, command)
    if found is None:
        raise TranslationError(f"no Apertium pair from {source} to {target} is installed")
    results: list[str] = []
    for batch in _batches([_clean(text) for text in texts]):
        results.extend(_translate_batch(batch, found, command))
    return results


def _clean(text: str) -> str:
    """The text bounded, without the separator, on lines the deformatter keeps as they are."""
    return text[:MAX_CHARS].replace(SEPARATOR, " ").replace("\x00", " ")


def _batches(texts: list[str]) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if batches[-1] and size + len(text) > MAX_BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(text)
        size += len(text) + len(SEPARATOR) + 4
    return batches if batches[0] else []


def _translate_batch(batch: list[str], found_mode: str, command: str) -> list[str]:
    """One call for the batch; should the translator not keep every separator, each text is sent alone."""
    joined = f"\n\n{SEPARATOR}\n\n".join(batch)
    parts = [part.strip() for part in _run(joined, found_mode, command).split(SEPARATOR)]
    if len(parts) == len(batch):
        return parts
    if len(batch) == 1:
        return [" ".join(parts).strip()]
    return [_run(text, found_mode, command).strip() for text in batch]


def _run(text: str, found_mode: str, command: str) -> str:
    try:
        done = subprocess.run([command, "-u", found_mode], input=text, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise TranslationError(f"Apertium {found_mode} took longer than {TIMEOUT:.0f} s") from error
    except OSError as error:
        raise TranslationError(f"Apertium could not be started: {error}") from error
    if done.returncode != 0:
        raise TranslationError(f"Apertium {found_mode} failed: {done.stderr.strip()[:200]}")
    return done.stdout
