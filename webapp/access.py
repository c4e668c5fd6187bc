"""Who is asking and what they may do: logins, API tokens, and one table of every route.

Every endpoint of the app is in ROUTES with the access it needs; a request to an
endpoint missing from it is refused (and a test fails), so a new route cannot be left
open by accident. Checks run on the server before the view, whatever the page shows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, flash, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from hitwatch.accounts import Role, user_for_api_token
from hitwatch.store.models import User
from webapp.dependencies import dependencies

__all__ = [
    "ROUTES",
    "TOKEN_ENDPOINTS",
    "Access",
    "SignedInUser",
    "actor",
    "client_address",
    "has_role",
    "init_app",
    "may_open",
    "require_role",
    "safe_next",
    "start_session",
]

log = logging.getLogger(__name__)


class Access(StrEnum):
    """What a route needs, from open to closed."""

    PUBLIC = "public"  # anyone, always: logging in, password links, health, static files
    SIGNED = "signed"  # anyone: the signed token in the link is the permission
    READ = "read"  # anyone when READ_ACCESS=public, else an account (or an API token)
    ACCOUNT = "account"  # any signed-in account
    EDITOR = "editor"  # editors and admins
    ADMIN = "admin"  # admins


ROUTES: dict[str, Access] = {
    "static": Access.PUBLIC,
    "account.login": Access.PUBLIC,
    "account.forgot_password": Access.PUBLIC,
    "account.set_password": Access.PUBLIC,
    "account.logout": Access.ACCOUNT,
    "account.index": Access.ACCOUNT,
    "account.change_password": Access.ACCOUNT,
    "account.create_token": Access.ACCOUNT,
    "account.revoke_token": Access.ACCOUNT,
    "api.health": Access.PUBLIC,
    "status.index": Access.PUBLIC,
    "api.openapi": Access.PUBLIC,
    "api.items": Access.READ,
    "api.item": Access.READ,
    "api.search": Access.READ,
    "browse.index": Access.READ,
    "browse.item": Access.READ,
    "search.index": Access.READ,
    "search.feed": Access.READ,
    "policies.index": Access.READ,
    "policies.policy": Access.READ,
    "policies.feed": Access.READ,
    # Drafts are for editors: the issue and download views check the state.
    "digests.index": Access.READ,
    "digests.issue": Access.READ,
    "digests.download": Access.READ,
    "digests.feed": Access.READ,
    "subscriptions.subscribe": Access.READ,
    "subscriptions.confirm": Access.SIGNED,
    "subscriptions.unsubscribe_page": Access.SIGNED,
    "subscriptions.one_click_unsubscribe": Access.SIGNED,
    "subscriptions.preferences": Access.SIGNED,
    "digests.build": Access.EDITOR,
    "digests.entry": Access.EDITOR,
    "digests.note": Access.EDITOR,
    "digests.add": Access.EDITOR,
    "digests.refresh": Access.EDITOR,
    "digests.publish": Access.EDITOR,
    "digests.correct": Access.EDITOR,
    "alerts.index": Access.READ,
    "alerts.new": Access.READ,
    "alerts.create": Access.READ,
    "alerts.manage_link": Access.READ,
    "alerts.confirm": Access.SIGNED,
    "alerts.manage": Access.SIGNED,
    "alerts.manage_action": Access.SIGNED,
    "alerts.channel_add": Access.SIGNED,
    "alerts.channel_action": Access.SIGNED,
    "alerts.unsubscribe": Access.SIGNED,
    "alerts.one_click_unsubscribe": Access.SIGNED,
    "sources.index": Access.ADMIN,
    "failures.index": Access.ADMIN,
    "failures.replay": Access.ADMIN,
    "admin.users": Access.ADMIN,
    "admin.add_user": Access.ADMIN,
    "admin.set_role": Access.ADMIN,
    "admin.remove_user": Access.ADMIN,
    "admin.audit": Access.ADMIN,
    "admin.settings": Access.ADMIN,
    # Prometheus scrapes with an admin's API token, or METRICS_ADDRESS without one.
    "metrics.index": Access.ADMIN,
    # The demo's caught mail (404 unless MAIL_CATCHER): subscribers' links are in it.
    "mailbox.index": Access.ADMIN,
    "mailbox.message": Access.ADMIN,
    "mailbox.html_part": Access.ADMIN,
}

# Machine readers (scripts, feed readers) prove themselves with a personal API token:
# `Authorization: Bearer hw_...`, or `?token=hw_...` where a feed reader cannot set headers.
TOKEN_ENDPOINTS = frozenset(
    {
        "api.items",
        "api.item",
        "api.search",
        "search.feed",
        "digests.feed",
        "metrics.index",
        "policies.feed",
    }
)

_NEEDED_ROLE = {
    Access.READ: Role.READER,
    Access.ACCOUNT: Role.READER,
    Access.EDITOR: Role.EDITOR,
    Access.ADMIN: Role.ADMIN,
}


@dataclass(frozen=True)
class SignedInUser:
    """The account behind a request, detached from the database session."""

    id: int
    email: str
    name: str
    role: Role
    session_epoch: int
    by_token: bool = False

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # The epoch changes with the password and the role, which ends older sessions.
        return f"{self.id}:{self.session_epoch}"

    @classmethod
    def of(cls, user: User, *, by_token: bool = False) -> SignedInUser:
        return cls(user.id, user.email, user.name, Role(user.role), user.session_epoch, by_token)


class Anonymous(AnonymousUserMixin):  # type: ignore[misc]
    email = ""
    name = ""
    role = None


def _load_user(session_id: str) -> SignedInUser | None:
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    with dependencies().database.session() as db:
        user = db.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return SignedInUser.of(user)


def _token_user(_request: Any) -> SignedInUser | None:
    if request.endpoint not in TOKEN_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = token or request.args.get("token", "")
    if not token:
        return None
    with dependencies().database.session() as db:
        user = user_for_api_token(db, token)
        return SignedInUser.of(user, by_token=True) if user else None


def client_address() -> str:
    return request.remote_addr or ""


def actor() -> str:
    """The acting account's e-mail, recorded on what it does (empty when anonymous)."""
    return str(current_user.email) if current_user.is_authenticated else ""


def has_role(role: Role) -> bool:
    return bool(current_user.is_authenticated and Role(current_user.role).allows(role))


def start_session(user: SignedInUser) -> None:
    """Begin a login: a fresh session (nothing carried over from before), timed from now."""
    session.clear()
    login_user(user)
    session["auth_at"] = session["seen_at"] = int(time.time())


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    if not target:
        return url_for("browse.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("browse.index")
    return target


def _expire_session() -> None:
    """End a login that was idle too long or began too long ago."""
    if "_user_id" not in session:
        return
    settings = dependencies().settings
    now = int(time.time())
    began = int(session.get("auth_at", 0))
    seen = int(session.get("seen_at", 0))
    if now - began > settings.session_max_hours * 3600 or (
        now - seen > settings.session_idle_minutes * 60
    ):
        logout_user()
        session.clear()
        flash("登录已过期，请重新登录。", "error")
    elif now - seen >= 60:  # rewrite the cookie at most once a minute
        session["seen_at"] = now


def _login_needed() -> Response:
    if request.path.startswith("/api/") or request.endpoint in TOKEN_ENDPOINTS:
        abort(401, description="需要登录，或在请求中带上个人 API 令牌（Authorization: Bearer …）。")
    flash("请先登录。", "error")
    return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


def require_role(role: Role) -> Response | None:
    """For checks that depend on the data (a draft is for editors): a response, or None."""
    if has_role(role):
        return None
    if not current_user.is_authenticated:
        return _login_needed()
    abort(403)


def may_open(endpoint: str) -> bool:
    """Whether the current user may open `endpoint` (the navigation hides the rest)."""
    access = ROUTES.get(endpoint, Access.ADMIN)
    if access in (Access.PUBLIC, Access.SIGNED):
        return True
    if access is Access.READ and dependencies().settings.read_access == "public":
        return True
    return has_role(_NEEDED_ROLE[access])


def _authorize() -> Response | None:
    _expire_session()
    endpoint = request.endpoint
    if endpoint is None:  # no such route: the 404 handler answers
        return None
    access = ROUTES.get(endpoint)
    if access is None:
        log.error("endpoint %s has no entry in webapp.access.ROUTES: refused", endpoint)
        abort(403)
    if may_open(endpoint):
        return None
    return require_role(_NEEDED_ROLE[access])


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.anonymous_user = Anonymous
    manager.user_loader(_load_user)
    manager.request_loader(_token_user)
    # Flask-Login would otherwise mark sessions by IP and browser; our epoch and expiry do
    # the work, and "strong" mode would log out users behind changing proxies.
    manager.session_protection = None
    app.before_request(_authorize)

    @app.context_processor
    def _access() -> dict[str, Any]:
        return {"current_user": current_user, "may_open": may_open, "Role": Role}
