"""Digest subscriptions: subscribe (double opt-in), confirm, preferences and unsubscribe
(also RFC 8058 one-click), all by signed links, no account. Thin views over
`hitwatch.digest.delivery`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hitwatch.alerts.mail import alert_links
from hitwatch.channels.formats import wording as channel_wording
from hitwatch.digest.build import DigestKind, period_word
from hitwatch.digest.channels import set_subscriber_channels, subscriber_channels
from hitwatch.digest.delivery import (
    confirm_subscriber,
    request_subscription,
    unsubscribe,
    update_preferences,
)
from hitwatch.digest.mail import (
    CONFIRM,
    CONFIRM_MAX_AGE,
    PREFERENCES,
    PREFERENCES_MAX_AGE,
    UNSUBSCRIBE,
    UNSUBSCRIBE_MAX_AGE,
    TokenError,
    read_token,
)
from hitwatch.digest.workflow import (
    DigestError,
)
from hitwatch.mail import open_transport
from hitwatch.store.models import Article, DigestSubscriber
from webapp.dependencies import dependencies
from webapp.digests.labels import kind_labels

__all__ = ["bp"]

bp = Blueprint("subscriptions", __name__, template_folder="templates")


def _choices(session: Session) -> tuple[list[str], list[str]]:
    """Topics and document types that occur in recent relevant articles."""
    rows = session.execute(
        select(Article.topics, Article.doc_type)
        .where(Article.relevant.is_(True))
        .order_by(Article.indexed_at.desc())
        .limit(2000)
    ).all()
    topics = {str(t.get("name")) for row in rows for t in (row[0] or []) if isinstance(t, dict)}
    doc_types = {row[1] for row in rows if row[1]}
    return sorted(topics - {"None"}), sorted(doc_types)


@bp.route("/digests/subscribe", methods=["GET", "POST"])
def subscribe() -> str | BaseResponse:
    deps = dependencies()
    with deps.database.session() as session:
        topics, doc_types = _choices(session)
    if request.method == "GET":
        return render_template(
            "digests/subscribe.html",
            topics=topics,
            doc_types=doc_types,
            kinds=kind_labels(deps.settings),
        )
    form = request.form
    kind: DigestKind = "weekly" if form.get("kind") == "weekly" else "monthly"
    try:
        request_subscription(
            deps.database,
            deps.settings,
            open_transport(deps.settings),
            form.get("email", ""),
            kind=kind,
            topics=tuple(form.getlist("topics")),
            doc_types=tuple(form.getlist("doc_types")),
            confirm_url=lambda token: url_for("subscriptions.confirm", token=token, _external=True),
        )
    except DigestError:
        flash("请填写正确的邮箱地址。", "error")
        return redirect(url_for("subscriptions.subscribe"))
    except OSError:
        flash(
            "确认邮件暂时发不出去，请稍后再试；若一直失败，请联系管理员检查邮件服务器设置。",
            "error",
        )
        return redirect(url_for("subscriptions.subscribe"))
    flash("确认邮件已发出：请打开邮件中的链接完成订阅（7 天内有效）。", "success")
    return redirect(url_for("digests.index"))


def _token_subscriber(token: str, purpose: str, max_age: int) -> int:
    try:
        return read_token(
            dependencies().settings.secret_key.get_secret_value(), purpose, token, max_age
        )
    except TokenError:
        abort(400, description="链接无效或已过期：请从邮件中复制完整链接，或重新订阅。")


@bp.get("/digests/confirm/<token>")
def confirm(token: str) -> str:
    subscriber_id = _token_subscriber(token, CONFIRM, CONFIRM_MAX_AGE)
    try:
        confirm_subscriber(dependencies().database, subscriber_id)
    except DigestError:
        abort(400, description="这个订阅已不存在，请重新订阅。")
    return render_template("digests/subscription.html", state="confirmed")


@bp.route("/digests/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe_page(token: str) -> str:
    """GET asks (mail scanners open links); the button POSTs and unsubscribes."""
    subscriber_id = _token_subscriber(token, UNSUBSCRIBE, UNSUBSCRIBE_MAX_AGE)
    if request.method == "POST":
        unsubscribe(dependencies().database, subscriber_id)
        return render_template("digests/subscription.html", state="unsubscribed")
    return render_template("digests/subscription.html", state="ask", token=token)


@bp.post("/digests/unsubscribe/<token>/one-click")
def one_click_unsubscribe(token: str) -> tuple[str, int]:
    """RFC 8058 one-click unsubscribe, POSTed by the mail client (no form, no cookie)."""
    subscriber_id = _token_subscriber(token, UNSUBSCRIBE, UNSUBSCRIBE_MAX_AGE)
    unsubscribe(dependencies().database, subscriber_id)
    return "unsubscribed", 200


@bp.route("/digests/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str) -> str | BaseResponse:
    """A subscriber's settings, reached through the signed link in every issue: monthly or
    weekly, topics, document types; and unsubscribing. No account, no login."""
    subscriber_id = _token_subscriber(token, PREFERENCES, PREFERENCES_MAX_AGE)
    deps = dependencies()
    if request.method == "POST":
        form = request.form
        if form.get("action") == "unsubscribe":
            unsubscribe(deps.database, subscriber_id)
            return render_template("digests/subscription.html", state="unsubscribed")
        kind: DigestKind = "weekly" if form.get("kind") == "weekly" else "monthly"
        try:
            update_preferences(
                deps.database,
                subscriber_id,
                kind=kind,
                topics=tuple(form.getlist("topics")),
                doc_types=tuple(form.getlist("doc_types")),
            )
            set_subscriber_channels(
                deps.database,
                subscriber_id,
                [int(value) for value in form.getlist("channel") if value.isdigit()],
            )
        except DigestError:
            abort(404, description="这个订阅已不存在，请重新订阅。")
        flash(f"已保存：今后按新的设置发送{period_word(kind, deps.settings)}。", "success")
        return redirect(url_for("subscriptions.preferences", token=token))
    with deps.database.session() as session:
        subscriber = session.get(DigestSubscriber, subscriber_id)
        if subscriber is None:
            abort(404, description="这个订阅已不存在，请重新订阅。")
        topics, doc_types = _choices(session)
        chosen_topics = [str(t) for t in subscriber.topics or []]
        chosen_types = [str(t) for t in subscriber.doc_types or []]
        email = subscriber.email
    channels, chosen_channels = subscriber_channels(deps.database, subscriber_id)
    # The signed link proves the address, as the alert management link does.
    manage_url = alert_links(request.host_url, deps.settings.secret_key.get_secret_value()).manage(
        email
    )
    return render_template(
        "digests/preferences.html",
        subscriber=subscriber,
        token=token,
        topics=sorted({*topics, *chosen_topics}),
        doc_types=sorted({*doc_types, *chosen_types}),
        chosen_topics=chosen_topics,
        chosen_types=chosen_types,
        kinds=kind_labels(deps.settings),
        channels=channels,
        chosen_channels=chosen_channels,
        channel_kinds=channel_wording()["kinds"],
        manage_url=manage_url,
    )
