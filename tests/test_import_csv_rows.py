"""Bad rows in small synthetic CSV files: each is reported with its file, the line where it starts and
why, and the rows around it are still imported; plus the helpers for messy real files."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dds_pod import jsonld
from dds_pod.importers import consul_csv, decidim_csv
from dds_pod.importers.cells import timestamp
from dds_pod.importers.common import Settings
from dds_pod.importers.pseudonyms import Pseudonymiser
from dds_pod.importers.rows import RowError, RowProblem, read_table
from dds_pod.importers.texts import is_junk, redact, text_html
from dds_pod.rdfio import to_oxigraph, to_rdflib
from dds_pod.sanitize import plain_text
from dds_pod.terms import date_time, utc_now

POD = "http://127.0.0.1:8000/test/"
SETTINGS = Settings(pod_url=POD, platform="https://platform.example", locale="ca",
                    pseudonymiser=Pseudonymiser("a test key of enough length"))

DECIDIM_COMMENTS_HEADER = ("id;created_at;body;locale;author/id;author/name;alignment;depth;user_group/id;"
                           "user_group/name/ca;user_group/name/es;commentable_id;commentable_type;"
                           "root_commentable_url;user_group/name")
RESULT = "https://platform.example/processes/pam/f/8/results/10"
RESULT_TYPE = "Decidim::Accountability::Result"
DECIDIM_PROJECTS_HEADER = ("id;category/id;category/name/ca;category/name/es;scope/id;scope/name/ca;scope/name/es;"
                           "participatory_space/id;participatory_space/url;component/id;title/ca;title/es;"
                           "description/ca;description/es;budget/id;budget_amount;confirmed_votes;comments;"
                           "created_at;url;related_proposals;related_proposal_titles;related_proposal_urls")
SPACE_URL = "https://platform.example/processes/barri-a?participatory_process_slug=barri-a"
PROPOSALS_HEADER = ",id,url,code,title,userId,date,summary,text,numComments,status,numSupports,isAssociation"
COMMENTS_HEADER = (",id,parentId,proposalId,page,userId,userType,date,time,text,numVotes,numPositiveVotes,"
                   "numNegativeVotes")


def _write(tmp_path: Path, name: str, *lines: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _comment(ident: str, body: str = "Bon dia", created: str = "2016-07-29 10:58:41 UTC",
             author: str = "7;Alice Example", extra: str = "") -> str:
    return f"{ident};{created};{body};ca;{author};1;0;;;;10;{RESULT_TYPE};{RESULT};{extra}"


def _problems_by_line(problems: list[RowProblem]) -> dict[int, str]:
    return {p.line: p.reason for p in problems}


def _ids(batch, kind: str) -> set[str]:
    return {d["identifier"] for d in batch.documents.values() if d["type"] == kind}


def _assert_valid(documents, validator) -> None:
    for document in documents:
        graph = jsonld.to_graph(document)
        graph = to_rdflib(validator.fill_server_managed(to_oxigraph(graph), SETTINGS.platform, date_time(utc_now())))
        report = validator.validate(graph)
        assert report.conforms, (document["id"], report.as_json())


# ---------------------------------------------------------------------------------------------- Decidim


def test_bad_decidim_comments_are_reported_at_their_first_line_and_the_others_imported(tmp_path, validator):
    path = _write(
        tmp_path, "comments.csv",
        DECIDIM_COMMENTS_HEADER,                                   # 1
        _comment("1", body='"Primera línia\n\nsegona línia"'),     # 2-4: one record over three lines
        _comment("2", created="yesterday"),                        # 5: unparseable date
        _comment("", body="Sense id"),                             # 6: missing id
        _comment("4", body=""),                                    # 7: empty body
        _comment("5") + ";one cell too many",                      # 8: wrong number of columns
        _comment("6", body='"Una altra\nresposta"'),               # 9-10
        _comment("7", body="../../Windows/system.ini"),            # 11: junk
        _comment("1", body="Repetit"),                             # 12: duplicate id
        _comment("9", body="<script>alert(1)</script>"),           # 13: nothing left once sanitised
    )
    batch, problems = decidim_csv.read([path], SETTINGS)
    assert all(p.file == str(path) for p in problems)
    reasons = _problems_by_line(problems)
    assert sorted(reasons) == [5, 6, 7, 8, 11, 12, 13]
    assert "unparseable date 'yesterday'" in reasons[5]
    assert "missing id" in reasons[6]
    assert reasons[7] == "empty body"
    assert "expected 15 columns, found 16" in reasons[8]
    assert "junk" in reasons[11]
    assert "duplicate comment id 1" in reasons[12] and ":2)" in reasons[12]
    assert "empty body" in reasons[13]
    assert _ids(batch, "Comment") == {"decidim-comment-1", "decidim-comment-6"}
    first = batch.documents[f"{POD}comments/decidim-comment-1"]
    assert first["content"] == {"ca": "<p>Primera línia</p><p>segona línia</p>"}
    assert first["contentText"] == {"ca": "Primera línia\nsegona línia"}
    assert first["inReplyTo"] == RESULT and first["stance"] == "inFavour"
    _assert_valid(batch.documents.values(), validator)


def test_a_decidim_reply_answers_its_parent_or_else_the_root(tmp_path):
    reply = "Decidim::Comments::Comment"
    path = _write(
        tmp_path, "comments.csv",
        DECIDIM_COMMENTS_HEADER,
        f"3;2016-07-29 11:00:00 UTC;Resposta;ca;8;Bob Example;0;1;;;;1;{reply};{RESULT};",  # before its parent
        _comment("1"),
        f"4;2016-07-29 11:00:00 UTC;Orfe;ca;8;Bob Example;-1;1;;;;99;{reply};{RESULT};",  # parent 99 absent
    )
    batch, problems = decidim_csv.read([path], SETTINGS)
    assert problems == []
    assert batch.documents[f"{POD}comments/decidim-comment-3"]["inReplyTo"] == f"{POD}comments/decidim-comment-1"
    orphan = batch.documents[f"{POD}comments/decidim-comment-4"]
    assert orphan["inReplyTo"] == RESULT and orphan["stance"] == "against"


def test_decidim_authors_are_pseudonymous_and_their_signatures_hidden(tmp_path, validator):
    path = _write(
        tmp_path, "comments.csv", DECIDIM_COMMENTS_HEADER,
        _comment("1", body="Alice Example aquí. Hi estic d'acord.", author="7;Alice Example"),
        # a user group, named only in the bare user_group/name column of this header variant
        f"2;2016-07-29 10:58:41 UTC;Nosaltres també;ca;7;Alice Example;0;0;40;;;10;{RESULT_TYPE};{RESULT};"
        "Associació Veïnal",
        bom=True,
    )
    batch, problems = decidim_csv.read([path], SETTINGS)
    assert problems == []
    dump = json.dumps(batch.documents, ensure_ascii=False)
    assert "Alice" not in dump
    first = batch.documents[f"{POD}comments/decidim-comment-1"]
    (person,) = first["author"]
    label = batch.documents[person]["name"]
    assert label.startswith("Participant ") and first["contentText"]["ca"].startswith(f"{label} aquí.")
    group = batch.documents[f"{POD}comments/decidim-comment-2"]["author"]
    assert group[0] == person
    assert batch.documents[group[1]] == {
        "@context": "https://w3id.org/dds/context.jsonld", "type": "Organization",
        "id": f"{POD}organizations/decidim-user-group-40", "identifier": "decidim-user-group-40",
        "name": "Associació Veïnal"}
    _assert_valid(batch.documents.values(), validator)


def test_names_are_published_only_when_asked(tmp_path):
    path = _write(tmp_path, "comments.csv", DECIDIM_COMMENTS_HEADER, _comment("1", author="7;Alice Example"))
    named = Settings(pod_url=POD, platform=SETTINGS.platform, names=True)
    batch, _ = decidim_csv.read([path], named)
    assert batch.documents[f"{POD}people/decidim-user-7"]["name"] == "Alice Example"
    with pytest.raises(ValueError, match="pseudonymiser"):
        decidim_csv.read([path], Settings(pod_url=POD, platform=SETTINGS.platform))


def test_a_comma_separated_decidim_file_reads_the_same(tmp_path):
    semicolons = _write(tmp_path, "a.csv", DECIDIM_COMMENTS_HEADER, _comment("1"))
    commas = _write(tmp_path, "b.csv", DECIDIM_COMMENTS_HEADER.replace(";", ","), _comment("1").replace(";", ","))
    assert decidim_csv.read([semicolons], SETTINGS)[0] == decidim_csv.read([commas], SETTINGS)[0]


def _project(ident: str, amount: str = "18000", created: str = "2017-02-07 07:58:01 UTC", title: str = "Llibre",
             related: str = "") -> str:
    return (f"{ident};50;Cultura;Cultura;6;Gràcia;Gràcia;3;{SPACE_URL};21;{title};Libro;<p>Text</p>;"
            f"<p>Texto</p>;1;{amount};60;0;{created};https://platform.example/projects/{ident};;;{related}")


def test_bad_decidim_projects_are_reported_and_the_others_imported(tmp_path, validator):
    path = _write(
        tmp_path, "projects.csv",
        DECIDIM_PROJECTS_HEADER,
        _project("1", related="https://platform.example/proposals/1, https://platform.example/proposals/2"),
        _project("2", amount="-5"),
        _project("3", created="2017-02-30 07:58:01 UTC"),
        _project("4", title="").replace(";Libro;", ";;"),
        _project("5", related="not-a-url"),
        _project("6", related='"https://platform.example/proposals/3;https://platform.example/proposals/4"'),
    )
    batch, problems = decidim_csv.read([path], SETTINGS)
    reasons = _problems_by_line(problems)
    assert sorted(reasons) == [3, 4, 5, 6]
    assert "not a non-negative amount" in reasons[3]
    assert "impossible date" in reasons[4]
    assert "no title" in reasons[5]
    assert "'not-a-url', which is not an http(s) URL" in reasons[6]
    assert _ids(batch, "BudgetProject") == {"decidim-project-1", "decidim-project-6"}
    project = batch.documents[f"{POD}proposals/decidim-project-1"]
    assert project["derivedFrom"] == ["https://platform.example/proposals/1", "https://platform.example/proposals/2"]
    assert batch.documents[project["space"]]["title"] == {"ca": "barri-a"}
    assert batch.documents[project["topic"]]["prefLabel"] == {"ca": "Cultura", "es": "Cultura"}
    assert len(batch.documents[f"{POD}proposals/decidim-project-6"]["derivedFrom"]) == 2
    _assert_valid(batch.documents.values(), validator)


# ---------------------------------------------------------------------------------------------- Consul


def _proposal(index: int, ident: str, code: str | None = None, date: str = "2015-09-15", status: str = "archived",
              title: str = "Limpiar las calles", association: str = "0") -> str:
    code = f"MAD-2015-09-{ident}" if code is None else code
    return (f"{index},{ident},/proposals/{ident}-limpiar,{code},{title},98{ident},{date},Un resumen.,"
            f"\"<p onclick='x'>Texto</p>\",12,{status},300,{association}")


def _consul_comment(index: int, ident: str, parent: str = "-1", proposal: str = "7", date: str = "2015-09-15",
                    time: str = "0 days 10:50:19", text: str = "De acuerdo", user: str = "55",
                    kind: str = "") -> str:
    return f"{index},{ident},{parent},{proposal},1,{user},{kind},{date},{time},{text},3,2,1"


def test_bad_consul_rows_are_reported_and_the_others_imported(tmp_path, validator):
    proposals = _write(
        tmp_path, "proposals.csv", PROPOSALS_HEADER,
        _proposal(0, "7", association="1"),                      # 2
        _proposal(1, "8", status="open"),                        # 3
        _proposal(2, "9", status="frozen"),                      # 4: unknown status
        _proposal(3, "10", date="15/09/2015"),                   # 5: unparseable date
        _proposal(4, "11", code=""),                             # 6: missing code
    )
    comments = _write(
        tmp_path, "comments.csv", COMMENTS_HEADER,
        _consul_comment(0, "100"),                               # 2
        _consul_comment(1, "101", "100", user="987", kind="Autor"),  # 3: the author answering
        _consul_comment(2, "102", parent="555"),                 # 4: parent not in the file
        _consul_comment(3, "103", proposal="9"),                 # 5: its proposal was not imported
        _consul_comment(4, "104", time="25:61:00"),              # 6: impossible time
        _consul_comment(5, "105", text=""),                      # 7: no text in the scrape, still a comment
        _consul_comment(6, "106", parent="abc"),                 # 8: parentId neither -1 nor an id
        _consul_comment(7, "", parent="100"),                    # 9: missing id
        _consul_comment(8, "108") + ",extra",                    # 10: wrong number of columns
    )
    batch, problems = consul_csv.read([comments, proposals], SETTINGS)
    by_file = {(p.file, p.line): p.reason for p in problems}
    assert set(by_file) == {(str(proposals), n) for n in (4, 5, 6)} | {(str(comments), n) for n in (5, 6, 8, 9, 10)}
    assert "status 'frozen'" in by_file[str(proposals), 4]
    assert "unparseable date '15/09/2015'" in by_file[str(proposals), 5]
    assert "missing code" in by_file[str(proposals), 6]
    assert "proposal 9 is not among the imported proposals" in by_file[str(comments), 5]
    assert "25:61:00" in by_file[str(comments), 6]
    assert "parentId 'abc'" in by_file[str(comments), 8]
    assert "missing id" in by_file[str(comments), 9]
    assert "expected 13 columns, found 14" in by_file[str(comments), 10]
    assert _ids(batch, "Proposal") == {"MAD-2015-09-7", "MAD-2015-09-8"}
    assert _ids(batch, "Comment") == {"consul-comment-100", "consul-comment-101", "consul-comment-102",
                                      "consul-comment-105"}
    proposal = f"{POD}proposals/mad-2015-09-7"
    docs = batch.documents
    assert docs[f"{POD}comments/consul-comment-101"]["inReplyTo"] == f"{POD}comments/consul-comment-100"
    assert docs[f"{POD}comments/consul-comment-102"]["inReplyTo"] == proposal
    assert docs[f"{POD}comments/consul-comment-105"]["content"] == {"es": ""}
    assert docs[proposal]["content"] == {"es": "<p>Texto</p>"} and docs[proposal]["status"] == "notSelected"
    assert docs[f"{POD}proposals/mad-2015-09-8"]["status"] == "submitted"
    association = docs[proposal]["author"]
    assert docs[association]["type"] == "Organization"
    assert docs[f"{POD}comments/consul-comment-101"]["author"] == association
    _assert_valid(docs.values(), validator)


def test_consul_comments_without_their_proposals_are_one_problem(tmp_path):
    comments = _write(tmp_path, "comments.csv", COMMENTS_HEADER, _consul_comment(0, "100"), _consul_comment(1, "101"))
    batch, problems = consul_csv.read([comments], SETTINGS)
    assert batch.documents == {}
    assert problems == [RowProblem(str(comments), 1, "comments need the proposals file they belong to "
                                                     "(proposals.csv) in the same import: 2 comments not imported")]


def test_a_file_of_another_kind_is_refused_at_line_1(tmp_path):
    other = _write(tmp_path, "other.csv", "name,age", "x,1")
    for importer in (consul_csv, decidim_csv):
        batch, problems = importer.read([other], SETTINGS)
        assert batch.documents == {}
        assert [p.line for p in problems] == [1]
        assert "header lacks" in problems[0].reason


def test_a_file_that_is_not_utf8_is_reported_at_the_offending_line(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_bytes((DECIDIM_COMMENTS_HEADER + "\n" + _comment("1") + "\n").encode() + "2;caf\xe9\n".encode("latin-1"))
    batch, problems = decidim_csv.read([path], SETTINGS)
    assert batch.documents == {}
    assert [(p.line, p.reason.startswith("not UTF-8")) for p in problems] == [(3, True)]


def test_an_unclosed_quote_is_reported_with_how_far_it_runs(tmp_path):
    path = _write(tmp_path, "comments.csv", DECIDIM_COMMENTS_HEADER, _comment("1"),
                  _comment("2", body='"never closed'), _comment("3"), _comment("4"))
    batch, problems = decidim_csv.read([path], SETTINGS)
    assert _ids(batch, "Comment") == {"decidim-comment-1"}
    assert [p.line for p in problems] == [3]
    assert "expected 15 columns, found 3" in problems[0].reason
    assert "runs to line 5" in problems[0].reason  # the two rows it swallowed are not lost silently


# ---------------------------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(("value", "time_of_day", "zone", "expected"), [
    ("2016-07-29 10:58:41 UTC", "", UTC, "2016-07-29T10:58:41Z"),
    ("2016-07-29T10:58:41.250+02:00", "", UTC, "2016-07-29T10:58:41.250000+02:00"),
    ("2016-07-29 10:58:41 +0200", "", UTC, "2016-07-29T10:58:41+02:00"),
    ("2015-09-15", "", UTC, "2015-09-15T00:00:00Z"),
    ("2015-09-15", "0 days 10:50:19", ZoneInfo("Europe/Madrid"), "2015-09-15T10:50:19+02:00"),
    ("2015-12-15", "0 days 10:50:19", ZoneInfo("Europe/Madrid"), "2015-12-15T10:50:19+01:00"),
    ("2015-09-15", "1 days 00:00:05", UTC, "2015-09-16T00:00:05Z"),
])
def test_timestamps_of_real_exports(value, time_of_day, zone, expected):
    assert timestamp(value, time_of_day, zone) == expected


@pytest.mark.parametrize(("value", "time_of_day"), [
    ("", ""), ("29/07/2016", ""), ("2016-02-30", ""), ("2016-07-29 10:58:41 UTC", "0 days 10:00:00"),
    ("2016-07-29", "10 o'clock"),
])
def test_impossible_timestamps_are_row_errors(value, time_of_day):
    with pytest.raises(RowError):
        timestamp(value, time_of_day)


def test_a_record_spanning_lines_keeps_the_line_it_starts_on(tmp_path):
    path = _write(tmp_path, "t.csv", "a;b", '1;"x\n\ny"', "", "2;z", bom=True)
    table = read_table(path)
    assert table.header == ["a", "b"]
    assert [(row.line, row.get("a")) for row in table.rows] == [(2, "1"), (6, "2")]


def test_junk_is_a_probe_not_a_short_comment():
    assert is_junk("../../Windows/system.ini") and is_junk("/etc/passwd") and is_junk("..\\..\\..\\boot.ini")
    assert not any(is_junk(text) for text in ("Hola", "👏.", "Me gusta", "Vegeu ../../ per a més", ""))


def test_redaction_replaces_whole_words_only():
    assert redact("Ann here: Annual plan", "Ann", "Participant 1") == "Participant 1 here: Annual plan"
    assert redact("nothing", "", "x") == "nothing"


def test_text_html_keeps_paragraphs_and_drops_active_content():
    assert text_html("a\nb\n\nc") == "<p>a<br>b</p><p>c</p>"
    assert text_html("<p>x</p>\n<p>y</p>") == "<p>x</p>\n<p>y</p>"
    assert text_html('<a href="javascript:alert(1)" onclick="x">l</a><img src=x onerror=alert(1)>') == (
        '<a rel="noopener noreferrer nofollow">l</a>')


@pytest.mark.parametrize("html, text", [
    ("<p>a \t b   c</p><p> d </p>", "a b c\nd"),
    ("one two<br>three&amp;four", "one two\nthree&four"),
    ("x\ry\x0bz", "x\ny\nz"),
    ("<ul><li>  first</li><li>second\t</li></ul>", "first\nsecond"),
])
def test_plain_text_has_one_space_between_words_and_one_line_per_block(html, text):
    assert plain_text(html) == text
