"""The digest blueprints (editor and subscriptions) inside the web app's shared layout, without the other blueprints.

`webapp.create_app` registers every page group; these tests need only the digest pages
and the layout they extend, so the other groups' pages linked from the layout are
stand-ins here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

from webapp import layout
from webapp.dependencies import Dependencies
from webapp.digests import editor, subscriptions


class NoSearch:
    """The digest pages never search; any call to the index is a test failure."""

    def ensure(self) -> None:
        pass

    def __getattr__(self, name: str):
        raise AssertionError(f"digest pages must not use the search index ({name})")


def digest_app(settings, database) -> Flask:
    """The digest blueprints in the app's shared layout, with the pages that the layout
    links to (home, search, health) as stand-ins: those belong to other blueprints."""
    app = Flask("webapp", root_path=str(Path(layout.__file__).parent))
    app.config.update(SECRET_KEY="test", TESTING=True)
    app.extensions["hitwatch"] = Dependencies(settings, database, NoSearch())  # type: ignore[arg-type]
    layout.init_app(app)
    for name, rule, endpoint in (
        ("browse", "/", "index"),
        ("search", "/search", "index"),
        ("api", "/api/health", "health"),
    ):
        stand_in = Blueprint(name, __name__)
        stand_in.add_url_rule(rule, endpoint, lambda: "")
        app.register_blueprint(stand_in)
    app.register_blueprint(editor.bp)
    app.register_blueprint(subscriptions.bp)
    return app
