"""The CSV import commands against a real pod: real files, bad rows, --strict."""

from __future__ import annotations

import subprocess
import sys

import requests

from dds_pod.testing import TOKENS

from ..conftest import DATA, REPO
from .conftest import ACCEPT_JSONLD

REAL = DATA / "real"
KEY = {"DDS_PSEUDONYM_KEY": "csv-import-test-key-0123456789", "PATH": "/usr/bin"}


def _run(kind: str, files, pod: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", "import", kind, *map(str, files), "--pod", pod,
                           "--token", TOKENS["paris"], *extra], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env=KEY)


def test_barcelona_projects_and_result_comments(base):
    files = sorted((REAL / "decidim_barcelona_open_data").glob("*.csv"))
    result = _run("decidim-csv", files, f"{base}paris/")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    created = int(result.stdout.split("created ")[1].split(",")[0])
    assert created >= 220 + 87, result.stdout
    project = requests.get(f"{base}paris/proposals/decidim-project-1", headers=ACCEPT_JSONLD, timeout=10).json()
    assert project["@type"] == "BudgetProject" and float(project["estimatedCost"]) == 18000
    assert project["supportCount"] == 60 and set(project["title"]) == {"ca", "es"}
    comment = requests.get(f"{base}paris/comments/decidim-comment-18673", headers=ACCEPT_JSONLD, timeout=10).json()
    assert comment["stance"] == "neutral" and comment["content"] == {"es": "Prohibir el escape libre de las "
                                                                          "motocicletas en Barcelona ."}
    author = requests.get(comment["author"], headers=ACCEPT_JSONLD, timeout=10).json()
    assert author["name"].startswith("Participant ")
    again = _run("decidim-csv", files, f"{base}paris/")
    assert "created 0, updated 0" in again.stdout, again.stdout


def test_bad_rows_are_reported_and_strict_writes_nothing(base, tmp_path):
    proposals = tmp_path / "proposals.csv"
    proposals.write_text(
        ",id,url,code,title,userId,date,summary,text,numComments,status,numSupports,isAssociation\n"
        "0,1,/proposals/1-a,MAD-2099-01-1,Un banco,1,2019-01-02,Resumen.,Texto.,0,open,3,0\n"
        "1,2,/proposals/2-b,MAD-2099-01-2,Otro,2,not-a-date,Resumen.,Texto.,0,open,3,0\n", encoding="utf-8")
    strict = _run("consul-csv", [proposals], f"{base}paris/", "--strict")
    assert strict.returncode == 1 and "proposals.csv:3" in strict.stderr
    assert requests.get(f"{base}paris/proposals/mad-2099-01-1", timeout=5).status_code == 404
    lenient = _run("consul-csv", [proposals], f"{base}paris/")
    assert lenient.returncode == 1 and "proposals.csv:3" in lenient.stderr
    assert "created 2" in lenient.stdout  # the good proposal and its pseudonymous author
    assert requests.get(f"{base}paris/proposals/mad-2099-01-1", timeout=5).status_code == 200
