"""Administration: accounts and roles, the audit log, the effective settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hitwatch.accounts import (
    AUDIT_ACTIONS,
    PASSWORD_LINK_MAX_AGE,
    ROLES,
    AccountError,
    add_user,
    count_events,
    list_events,
    list_users,
    make_password_link,
    record_event,
    remove_user,
    set_role,
)
from hitwatch.store.models import User
from webapp.access import actor, client_address
from webapp.account import ROLE_LABELS
from webapp.dependencies import dependencies
from webapp.pagination import Pagination, page_number

__all__ = ["AUDIT_LABELS", "bp"]

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PER_PAGE = 50
AUDIT_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "password_change": "修改密码",
    "password_reset": "通过链接设置密码",
    "token_create": "创建 API 令牌",
    "token_revoke": "撤销 API 令牌",
    "user_add": "新建账号",
    "user_remove": "删除账号",
    "role_change": "更改角色",
    "digest_build": "生成月报草稿",
    "digest_publish": "发布月报",
    "digest_correct": "更正月报",
    "failure_replay": "重放失败记录",
}


def _users_page(**extra: object) -> str:
    with dependencies().database.session() as session:
        users = list_users(session)
    return render_template(
        "admin/users.html", users=users, roles=ROLES, role_labels=ROLE_LABELS, **extra
    )


@bp.get("/users")
def users() -> str:
    return _users_page()


@bp.post("/users", endpoint="add_user")
def add_user_view() -> str | tuple[str, int]:
    form = request.form
    deps = dependencies()
    try:
        with deps.database.session() as session:
            user = add_user(
                session, form.get("email", ""), form.get("role", ""), name=form.get("name", "")
            )
            record_event(
                session,
                "user_add",
                actor=actor(),
                target=user.email,
                address=client_address(),
                role=user.role,
            )
            token = make_password_link(
                deps.settings.secret_key.get_secret_value(), user, reset=False
            )
            email = user.email
    except AccountError as error:
        return _users_page(error=error.message), 400
    link = url_for("account.set_password", token=token, _external=True)
    # Shown once, to the admin who hands it over; it sets the first password, then is dead.
    return _users_page(new_user=email, link=link, link_hours=PASSWORD_LINK_MAX_AGE // 3600)


def _email_of(user_id: int) -> str:
    with dependencies().database.session() as session:
        user = session.get(User, user_id)
        return user.email if user else ""


@bp.post("/users/<int:user_id>/role", endpoint="set_role")
def set_role_view(user_id: int) -> Response:
    email = _email_of(user_id)
    role = request.form.get("role", "")
    try:
        with dependencies().database.session() as session:
            user = session.get(User, user_id)
            old = user.role if user else ""
            set_role(session, email, role)
            record_event(
                session,
                "role_change",
                actor=actor(),
                target=email,
                address=client_address(),
                old=old,
                new=role,
            )
    except AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"{email} 的角色已改为{ROLE_LABELS.get(role, role)}；其登录需重新进行。", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/remove", endpoint="remove_user")
def remove_user_view(user_id: int) -> Response:
    email = _email_of(user_id)
    try:
        with dependencies().database.session() as session:
            remove_user(session, email)
            record_event(
                session, "user_remove", actor=actor(), target=email, address=client_address()
            )
    except AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"已删除账号 {email}；其操作记录仍保留在审计日志中。", "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
def audit() -> str:
    action = request.args.get("action", "")
    action = action if action in AUDIT_ACTIONS else ""
    who = request.args.get("actor", "").strip()
    page = page_number(request.args.get("page"))
    with dependencies().database.session() as session:
        total = count_events(session, action=action or None, actor=who or None)
        pagination = Pagination(page, AUDIT_PER_PAGE, total)
        events = list_events(
            session,
            action=action or None,
            actor=who or None,
            offset=pagination.offset,
            limit=AUDIT_PER_PAGE,
        )
    return render_template(
        "admin/audit.html",
        events=events,
        pagination=pagination,
        action=action,
        actor=who,
        labels=AUDIT_LABELS,
    )


@bp.get("/settings")
def settings() -> str:
    values = dependencies().settings.masked()
    return render_template("admin/settings.html", values=sorted(values.items()))
