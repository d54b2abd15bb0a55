"""Citizens' HTML, made safe to show: a safelist of tags and attributes (ammonia, through nh3).

No script, no event handler, no ``javascript:`` URL survives; a plain-text version is kept beside
the HTML for search.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "blockquote", "h2", "h3", "h4", "h5",
        "code", "pre", "span", "sub", "sup", "hr", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto"}
_BLOCKS = re.compile(r"</(p|li|h[2-5]|blockquote|tr|pre)>|<br\s*/?>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")  # within a line: the other blanks end lines (splitlines)


def clean_html(text: str | None) -> str:
    if not text:
        return ""
    return nh3.clean(text, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow").strip()


def plain_text(safe_html: str) -> str:
    """The text of sanitised HTML: tags dropped, entities decoded, one line per block."""
    text = html.unescape(_TAGS.sub("", _BLOCKS.sub("\n", safe_html)))
    if "  " in text or "\t" in text:  # a search for the pattern alone costs more than most texts' whole cleaning
        text = _SPACES.sub(" ", text)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
