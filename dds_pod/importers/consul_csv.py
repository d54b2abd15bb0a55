"""Import Consul proposals and threaded comments from CSV (the Decide Madrid scrape's format).

The files are ``,``-separated with a leading pandas index column: ``proposals.csv`` (``id``, ``code``,
``title``, ``summary``, ``text``, ``status``, ``numSupports``, ...) and ``comments.csv`` (``id``,
``parentId``, ``proposalId``, ``date``, ``time``, ...). Which file is which is read from its header.
A comment only makes sense under its proposal, so comments need the proposals file in the same call.

Mapping choices:

* A proposal is a ``Proposal`` at ``{pod}proposals/{code}`` (``MAD-2015-09-7``), its code as
  ``identifier``, its page on the site as ``url``, supports and comments counted. Text is Spanish by
  default (``language``), sanitised like any citizen's HTML.
* Status: Consul's ``open`` is ``submitted``. Consul ``archived`` a proposal when its support period
  (twelve months by default) ended short of the threshold that would have sent it to a citizen vote: the
  supports were its vote and it was not chosen, which is DDS's ``notSelected``, not ``rejected`` (no
  institution answered it) nor ``submitted`` (nothing is pending any more). Consul's other states map
  as ``retired`` → ``withdrawn`` and ``successful`` → ``selected``; any other value is reported.
* Dates: the scrape gives Madrid's local wall time (``date`` plus a pandas ``0 days 10:50:19`` time of
  day) without offset, so they are read in ``zone`` (Europe/Madrid); a proposal's bare date is midnight
  in the same zone, so a proposal never seems younger than its first comments.
* A comment is a ``Comment`` at ``{pod}comments/consul-comment-{id}`` with its page
  (``{site}/comments/{id}``), likes and dislikes. It answers its parent comment when ``parentId`` is
  not -1, else its proposal. The scrape misses some parents (hidden or deleted on the site, their
  replies still shown): such a reply answers its proposal, the nearest ancestor that exists, so the
  thread keeps it. A comment whose proposal is not imported has nothing to answer and is reported.
* The scrape kept some comments without their text (they still have votes and replies): they are
  imported with an empty content rather than dropped, so their thread stays whole.
* Authors are pseudonymous (see :class:`~.agents.Agents`): the scrape has only account numbers, and an
  account number leads to the person's public profile. An account that Consul marks as an association
  (``isAssociation``, or a ``Colectivo`` comment) is an ``Organization``, still pseudonymous since the
  scrape has no name for it and the number would identify it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..vocab import DDS_CONTEXT_IRI
from .agents import Agents
from .cells import count, timestamp
from .cells import language as language_tag
from .common import Batch, Settings, slug
from .references import Claims, map_replies
from .rows import Row, RowError, RowProblem, Table, map_rows, sort_tables
from .texts import MAX_SUMMARY, MAX_TITLE, contents, is_junk, limit, one_line, text_html

MADRID = "https://decide.madrid.es"
PROPOSAL_COLUMNS = ("id", "code", "title", "date", "status")
COMMENT_COLUMNS = ("id", "parentId", "proposalId", "date", "time", "text")
STATUSES = {"open": "submitted", "archived": "notSelected", "retired": "withdrawn", "successful": "selected"}
TOP_LEVEL = ("", "-1")
COLLECTIVE = "colectivo"


def read(paths: list[Path], settings: Settings, *, site: str = MADRID, language: str = "es",
         zone: str = "Europe/Madrid") -> tuple[Batch, list[RowProblem]]:
    """Map Consul proposals and comments CSV files to DDS documents; rows that cannot be mapped are
    reported and skipped. ``site`` is the platform's address the ``url`` columns are relative to."""
    importer = _Importer(settings, site.rstrip("/"), language_tag(language, "language"), ZoneInfo(zone))
    tables = sort_tables(paths, {"proposals": PROPOSAL_COLUMNS, "comments": COMMENT_COLUMNS},
                         "a Consul proposals or comments file", importer.problems)
    proposals, comments = tables["proposals"], tables["comments"]
    importer.find_associations(proposals, comments)
    for table in proposals:
        map_rows(table, importer.proposal, importer.problems)
    importer.comments(comments, with_proposals=bool(proposals))
    return importer.finish()


class _Importer:
    def __init__(self, settings: Settings, site: str, language: str, zone: ZoneInfo) -> None:
        self.pod = settings.pod_url
        self.site = site
        self.language = language
        self.zone = zone
        self.batch = Batch()
        self.problems: list[RowProblem] = []
        self.agents = Agents(settings)
        self.claims = Claims()
        self.associations: set[str] = set()
        self.proposal_iris: dict[str, str] = {}  # Consul id -> IRI, for the comments

    def finish(self) -> tuple[Batch, list[RowProblem]]:
        for iri, document in self.agents.documents.items():
            self.batch.documents.setdefault(iri, document)
        return self.batch, self.problems

    def find_associations(self, proposals: list[Table], comments: list[Table]) -> None:
        """Accounts that speak for an association, known before any author is named: an agent has one type."""
        for table in proposals:
            self.associations.update(row.get("userId") for row in table.rows if row.get("isAssociation") == "1")
        for table in comments:
            self.associations.update(row.get("userId") for row in table.rows
                                     if row.get("userType").lower() == COLLECTIVE)
        self.associations.discard("")

    # ------------------------------------------------------------------ proposals

    def proposal(self, row: Row, table: Table) -> None:
        ident = row.number("id")
        code = row.required("code")
        iri = f"{self.pod}proposals/{slug(code)}"
        self.claims.check(iri, f"proposal code {code}")
        if ident in self.proposal_iris:
            raise RowError(f"duplicate proposal id {ident}")
        status = row.get("status").lower()
        if status and status not in STATUSES:
            raise RowError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        document = self._document(iri, "Proposal", code)
        document["title"] = {self.language: limit(one_line(row.required("title")), MAX_TITLE, "title")}
        summary = text_html(row.get("summary"))
        if summary:
            document["summary"] = {self.language: limit(summary, MAX_SUMMARY, "summary")}
        document.update(contents({self.language: text_html(row.get("text"))}))
        document["published"] = timestamp(row.required("date"), zone=self.zone)
        self._page(document, row.get("url"))
        self._counts(document, row, {"supportCount": "numSupports", "commentCount": "numComments"})
        if status:
            document["status"] = STATUSES[status]
        self._author(document, row)
        self.proposal_iris[ident] = iri
        self._add(iri, document, table, row)

    def _page(self, document: dict[str, Any], path: str) -> None:
        if path.startswith(("http://", "https://")):
            document["url"] = path
        elif path:
            document["url"] = f"{self.site}/{path.lstrip('/')}"

    # ------------------------------------------------------------------ comments

    def comments(self, tables: list[Table], with_proposals: bool) -> None:
        """Comments of every file at once: a reply may come before its parent, or in another file."""
        if tables and not with_proposals:
            for table in tables:
                self.problems.append(RowProblem(
                    table.file, 1, "comments need the proposals file they belong to (proposals.csv) in the same "
                                   f"import: {len(table.rows)} comments not imported"))
            return
        map_replies(tables, self._comment, self.problems, self.batch.documents)

    def _comment(self, row: Row, table: Table, replies: list[tuple[dict[str, Any], str, str]]) -> None:
        ident = row.number("id")
        reference = f"consul-comment-{ident}"
        iri = f"{self.pod}comments/{reference}"
        self.claims.check(iri, f"comment id {ident}")
        proposal = self.proposal_iris.get(row.number("proposalId"))
        if proposal is None:
            raise RowError(f"proposal {row.get('proposalId')} is not among the imported proposals: "
                           "the comment has nothing to answer")
        parent = row.get("parentId")
        if parent not in TOP_LEVEL and not parent.isdigit():
            raise RowError(f"parentId {parent!r} is neither -1 nor a comment id")
        text = row.get("text")
        if is_junk(text):
            raise RowError("junk text (a vulnerability scanner's probe, not a comment)")
        document = self._document(iri, "Comment", reference)
        document["language"] = self.language
        document["published"] = timestamp(row.required("date"), row.required("time"), self.zone)
        document["inReplyTo"] = proposal
        document.update(contents({self.language: text_html(text)}) or {"content": {self.language: ""}})
        document["url"] = f"{self.site}/comments/{ident}"
        self._counts(document, row, {"likeCount": "numPositiveVotes", "dislikeCount": "numNegativeVotes"})
        self._author(document, row)
        if parent not in TOP_LEVEL:
            replies.append((document, f"{self.pod}comments/consul-comment-{parent}", proposal))
        self._add(iri, document, table, row)

    # ------------------------------------------------------------------ shared

    def _counts(self, document: dict[str, Any], row: Row, columns: dict[str, str]) -> None:
        for key, column in columns.items():
            value = count(row, column)
            if value is not None:
                document[key] = value

    def _author(self, document: dict[str, Any], row: Row) -> None:
        """Named last, once nothing in the row can fail: a skipped row must not leave its author behind."""
        user = row.get("userId")
        if not user:
            return
        reference = f"consul-user-{slug(user)}"
        if user in self.associations:
            document["author"] = self.agents.organization(reference)
        else:
            document["author"] = self.agents.person(reference)

    def _document(self, iri: str, kind: str, reference: str) -> dict[str, Any]:
        return {"@context": DDS_CONTEXT_IRI, "id": iri, "type": kind, "identifier": reference}

    def _add(self, iri: str, document: dict[str, Any], table: Table, row: Row) -> None:
        self.claims.claim(iri, table, row)
        self.batch.documents[iri] = document
