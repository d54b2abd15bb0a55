"""Import Decidim's open-data CSV exports (``/open-data/download``): budget projects and result comments.

Decidim writes these files ``;``-separated, one column per language (``title/ca``, ``title/es``),
timestamps as ``2016-07-29 10:58:41 UTC``. Which kind a file holds is read from its header, never
from its name. Every record becomes a DDS document with a stable IRI built from its Decidim id, so
that importing a newer export updates rather than duplicates.

Mapping choices:

* A project is a ``BudgetProject`` at ``{pod}proposals/decidim-project-{id}``: titles and sanitised
  descriptions in every language of the header, ``estimatedCost`` in EUR (the export has no currency
  column; Decidim budgets are in the organisation's currency, euros in Barcelona), supports
  (``confirmed_votes``) and comments counted, the proposals it grew from (``related_proposal_urls``)
  as ``derivedFrom``, by their URLs on the platform since those are their IRIs there.
* Its space becomes one ``Process`` (or ``Assembly``, after the URL's path) per distinct
  ``participatory_space/id``. The export has no space name, so the space's slug in its URL is its
  title, in the export's first language.
* Its category becomes a SKOS ``Concept`` at ``{pod}topics/decidim-category-{id}`` (prefixed, as the
  other references are, so that another platform's category 12 is another topic), labelled in every
  language; its scope (a district or neighbourhood) a named ``Place``.
* A comment is a ``Comment`` at ``{pod}comments/decidim-comment-{id}``; its ``alignment`` (1, 0, -1) is
  its stance. The export names the parent of a reply: ``commentable_type`` is then
  ``Decidim::Comments::Comment`` and ``commentable_id`` the parent's id, so a reply answers its parent
  comment's IRI. When that parent is not among the imported comments (moderated, or in another export),
  the reply answers the thread's root (``root_commentable_url``) instead: still in the right thread, only
  one level shallower. Other comments answer the root, a result whose IRI is its URL on the platform.
* Authors are pseudonymous people (see :class:`~.agents.Agents`), and their display name, when a body
  contains it (a signature), is replaced there by the pseudonym; user groups are organisations and
  keep their published names. A comment without any author id stays without author.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..vocab import DDS_CONTEXT_IRI
from .agents import Agents
from .cells import amount, count, language, locale_columns, timestamp, url, urls
from .common import Batch, Settings, slug
from .references import Claims, map_replies
from .rows import Row, RowError, RowProblem, Table, map_rows, sort_tables
from .texts import MAX_IDENTIFIER, MAX_NAME, MAX_TITLE, contents, is_junk, limit, one_line, redact, text_html

PROJECT_COLUMNS = ("id", "budget_amount", "participatory_space/id", "created_at")
COMMENT_COLUMNS = ("id", "body", "root_commentable_url", "commentable_type", "created_at")
CURRENCY = "EUR"
STANCES = {"1": "inFavour", "0": "neutral", "-1": "against"}
REPLY_TYPE = "Decidim::Comments::Comment"
SPACE_KINDS = {"processes": ("Process", "process"), "assemblies": ("Assembly", "assembly")}


@dataclass(frozen=True)
class _ProjectColumns:
    """Where a projects file keeps each language's text: read once from the header, not per row."""

    titles: dict[str, str]
    descriptions: dict[str, str]
    categories: dict[str, str]
    scopes: list[str]


def read(paths: list[Path], settings: Settings) -> tuple[Batch, list[RowProblem]]:
    """Map Decidim open-data CSV files to DDS documents; rows that cannot be mapped are reported and skipped."""
    importer = _Importer(settings)
    tables = sort_tables(paths, {"projects": PROJECT_COLUMNS, "comments": COMMENT_COLUMNS},
                         "a Decidim budget projects or comments export", importer.problems)
    projects, comments = tables["projects"], tables["comments"]
    for table in projects:
        importer.projects(table)
    importer.comments(comments)
    return importer.finish()


class _Importer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pod = settings.pod_url
        self.batch = Batch()
        self.problems: list[RowProblem] = []
        self.agents = Agents(settings)
        self.claims = Claims()
        self.extra: dict[str, dict[str, Any]] = {}  # spaces and topics, one document each

    def finish(self) -> tuple[Batch, list[RowProblem]]:
        for iri, document in (*self.extra.items(), *self.agents.documents.items()):
            self.batch.documents.setdefault(iri, document)
        return self.batch, self.problems

    # ------------------------------------------------------------------ projects

    def projects(self, table: Table) -> None:
        columns = _ProjectColumns(
            titles=locale_columns(table.header, "title"),
            descriptions=locale_columns(table.header, "description"),
            categories=locale_columns(table.header, "category/name"),
            scopes=list(locale_columns(table.header, "scope/name").values()),
        )
        map_rows(table, lambda row, table: self._project(row, table, columns), self.problems)

    def _project(self, row: Row, table: Table, columns: _ProjectColumns) -> None:
        ident = row.number("id")
        reference = f"decidim-project-{ident}"
        iri = f"{self.pod}proposals/{reference}"
        self.claims.check(iri, f"project id {ident}")
        document = self._document(iri, "BudgetProject", reference)
        document["title"] = _titles(row, columns.titles)
        document.update(contents({lang: text_html(row.get(c)) for lang, c in columns.descriptions.items()}))
        document["published"] = timestamp(row.required("created_at"))
        self._counters(document, row)
        self._links(document, row, columns.scopes)
        title_language = next(iter(columns.titles), self.settings.locale)
        space, topic = self._space(row, title_language), self._topic(row, columns.categories)
        for key, extra in (("space", space), ("topic", topic)):
            if extra:  # registered only now that nothing in the row can fail
                self.extra.setdefault(extra["id"], extra)
                document[key] = extra["id"]
        self._add(iri, document, table, row)

    def _links(self, document: dict[str, Any], row: Row, scopes: list[str]) -> None:
        """The project's page, the proposals it was derived from, and its scope as a named place."""
        if row.get("url"):
            document["url"] = url(row.get("url"), "url")
        related = urls(row, "related_proposal_urls")
        if related:
            document["derivedFrom"] = related
        place = row.first(*scopes)
        if place:
            document["location"] = {"type": "Place", "name": limit(one_line(place), MAX_NAME, "scope name")}

    def _counters(self, document: dict[str, Any], row: Row) -> None:
        cost = amount(row, "budget_amount")
        if cost is not None:
            document["estimatedCost"] = cost
            document["currency"] = CURRENCY
        for key, column in (("supportCount", "confirmed_votes"), ("commentCount", "comments")):
            value = count(row, column)
            if value is not None:
                document[key] = value

    def _space(self, row: Row, title_language: str) -> dict[str, Any] | None:
        """The participatory space, named after its slug: the export gives only its id and URL."""
        ident = row.get("participatory_space/id")
        if not ident:
            return None
        address = row.get("participatory_space/url")
        segments = [part for part in urlsplit(address).path.split("/") if part]
        kind, word, name = "ParticipatorySpace", "space", ""
        for position, segment in enumerate(segments[:-1]):
            if segment in SPACE_KINDS:
                (kind, word), name = SPACE_KINDS[segment], unquote(segments[position + 1])
                break
        reference = f"decidim-{word}-{slug(ident)}"
        document = self._document(f"{self.pod}spaces/{reference}", kind, reference)
        document["title"] = {title_language: limit(name or reference, MAX_TITLE, "space title")}
        if address:
            document["url"] = url(address, "participatory_space/url")
        return document

    def _topic(self, row: Row, labels: dict[str, str]) -> dict[str, Any] | None:
        ident = row.get("category/id")
        if not ident:
            return None
        reference = f"decidim-category-{slug(ident)}"
        document = self._document(f"{self.pod}topics/{reference}", "Concept", reference)
        names = {lang: one_line(row.get(column)) for lang, column in labels.items() if row.get(column)}
        if names:
            document["prefLabel"] = names
        return document

    # ------------------------------------------------------------------ comments

    def comments(self, tables: list[Table]) -> None:
        """Comments of every file at once: a reply may come before its parent, or in another file."""
        map_replies(tables, self._comment, self.problems, self.batch.documents)

    def _comment(self, row: Row, table: Table, replies: list[tuple[dict[str, Any], str, str]]) -> None:
        ident = row.number("id")
        reference = f"decidim-comment-{ident}"
        iri = f"{self.pod}comments/{reference}"
        self.claims.check(iri, f"comment id {ident}")
        body = row.get("body")
        if not body:
            raise RowError("empty body")
        if is_junk(body):
            raise RowError("junk body (a vulnerability scanner's probe, not a comment)")
        locale = language(row.get("locale") or self.settings.locale)
        root = url(row.required("root_commentable_url"), "root_commentable_url")
        stance = _stance(row)
        document = self._document(iri, "Comment", reference)
        document["language"] = locale
        document["published"] = timestamp(row.required("created_at"))
        document["inReplyTo"] = root
        if stance:
            document["stance"] = stance
        document.update(contents({locale: text_html(self._redacted(row, body))}))
        if "content" not in document:
            raise RowError("empty body once its markup is removed")
        parent = None
        if row.get("commentable_type") == REPLY_TYPE:
            parent = f"{self.pod}comments/decidim-comment-{row.number('commentable_id')}"
        authors = self._authors(row)  # last: a skipped row must not leave its author behind
        if authors:
            document["author"] = authors
        if parent:
            replies.append((document, parent, root))
        self._add(iri, document, table, row)

    def _redacted(self, row: Row, body: str) -> str:
        """The body without its author's display name, unless names are published."""
        person = row.get("author/id")
        if not person or self.settings.names:
            return body
        return redact(body, row.get("author/name"), self.agents.label(f"decidim-user-{slug(person)}"))

    def _authors(self, row: Row) -> list[str]:
        """The comment's author, pseudonymous, and the user group it spoke for, by its name."""
        authors = []
        person = row.get("author/id")
        if person:
            authors.append(self.agents.person(f"decidim-user-{slug(person)}", row.get("author/name")))
        group = row.get("user_group/id")
        if group:
            names = [c for c in row.cells if c.startswith("user_group/name/")]
            name = row.first(f"user_group/name/{self.settings.locale}", *names, "user_group/name")
            authors.append(self.agents.organization(f"decidim-user-group-{slug(group)}", name, public=True))
        return authors

    # ------------------------------------------------------------------ shared

    def _document(self, iri: str, kind: str, reference: str) -> dict[str, Any]:
        return {"@context": DDS_CONTEXT_IRI, "id": iri, "type": kind,
                "identifier": limit(reference, MAX_IDENTIFIER, "identifier")}

    def _add(self, iri: str, document: dict[str, Any], table: Table, row: Row) -> None:
        self.claims.claim(iri, table, row)
        self.batch.documents[iri] = document


def _titles(row: Row, columns: dict[str, str]) -> dict[str, str]:
    titles = {lang: one_line(row.get(column)) for lang, column in columns.items()}
    titles = {lang: limit(title, MAX_TITLE, f"title ({lang})") for lang, title in titles.items() if title}
    if not titles:
        raise RowError("no title in any language")
    return titles


def _stance(row: Row) -> str | None:
    alignment = row.get("alignment")
    if not alignment:
        return None
    if alignment not in STANCES:
        raise RowError(f"alignment {alignment!r} is not 1, 0 or -1")
    return STANCES[alignment]
