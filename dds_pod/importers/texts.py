"""The texts of a CSV row made fit for a DDS document: titles and names on one line, bodies as safe HTML
with their plain-text twin, the validator's length limits checked per row, scanners' probes recognised,
and a person's name taken out of a body that would undo their pseudonym."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from ..sanitize import clean_html, plain_text
from .rows import RowError

# The validator's length limits: a longer value would make the whole document fail later, at the pod.
MAX_TITLE = 500
MAX_CONTENT = 100_000
MAX_SUMMARY = 2_000
MAX_NAME = 300
MAX_IDENTIFIER = 200

_BLOCK_TAG = re.compile(r"<(?:p|ul|ol|li|h[2-5]|blockquote|pre|table|br)\b", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n")
# What vulnerability scanners post into comment forms: a bare path to a system file, no words around it.
_PROBE = re.compile(
    r"(?:[a-z]:)?[\\/]?(?:\.\.[\\/])*(?:[\w.-]+[\\/])*"
    r"(?:etc[\\/](?:passwd|shadow|hosts)|(?:system|win|boot)\.ini|web\.config|wp-config\.php)\S*"
    r"|(?:\.\.[\\/]){2,}\S*",
    re.IGNORECASE,
)


def one_line(value: str) -> str:
    """Plain text for titles and names: tags dropped, entities decoded, whitespace collapsed."""
    if "<" not in value and "&" not in value:
        return " ".join(value.split())
    return " ".join(plain_text(clean_html(value)).split())


def text_html(value: str) -> str:
    """Safe HTML from a body that may be HTML or plain text with line breaks: sanitised, and, when it
    has no block markup of its own, its paragraphs and line breaks kept as ``<p>`` and ``<br>``."""
    safe = clean_html(value)
    if "\n" not in safe or _BLOCK_TAG.search(safe):
        return safe
    paragraphs = (part.strip() for part in _BLANK_LINES.split(safe.replace("\r", "")))
    return "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in paragraphs if part)


def contents(html_by_language: dict[str, str]) -> dict[str, Any]:
    """``content`` and its plain-text twin ``contentText``, for the languages that have any text."""
    content = {lang: value for lang, value in html_by_language.items() if value}
    if not content:
        return {}
    for lang, value in content.items():
        limit(value, MAX_CONTENT, f"content ({lang})")
    return {"content": content, "contentText": {lang: plain_text(value) for lang, value in content.items()}}


def limit(value: str, maximum: int, what: str) -> str:
    if len(value) > maximum:
        raise RowError(f"{what} has {len(value)} characters, more than {maximum}")
    return value


def is_junk(body: str) -> bool:
    """Whether a body is a vulnerability scanner's probe (``../../Windows/system.ini``) rather than words."""
    return bool(_PROBE.fullmatch(html.unescape(body).strip()))


def redact(text: str, name: str, replacement: str) -> str:
    """``text`` with the whole-word occurrences of a person's ``name`` replaced: a signature or a
    self-introduction in a body would undo the pseudonym given to its author."""
    if not name or name not in text:
        return text
    return _name_pattern(name).sub(replacement, text)


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
