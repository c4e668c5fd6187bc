"""What every page shares: navigation, date filters, error pages, form protection."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from typing import Any

import sqlalchemy.exc
from flask import Flask, abort, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from webapp.access import may_open
from webapp.dependencies import dependencies
from webapp.display import ENTITY_LABELS, SOURCE_KINDS, local_time, paragraphs

__all__ = ["csrf_token", "init_app"]

log = logging.getLogger(__name__)

# (endpoint, label) of the navigation bar; entries whose blueprint is absent are left out.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("browse.index", "最新信息"),
    ("search.index", "搜索"),
    ("policies.index", "政策跟踪"),
    ("digests.index", "月报"),
    ("alerts.index", "提醒"),
    ("sources.index", "信息源状态"),
    ("failures.index", "失败记录"),
    ("admin.users", "账号"),
    ("admin.audit", "审计"),
    ("mailbox.index", "邮件"),
)

_GROUP_SIZES = Counter(endpoint.split(".")[0] for endpoint, _ in NAVIGATION)

DATABASE_DOWN = "数据库不可用或尚未初始化：运行 hitwatch migrate（或 hitwatch run）后刷新本页。"


def csrf_token() -> str:
    """A per-session token that every POST form carries, so other sites cannot post here."""
    token = session.get("csrf_token")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf_token"] = token
    return token


# RFC 8058 one-click unsubscribe: mail clients POST without our form token; the signed
# token in the URL is the proof instead.
CSRF_EXEMPT = frozenset({"subscriptions.one_click_unsubscribe", "alerts.one_click_unsubscribe"})


def _check_csrf() -> None:
    if request.method != "POST" or request.endpoint in CSRF_EXEMPT:
        return
    expected = session.get("csrf_token")
    given = request.form.get("csrf_token", "")
    if not expected or not secrets.compare_digest(str(expected), given):
        abort(400, description="表单已过期，请刷新页面后重试。")


def _navigation() -> list[dict[str, Any]]:
    items = []
    blueprint = request.blueprint or ""
    demo_mail = dependencies().settings.mail_catcher
    for endpoint, label in NAVIGATION:
        if not may_open(endpoint) or (endpoint == "mailbox.index" and not demo_mail):
            continue
        try:
            href = url_for(endpoint)
        except BuildError:
            continue
        group = endpoint.split(".")[0]
        # A page group with one entry lights it on all its pages; one with several
        # (admin) lights the entry of the page shown.
        active = endpoint == request.endpoint if _GROUP_SIZES[group] > 1 else group == blueprint
        items.append({"href": href, "label": label, "active": active})
    return items


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error_page(status: int, message: str) -> tuple[Any, int]:
    if _wants_json():
        return {"error": message, "status": status}, status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(paragraphs, "paragraphs")
    app.jinja_env.globals.update(source_kinds=SOURCE_KINDS, entity_labels=ENTITY_LABELS)
    app.before_request(_check_csrf)

    @app.context_processor
    def _layout() -> dict[str, Any]:
        return {
            "navigation": _navigation(),
            "csrf_token": csrf_token,
        }

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Any, int]:
        messages = {
            403: "没有权限：这个页面或操作需要更高的角色。如需开通，请联系管理员。",
            404: "找不到这个页面或条目：它可能已被删除，或链接有误。可回到最新信息或使用搜索。",
            405: "不支持这种请求方式。",
            429: "操作过于频繁：为防止滥用，请稍后再试。",
        }
        status = error.code or 500
        message = messages.get(status) or error.description or "请求有误。"
        return _error_page(status, message)

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.ProgrammingError)
    def _database_error(error: Exception) -> tuple[Any, int]:
        log.error("database error on %s: %s", request.path, error)
        return _error_page(503, DATABASE_DOWN)
