"""The web app: the publish end of crawl -> classify -> index -> publish.

It reads what the indexer wrote (the store of record and the search index) and shows it:
latest items, search, source health, failures (with replay), the monthly digest. It never
imports another service; replaying a failure sends a named task through the broker.
Who may open what is one table, `webapp.access.ROUTES`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from hitwatch.search import SearchIndex
from hitwatch.settings import Settings
from hitwatch.store import Database
from webapp.dependencies import Dependencies, TaskSender

__all__ = ["create_app"]


def _blueprints() -> list[Blueprint]:
    """Every page group of the app, one module (and template folder) each."""
    from webapp import (
        account,
        admin,
        alerts,
        api,
        browse,
        failures,
        health,
        mailbox,
        metrics,
        policies,
        search,
        sources,
    )
    from webapp.digests import editor, subscriptions

    return [
        browse.bp,
        search.bp,
        policies.bp,
        api.bp,
        sources.bp,
        failures.bp,
        editor.bp,
        subscriptions.bp,
        alerts.bp,
        account.bp,
        admin.bp,
        mailbox.bp,
        health.bp,
        metrics.bp,
    ]


def create_app(
    settings: Settings | None = None,
    *,
    search_index: SearchIndex | None = None,
    database: Database | None = None,
    celery: TaskSender | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """Build the app; whatever is not passed in is opened from `settings`.

    `celery` sends replayed failures; by default a Celery app on the settings' Redis is
    created on first use, so pages that never replay anything never touch the broker.
    """
    from hitwatch.search import open_search_index
    from hitwatch.settings import load_settings
    from hitwatch.store import open_database
    from webapp import access, headers, layout, limits

    settings = settings or load_settings()
    if database is None:
        database = open_database(settings.resolved_database_url)
    if search_index is None:
        search_index = open_search_index(settings)
        search_index.ensure()

    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=1_000_000,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    headers.init_app(app, settings)
    if test_config:
        app.config.update(test_config)
    app.extensions["hitwatch"] = Dependencies(settings, database, search_index, celery)

    access.init_app(app)  # first: a refused request stops before the form check
    layout.init_app(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    limits.init_app(app, settings.resolved_redis_url)
    return app
