"""The parts of the Solid CRUD harness that decide what the suite sees: the token proxy and the report reading."""

from __future__ import annotations

import json

import requests

from dds_pod.testing import Loopback, QuietHandler
from tests.conformance import harness


class Echo(QuietHandler):
    """Answers what it received: method, path, Authorization and body, with status 404 for /missing."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path, "auth": self.headers.get("Authorization"),
                           "body": self.rfile.read(length).decode()}).encode()
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Link", '<http://www.w3.org/ns/ldp#Resource>; rel="type"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_DELETE = _answer


def test_the_proxy_replaces_any_credentials_with_the_pods_token_and_passes_the_rest():
    upstream = Loopback(Echo)
    proxy = Loopback(harness.token_proxy(upstream.server.server_address[1], "the-token"))
    try:
        put = requests.put(f"{proxy.url}a/b?x=1", data=b"<> <p> <o> .", timeout=5,
                           headers={"Authorization": "Bearer stolen", "Content-Type": "text/turtle"})
        assert put.json() == {"method": "PUT", "path": "/a/b?x=1", "auth": "Bearer the-token", "body": "<> <p> <o> ."}
        assert put.headers["Link"] == '<http://www.w3.org/ns/ldp#Resource>; rel="type"'
        missing = requests.get(f"{proxy.url}missing", timeout=5)
        assert missing.status_code == 404 and missing.json()["auth"] == "Bearer the-token"
        head = requests.head(f"{proxy.url}a", timeout=5)
        assert head.status_code == 200 and head.content == b""
    finally:
        proxy.close()
        upstream.close()


def test_a_jest_report_gives_counts_and_the_failed_tests_first_lines():
    report = {"numPassedTests": 2, "numFailedTests": 1, "numPendingTests": 3, "numTodoTests": 0, "testResults": [
        {"assertionResults": [
            {"status": "passed", "fullName": "creates", "failureMessages": []},
            {"status": "failed", "fullName": "Delete deletes", "failureMessages": ["Error: 404 expected\n  at x"]},
            {"status": "pending", "fullName": "WPS", "failureMessages": []}]}]}
    result = harness.outcome(report)
    assert (result.passed, result.failed, result.skipped) == (2, 1, 3)
    assert result.failures == ["Delete deletes: Error: 404 expected"]
    assert result.summary() == "2 passed, 1 failed, 3 skipped"
