"""Bearer-token authorization of writes: 401 without a valid token, 403 with another pod's."""

from __future__ import annotations

from flask import request

from ..errors import Forbidden, Unauthorized
from ..ldp.resources import Pod
from ..node import Node


def authorize(node: Node, pod: Pod) -> str:
    """The credential of the request if it may write to ``pod``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(f"writing to {pod.url} needs 'Authorization: Bearer <token>' of that pod")
    accepted = node.pods_accepting(token)
    if pod.config.name in accepted:
        return token
    if accepted:
        raise Forbidden(f"this token is not allowed to write to {pod.url}")
    raise Unauthorized("the bearer token is not valid")
