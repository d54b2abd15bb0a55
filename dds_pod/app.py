"""The application factory: builds the node from a configuration and registers the blueprints."""

from __future__ import annotations

from typing import cast

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from .config import Config
from .node import Node
from .store import Store
from .web import (
    analysis,
    batch,
    cors,
    decidim,
    federation,
    interface,
    ldp,
    notifications,
    problems,
    sparql,
    standard,
    statistics,
    subscriptions,
)
from .web.cache import NodeCache


def create_app(config: Config, store: Store | None = None) -> Flask:
    # The interface's templates and static files live with the web layer that serves them.
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # Flask types app.json as the abstract provider; an app it builds has its DefaultJSONProvider.
    cast(DefaultJSONProvider, app.json).ensure_ascii = False
    node = Node(config, store=store)
    app.extensions["dds.node"] = node
    app.extensions["dds.cache"] = NodeCache()
    app.before_request(node.ensure_ready)  # a 503 problem while the store has not answered yet
    app.register_blueprint(standard.bp)
    interface.register(app)
    app.register_blueprint(federation.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(decidim.bp)
    app.register_blueprint(batch.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(analysis.bp)
    app.register_blueprint(ldp.bp)
    problems.register(app, constrained_by=node.shapes_url)
    cors.register(app, trusted_origins=config.cors_origins)
    return app
