"""`/metrics`: the Prometheus text format of every process on this host and shared state.

For admins (a login or an admin's API token); a Prometheus without an account scrapes
METRICS_ADDRESS instead (see `hitwatch.monitoring.serve_metrics`).
"""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hitwatch.monitoring import metrics_registry
from webapp.dependencies import dependencies

__all__ = ["bp"]

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def index() -> Response:
    deps = dependencies()
    body = generate_latest(metrics_registry(deps.settings, deps.database))
    return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
