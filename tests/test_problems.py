"""The error handlers on a bare Flask application: what no route of the node can be made to do on purpose."""

from __future__ import annotations

from flask import Flask, Response

from dds_pod.web import problems


def make_app() -> Flask:
    app = Flask(__name__)

    @app.route("/crash")
    def crash() -> Response:
        raise RuntimeError("secret internals")

    @app.route("/bare")
    def bare() -> Response:
        return Response(status=409)

    @app.route("/report")
    def report() -> Response:
        return Response('{"rejected": {}}', status=422, mimetype="application/json")

    problems.register(app, constrained_by="http://127.0.0.1:1/shapes")
    return app


def test_an_unexpected_error_is_a_500_problem_document_without_internals():
    response = make_app().test_client().get("/crash")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 500 and body["title"] and body["detail"]
    assert "secret" not in response.get_data(as_text=True)


def test_a_bare_error_gets_a_problem_document_and_a_body_is_kept():
    client = make_app().test_client()
    response = client.get("/bare")
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 409 and response.get_json()["title"] == "Conflict"
    response = client.get("/report")
    assert response.mimetype == "application/json" and response.get_json() == {"rejected": {}}
