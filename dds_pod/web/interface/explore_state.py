"""The Explore page's state, read from and written back to the query string.

Everything a reader chose (words, facet values, dates, the map's area, the order, the page) lives in the query
string, so that any view can be bookmarked and shared. Every value is checked here, before the index sees it:
a value outside a facet's known values, a malformed date or area is refused with a message naming the
parameter (``BadDocument``), which the page shows beside the form and machine formats answer with a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from ...errors import BadDocument
from ...federation.views import STATUSES, parse_bbox, parse_date
from ...search import SORTS, Grouping, SearchQuery
from ...terms import checked_iri
from ..params import has_control_character

PAGE_SIZE = 20
MAX_PAGE = 500  # deeper pages are reached by narrowing, not by paging
MAX_TEXT_CHARS = 500
# The kinds the index holds (reactions are counted on what they answer, not listed).
LIST_KINDS = ("proposals", "amendments", "debates", "comments", "budget-projects", "meetings", "results",
              "decisions", "spaces")
FLAGS = ("located", "answered", "decided")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
_THEME_KEY = re.compile(r"[A-Za-z0-9_.~-]{1,64}")
_MULTI = {"kind": "kinds", "platform": "platforms", "space": "spaces", "topic": "topics", "status": "statuses",
          "language": "languages", "theme": "groups"}
# Query-string parameters in the order links write them.
PARAMETERS = ("q", *_MULTI, *FLAGS, "from", "to", "bbox", "sort", "locale")


@dataclass(frozen=True)
class ExploreState:
    """A checked search and the page wanted, with the query-string pairs that reproduce it."""

    query: SearchQuery
    page: int
    pairs: tuple[tuple[str, str], ...]  # every parameter but page, in a stable order

    def url(self, path: str = "/explore", page: int = 1, without: Iterable[str] = (),
            toggled: tuple[str, str] | None = None) -> str:
        """The address of this view, on another page, without some parameters, or with one facet value
        added or taken away (values of a facet are alternatives, so choosing one more widens the facet)."""
        skip = set(without)
        pairs = [(k, v) for k, v in self.pairs if k not in skip]
        if toggled is not None:
            pairs = [p for p in pairs if p != toggled] if toggled in pairs else [*pairs, toggled]
            page = 1
        if page > 1:
            pairs.append(("page", str(page)))
        ordered = sorted(pairs, key=lambda pair: PARAMETERS.index(pair[0]) if pair[0] in PARAMETERS else 99)
        return f"{path}?{urlencode(ordered)}" if ordered else path

    def chosen(self, facet: str) -> frozenset[str]:
        return frozenset(v for k, v in self.pairs if k == facet)


def read_state(args: MultiDict, known: Mapping[str, Iterable[str]], reader_language: str | None,
               themes: Grouping | None = None) -> ExploreState:
    """The state of ``args``; ``known`` gives, per facet of IRIs or codes, the values the index holds (``theme``:
    the keys of ``themes``, the latest analysis's, counted as a facet when given)."""
    pairs: list[tuple[str, str]] = []
    fields: dict = {"reader_language": reader_language, "limit": PAGE_SIZE, "grouping": themes}
    text = _text(args)
    if text:
        pairs.append(("q", text))
        fields["text"] = text
    for name, attribute in _MULTI.items():
        values = _facet_values(args, name, known)
        pairs += [(name, value) for value in values]
        fields[attribute] = frozenset(values)
    for flag in FLAGS:
        value = _flag(args, flag)
        if value is not None:
            pairs.append((flag, "yes" if value else "no"))
            fields[flag] = value
    for name, attribute in (("from", "since"), ("to", "until")):
        raw = _single(args, name)
        if raw:
            fields[attribute] = parse_date(raw, name)
            pairs.append((name, raw))
    if fields.get("since") and fields.get("until") and fields["since"] > fields["until"]:
        raise BadDocument("from must not be after to", field="from")
    bbox = _single(args, "bbox")
    if bbox:
        fields["bbox"] = parse_bbox(bbox)
        pairs.append(("bbox", ",".join(f"{c:g}" for c in fields["bbox"])))
    sort = _single(args, "sort") or ("relevance" if text else "newest")
    if sort not in SORTS:
        raise BadDocument(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if sort != ("relevance" if text else "newest"):
        pairs.append(("sort", sort))
    locale = _single(args, "locale")
    if locale:
        pairs.append(("locale", locale))
    page = _page(args)
    query = SearchQuery(sort=sort, offset=(page - 1) * PAGE_SIZE, **fields)
    return ExploreState(query, page, tuple(pairs))


def without_area(state: ExploreState) -> SearchQuery:
    """The same search over every place: what the map shows, so that moving it can find more."""
    return replace(state.query, bbox=None, located=True, offset=0)


def _single(args: MultiDict, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadDocument(f"{name} is given {len(values)} times; give it once", field=name)
    value = values[0].strip() if values else None
    if value and has_control_character(value):
        raise BadDocument(f"{name} contains a control character", field=name)
    return value or None


def _text(args: MultiDict) -> str:
    """The reader's words: control characters become spaces (a pasted text may hold tabs and line ends)."""
    raw = " ".join(args.getlist("q"))
    if len(raw) > MAX_TEXT_CHARS:
        raise BadDocument(f"q is {len(raw)} characters long; search with at most {MAX_TEXT_CHARS}", field="q")
    return " ".join("".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in raw).split())


def _facet_values(args: MultiDict, name: str, known: Mapping[str, Iterable[str]]) -> list[str]:
    values = [value.strip() for value in args.getlist(name) if value.strip()]
    if len(values) > 20:
        raise BadDocument(f"{name} is given {len(values)} values; choose at most 20", field=name)
    for value in values:
        _check_facet_value(name, value, known)
    return sorted(set(values))


def _check_facet_value(name: str, value: str, known: Mapping[str, Iterable[str]]) -> None:
    if name == "kind" and value not in LIST_KINDS:
        raise BadDocument(f"kind {value!r} is unknown; kinds are {', '.join(LIST_KINDS)}", field="kind")
    if name == "status" and value not in STATUSES:
        raise BadDocument(f"status {value!r} is unknown; statuses are {', '.join(sorted(STATUSES))}",
                          field="status")
    if name == "language" and not _LANGUAGE.fullmatch(value):
        raise BadDocument(f"language {value!r} is not a language code such as fr or ca", field="language")
    if name in ("platform", "space", "topic"):
        checked_iri(value, name)
    if name == "theme" and not _THEME_KEY.fullmatch(value):
        raise BadDocument(f"theme {value!r} is not a theme's key", field="theme")
    if name in ("platform", "space", "topic", "language", "theme") and value not in set(known.get(name, ())):
        raise BadDocument(f"no contribution has the {name} {value!r}", field=name)


def _flag(args: MultiDict, name: str) -> bool | None:
    value = _single(args, name)
    if value is None:
        return None
    if value not in ("yes", "no"):
        raise BadDocument(f"{name} is yes or no", field=name)
    return value == "yes"


def _page(args: MultiDict) -> int:
    raw = _single(args, "page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadDocument(f"page is a number from 1 to {MAX_PAGE}", field="page")
    return int(raw)
