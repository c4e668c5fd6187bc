"""Who may do what: every registered route, walked as anonymous, reader, editor and admin.

The expectation is `webapp.access.ROUTES`, the one table of who may do what; the test
sends real requests (with a valid form token) and reads what the server did, so a view
that forgets its rule, or a new route that has none, fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.search.memory import InMemoryIndex
from hitwatch.settings import Settings
from hitwatch.store import Database, Failure
from hitwatch.store.models import DigestEntry, User
from tests.accounts import PASSWORD, form_token, make_user, sign_in
from tests.factories import FakeCelery
from tests.unit.digest.samples import END, START, store_bulletin
from webapp import create_app
from webapp.access import ROUTES, TOKEN_ENDPOINTS, Access

ROLES = ("anonymous", "reader", "editor", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}

# Whatever the table says, these stay closed: a guard against loosening it by mistake.
EDITORS_ONLY = {"digests.build", "digests.publish", "digests.correct", "digests.entry"}
ADMINS_ONLY = {
    "failures.index",
    "failures.replay",
    "admin.users",
    "admin.audit",
    "admin.settings",
    "metrics.index",
}
# Token endpoints for machines that are not readers: Prometheus with an admin's token.
ADMIN_TOKEN_ENDPOINTS = {"metrics.index"}


@dataclass
class World:
    """Ids of real rows, so each URL reaches its view's real work."""

    published: int
    draft: int
    entry: int
    failure: int
    spare_user: int


def _world(settings: Settings, database: Database) -> World:
    with database.session() as session:
        store_bulletin(session)
        published = build_draft(session, settings, START, END)
        publish_issue(session, published, settings)
        draft = build_draft(session, settings, START, END, "custom")
        entry = session.query(DigestEntry).filter_by(issue_id=draft.id).first()
        assert entry is not None
        failure = Failure(
            task_name="classifier.classify_item",
            item_key="https://example.org/a.html",
            payload={"url": "https://example.org/a.html"},
            error_type="ExtractionError",
            error_message="bad page",
            created_at=datetime(2024, 7, 2, tzinfo=UTC),
        )
        session.add(failure)
        session.flush()
        world = World(published.id, draft.id, entry.id, failure.id, 0)
    make_user(database, "reader", "spare@example.org")
    with database.session() as session:
        spare = session.query(User).filter_by(email="spare@example.org").one()
        world.spare_user = spare.id
    return world


def _url(rule: Rule, world: World) -> str:
    values = {
        "issue_id": world.published,
        "entry_id": world.entry,
        "failure_id": world.failure,
        "user_id": world.spare_user,
        "token_id": 1,
        "doc_id": "a1",
        "token": "not-a-real-token",
        "ext": "txt",
        "action": "include",
        "rule_id": 1,
        "channel_id": 1,
        "filename": "style.css",
        "message_id": "1765000000000-" + "0" * 32,
    }
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), path)
    if rule.endpoint == "digests.entry":  # entries belong to the draft
        path = path.replace(f"/digests/{world.published}/", f"/digests/{world.draft}/")
    return path


def _needed(access: Access, read_access: str) -> str:
    if access in (Access.PUBLIC, Access.SIGNED):
        return "anonymous"
    if access is Access.READ:
        return "anonymous" if read_access == "public" else "reader"
    return {Access.ACCOUNT: "reader", Access.EDITOR: "editor", Access.ADMIN: "admin"}[access]


def _refused(status: int, location: str) -> str:
    """'login' when sent to log in, 'forbidden' on 403, '' when the request went through."""
    if status == 401 or (status == 302 and location.startswith("/login?next=")):
        return "login"
    return "forbidden" if status == 403 else ""


@pytest.fixture(params=["public", "login"])
def walk(
    request, tmp_path, settings: Settings, database: Database
) -> Iterator[tuple[Flask, World]]:
    settings = settings.model_copy(update={"read_access": request.param, "mail_catcher": True})
    index = InMemoryIndex()
    index.ensure()
    world = _world(settings, database)
    app = create_app(
        settings,
        database=database,
        search_index=index,
        celery=FakeCelery(),
        test_config={"TESTING": True, "RATELIMIT_ENABLED": False},
    )
    yield app, world


def _clients(app: Flask, database: Database) -> dict[str, FlaskClient]:
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, database, role)
        clients[role] = client
    return clients


def _relogin(client: FlaskClient, role: str) -> None:
    client.post(
        "/login",
        data={
            "csrf_token": form_token(client),
            "email": f"{role}@example.org",
            "password": PASSWORD,
        },
    )


def test_every_route_has_exactly_one_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ROUTES.keys() == set(), (
        "routes without an access rule in webapp.access.ROUTES"
    )
    assert ROUTES.keys() - endpoints == set(), "rules for routes that no longer exist"
    readable = {e for e, access in ROUTES.items() if access is Access.READ}
    assert readable >= TOKEN_ENDPOINTS - ADMIN_TOKEN_ENDPOINTS
    for endpoint in EDITORS_ONLY:
        assert ROUTES[endpoint] in (Access.EDITOR, Access.ADMIN), endpoint
    for endpoint in ADMINS_ONLY:
        assert ROUTES[endpoint] is Access.ADMIN, endpoint


def test_every_route_answers_each_role_as_the_table_says(walk, database: Database) -> None:
    app, world = walk
    read_access = app.extensions["hitwatch"].settings.read_access
    clients = _clients(app, database)
    checked = 0
    mismatches = []
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint == "account.logout")
    for rule in rules:
        needed = _needed(ROUTES[rule.endpoint], read_access)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            url = _url(rule, world)
            for role in ROLES:
                client = clients[role]
                send: Callable[..., object] = client.get if method == "GET" else client.post
                data = {"csrf_token": form_token(client, "/login")} if method == "POST" else None
                response = send(url, data=data) if data else send(url)
                refused = _refused(response.status_code, response.headers.get("Location", ""))  # type: ignore[attr-defined]
                allowed = RANK[role] >= RANK[needed]
                expected = "" if allowed else ("login" if role == "anonymous" else "forbidden")
                if refused != expected:
                    mismatches.append(
                        f"{method} {url} as {role}: {response.status_code}, expected {expected or 'through'}"
                    )  # type: ignore[attr-defined]
                response.close()  # type: ignore[attr-defined]
                checked += 1
                if rule.endpoint == "account.logout" and role != "anonymous":
                    _relogin(client, role)
    assert not mismatches, "\n".join(mismatches)
    assert checked >= 4 * len(ROUTES)


def test_drafts_are_for_editors_only(walk, database: Database) -> None:
    app, world = walk
    clients = _clients(app, database)
    for path in (f"/digests/{world.draft}", f"/digests/{world.draft}.txt"):
        anonymous = clients["anonymous"].get(path)
        assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
        assert clients["reader"].get(path).status_code == 403
        assert clients["editor"].get(path).status_code == 200
    listing = clients["reader"].get("/digests").get_data(as_text=True)
    assert f"/digests/{world.published}" in listing and f"/digests/{world.draft}" not in listing
    assert "生成草稿" not in listing
    assert f"/digests/{world.draft}" in clients["editor"].get("/digests").get_data(as_text=True)
