"""Logging in and out, one's own account (password, API tokens, alerts), password links."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from hitwatch.accounts import (
    PASSWORD_RESET_MAX_AGE,
    AccountError,
    authenticate,
    create_api_token,
    find_user,
    list_api_tokens,
    make_password_link,
    record_event,
    revoke_api_token,
    set_password,
    user_for_password_link,
)
from hitwatch.alerts.mail import alert_links
from hitwatch.mail import open_transport
from hitwatch.store.models import AlertRule, DigestSubscriber, User
from webapp.access import SignedInUser, actor, client_address, safe_next, start_session
from webapp.dependencies import dependencies

__all__ = ["bp"]

log = logging.getLogger(__name__)

bp = Blueprint("account", __name__)

ROLE_LABELS = {"reader": "读者", "editor": "编辑", "admin": "管理员"}
SUBSCRIPTION_LABELS = {"pending": "待确认", "active": "已订阅", "unsubscribed": "已退订"}
BAD_LOGIN = "邮箱或密码不正确。"
MISMATCH = "两次输入的新密码不一致。"
WRONG_CURRENT = "当前密码不正确。"


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target)
        return render_template("account/login.html", next=target)
    email = request.form.get("email", "").strip().lower()
    deps = dependencies()
    with deps.database.session() as session:
        user = authenticate(session, email, request.form.get("password", ""))
        if user is None:
            record_event(session, "login_failed", actor="", target=email, address=client_address())
        else:
            record_event(session, "login", actor=user.email, address=client_address())
            signed_in = SignedInUser.of(user)
    if user is None:
        log.info("failed login for %s from %s", email, client_address())
        return render_template("account/login.html", next=target, email=email, error=BAD_LOGIN)
    start_session(signed_in)
    flash(f"欢迎，{signed_in.name}。", "success")
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    with dependencies().database.session() as session:
        record_event(session, "logout", actor=actor(), address=client_address())
    logout_user()
    flash("已退出登录。", "success")
    return redirect(url_for("browse.index"))


def _account_page(**extra: object) -> str:
    deps = dependencies()
    with deps.database.session() as session:
        user = session.get(User, current_user.id)
        if user is None:
            abort(404)
        tokens = list_api_tokens(session, user)
        rules = session.scalars(
            select(AlertRule).where(AlertRule.email == user.email).order_by(AlertRule.id)
        ).all()
        subscriber = session.scalar(
            select(DigestSubscriber).where(DigestSubscriber.email == user.email)
        )
    # The account's own address: its signed management page (alerts and their channels).
    manage_url = alert_links(request.host_url, deps.settings.secret_key.get_secret_value()).manage(
        user.email
    )
    return render_template(
        "account/index.html",
        user=user,
        manage_url=manage_url,
        tokens=tokens,
        rules=rules,
        subscriber=subscriber,
        role_labels=ROLE_LABELS,
        subscription_labels=SUBSCRIPTION_LABELS,
        **extra,
    )


@bp.get("/account")
def index() -> str:
    return _account_page()


@bp.post("/account/password")
def change_password() -> str | Response | tuple[str, int]:
    form = request.form
    deps = dependencies()
    if form.get("new_password", "") != form.get("confirm_password", ""):
        return _account_page(password_error=MISMATCH), 400
    with deps.database.session() as session:
        user = authenticate(session, current_user.email, form.get("current_password", ""))
        if user is None:
            return _account_page(password_error=WRONG_CURRENT), 400
        try:
            set_password(session, user, form.get("new_password", ""))
        except AccountError as error:
            return _account_page(password_error=error.message), 400
        record_event(session, "password_change", actor=user.email, address=client_address())
        signed_in = SignedInUser.of(user)
    start_session(signed_in)  # the new epoch ends every other session of this account
    flash("密码已更改；其他设备上的登录已失效。", "success")
    return redirect(url_for("account.index"))


@bp.post("/account/tokens")
def create_token() -> str:
    with dependencies().database.session() as session:
        user = session.get(User, current_user.id)
        if user is None:
            abort(404)
        row, plain = create_api_token(session, user, request.form.get("name", "") or "API")
        record_event(session, "token_create", actor=user.email, target=f"token:{row.prefix}")
    # Shown in this response only: neither stored nor put in the session cookie.
    return _account_page(new_token=plain)


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    with dependencies().database.session() as session:
        user = session.get(User, current_user.id)
        if user is None:
            abort(404)
        try:
            row = revoke_api_token(session, user, token_id)
        except AccountError as error:
            flash(error.message, "error")
            return redirect(url_for("account.index"))
        record_event(session, "token_revoke", actor=user.email, target=f"token:{row.prefix}")
    flash("令牌已撤销，使用它的程序将无法再访问。", "success")
    return redirect(url_for("account.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> str | Response:
    if request.method == "GET":
        return render_template("account/forgot.html")
    deps = dependencies()
    email = request.form.get("email", "").strip().lower()
    with deps.database.session() as session:
        user = find_user(session, email)
        token = (
            make_password_link(deps.settings.secret_key.get_secret_value(), user) if user else ""
        )
    if user is not None:
        link = url_for("account.set_password", token=token, _external=True)
        message = EmailMessage()
        message["From"] = deps.settings.mail_from
        message["To"] = user.email
        message["Subject"] = "重设 hitwatch 密码"
        minutes = PASSWORD_RESET_MAX_AGE // 60
        message.set_content(
            render_template("account/reset_mail.txt", link=link, minutes=minutes, user=user)
        )
        try:
            open_transport(deps.settings).send(message)
        except OSError as error:
            log.error("password reset mail to %s not sent: %s", user.email, error)
            flash(
                "邮件暂时发不出去，请稍后再试，或请管理员用 hitwatch users link 生成链接。", "error"
            )
            return redirect(url_for("account.forgot_password"))
    # The same answer whether or not the address has an account.
    flash("如果这个邮箱有账号，重设密码的链接已发出（1 小时内有效，只能用一次）。", "success")
    return redirect(url_for("account.login"))


@bp.route("/password/<token>", methods=["GET", "POST"], endpoint="set_password")
def set_password_page(token: str) -> str | Response | tuple[str, int]:
    deps = dependencies()
    secret = deps.settings.secret_key.get_secret_value()
    with deps.database.session() as session:
        try:
            user = user_for_password_link(session, secret, token)
        except AccountError as error:
            return render_template("account/password.html", invalid=error.message), 400
        if request.method == "GET":
            return render_template("account/password.html", email=user.email, token=token)
        form = request.form
        error_text = ""
        if form.get("new_password", "") != form.get("confirm_password", ""):
            error_text = MISMATCH
        else:
            try:
                set_password(session, user, form.get("new_password", ""))
            except AccountError as error:
                error_text = error.message
        if error_text:
            return render_template(
                "account/password.html", email=user.email, token=token, error=error_text
            ), 400
        record_event(session, "password_reset", actor=user.email, address=client_address())
    logout_user()
    flash("密码已设置，请用新密码登录。", "success")
    return redirect(url_for("account.login"))
