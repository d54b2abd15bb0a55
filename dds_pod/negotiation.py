"""Content negotiation, one rule for every route (RFC 9110 §12.5.1).

A type offered by the server gets the quality of the most specific range of the client's ``Accept`` that
matches it (``text/turtle``, then ``text/*``, then ``*/*``); the offered type of highest quality wins, and of
equal qualities the one the server offers first. A client that states no preference gets the first offered.
"""

from __future__ import annotations

from collections.abc import Sequence

# (media type without parameters, quality), in the order the client sent them
Accept = Sequence[tuple[str, float]]


def best(accept: Accept, offered: Sequence[str]) -> str | None:
    """The offered type the client prefers, or None when it accepts none of them."""
    if not accept:
        return offered[0]
    chosen, chosen_quality = None, 0.0
    for media in offered:
        quality = _quality(accept, media)
        if quality > chosen_quality:
            chosen, chosen_quality = media, quality
    return chosen


def _quality(accept: Accept, media: str) -> float:
    for media_range in (media, media.split("/")[0] + "/*", "*/*"):
        qualities = [quality for candidate, quality in accept if candidate == media_range]
        if qualities:
            return max(qualities)
    return 0.0
