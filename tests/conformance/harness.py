"""The Solid CRUD test suite (npm ``solid-crud-tests``) against a real node, in the free-RDF area of one pod.

The suite logs in by WebID-OIDC or writes anonymously to a public container; a pod takes neither, only its
bearer token. So the suite talks to a small loopback proxy that adds the pod's token to every request and passes
everything else through unchanged. The node's ``base_url`` is the proxy's address, so the IRIs the pod writes
(``Location``, ``ldp:contains``) are the ones the suite asked for. Its websocket tests (``solid-0.1``) connect to
the ``Updates-Via`` the node answers, which is the node's own websocket port, not the proxy's.

``python -m tests.conformance.harness`` installs nothing: ``make conformance`` runs ``npm ci`` here first. It
prints one line per failed test, then ``N passed, N failed, N skipped``; the exit status is 0 when the suite ran.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import requests

from dds_pod.testing import TOKENS, Loopback, QuietHandler, ServerProcess, free_port, write_config

HERE = Path(__file__).resolve().parent
SUITE = HERE / "node_modules" / "solid-crud-tests"
JEST = HERE / "node_modules" / ".bin" / "jest"
POD = "bordeaux"
FREE_AREA = "apps/"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
              "authorization"}  # a client's own credentials are replaced by the pod's token
SUITE_TIMEOUT_S = 900
PROFILE = "<#me> <http://www.w3.org/ns/pim/space#storage> <{storage}> ."


@dataclass
class Outcome:
    """What one run of the suite gave: counts and the names of the failed tests with their first message line."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def token_proxy(target_port: int, token: str) -> type[BaseHTTPRequestHandler]:
    """A request handler that forwards each request to ``127.0.0.1:target_port`` with ``token`` as its bearer."""

    class TokenProxy(QuietHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Authorization"] = f"Bearer {token}"
            upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
            finally:
                upstream.close()
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward

    return TokenProxy


def run(directory: Path) -> Outcome:
    """Start a node whose ``bordeaux`` pod has a free-RDF area, run the suite in it through the token proxy."""
    if not JEST.exists():
        raise FileNotFoundError(f"{JEST} is missing: run `npm ci --prefix {HERE}` (make conformance does)")
    server_port = free_port()
    proxy = Loopback(token_proxy(server_port, TOKENS[POD]))
    proxy_port = proxy.server.server_address[1]
    config = write_config(directory, proxy_port, free_rdf=[FREE_AREA])
    server = ServerProcess(config, server_port, directory / "server.log").start()
    try:
        return _suite(proxy.url, directory)
    finally:
        server.stop()
        proxy.close()


def _suite(root: str, directory: Path) -> Outcome:
    storage = f"{root}{POD}/{FREE_AREA}"
    webid_document = f"{storage}profile/card"
    written = requests.put(webid_document, data=PROFILE.format(storage=f"{root}{POD}/").encode(),
                           headers={"Content-Type": "text/turtle"}, timeout=10)
    written.raise_for_status()
    results = directory / "results.json"
    env = {**os.environ, "SERVER_ROOT": root.rstrip("/"), "STORAGE_ROOT": storage.rstrip("/"),
           "ALICE_WEBID": f"{webid_document}#me", "INCLUDE_MAY": "1"}
    tests = sorted(str(path) for path in (SUITE / "test" / "surface").glob("*.test.ts"))
    # The suite reads its fixtures from paths relative to its own directory.
    command = [str(JEST), "--config", str(HERE / "jest.config.js"), "--runInBand", "--forceExit", "--json",
               f"--outputFile={results}", "--runTestsByPath", *tests]
    subprocess.run(command, cwd=SUITE, env=env, capture_output=True, timeout=SUITE_TIMEOUT_S, check=False)
    if not results.exists():
        raise RuntimeError("the suite wrote no results; run jest by hand in tests/conformance to see why")
    return outcome(json.loads(results.read_text(encoding="utf-8")))


def outcome(report: dict) -> Outcome:
    """The counts of a jest ``--json`` report and its failed tests."""
    counted = Outcome(report["numPassedTests"], report["numFailedTests"],
                      report["numPendingTests"] + report["numTodoTests"])
    for suite in report["testResults"]:
        for test in suite["assertionResults"]:
            if test["status"] == "failed":
                message = (test["failureMessages"] or [""])[0].strip().splitlines()
                counted.failures.append(f"{test['fullName']}: {message[0] if message else ''}")
    return counted


def main() -> int:
    directory = Path(tempfile.mkdtemp(prefix="dds-conformance-"))
    try:
        result = run(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    for failure in result.failures:
        print(f"FAILED {failure}")
    print(f"conformance: {result.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
