"""Alert pages: set up an alert for a search, confirm it, manage an address's alerts by its
signed link, unsubscribe (also RFC 8058 one-click). Thin views over `hitwatch.alerts`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hitwatch.alerts.mail import (
    CONFIRM,
    CONFIRM_MAX_AGE,
    MANAGE,
    MANAGE_MAX_AGE,
    UNSUBSCRIBE,
    UNSUBSCRIBE_MAX_AGE,
    AlertLinks,
    alert_links,
)
from hitwatch.alerts.posting import send_test
from hitwatch.alerts.rules import (
    AlertError,
    RuleChange,
    change_rule,
    confirm_rule,
    delete_rule,
    recent_posts,
    request_alert,
    request_manage_link,
    rule_channel_ids,
    rule_stats,
    rules_of,
    set_rule_channels,
    set_rule_timing,
    unsubscribe_rule,
)
from hitwatch.alerts.timing import TimingError
from hitwatch.channels import (
    KINDS,
    ChannelError,
    HttpPoster,
    Vault,
    add_channel,
    channels_of,
    delete_channel,
    resume_channel,
)
from hitwatch.channels.formats import wording as channel_wording
from hitwatch.errors import QueryError
from hitwatch.mail import AddressError, TokenError, open_transport, read_address_token, read_token
from webapp.dependencies import dependencies
from webapp.results import query_error

__all__ = ["bp"]

bp = Blueprint("alerts", __name__, template_folder="templates")

BAD_LINK = "链接无效或已过期：请从邮件中复制完整链接，或重新设置提醒。"
MAIL_DOWN = "邮件暂时发不出去，请稍后再试；若一直失败，请联系管理员检查邮件服务器设置。"
EMPTY_QUERY = "请填写查询：提醒至少需要一个关键词或筛选条件。"


def _secret() -> str:
    return dependencies().settings.secret_key.get_secret_value()


def _links() -> AlertLinks:
    return alert_links(request.host_url, _secret())


def _query_from(form: dict[str, str], extras: list[str]) -> str:
    """The query as typed plus the options' filters (e.g. `type:政策文件`), once each."""
    query = form.get("q", "").strip()
    for extra in extras:
        if extra and extra not in query.split():
            query = f"{query} {extra}".strip()
    return query


@bp.get("/alerts/new")
def new() -> str:
    values = {
        "include_offtopic": request.args.get("offtopic") == "1",
        "name": request.args.get("name", "")[:200],
    }
    return render_template("alerts/new.html", q=request.args.get("q", ""), values=values)


@bp.post("/alerts")
def create() -> tuple[str, int] | BaseResponse:
    form = request.form
    query = _query_from(form, form.getlist("extra"))
    values = {
        "email": form.get("email", ""),
        "name": form.get("name", ""),
        "include_offtopic": form.get("include_offtopic") == "1",
    }
    error, detail = "", ""
    if not query:
        error = EMPTY_QUERY
    else:
        deps = dependencies()
        try:
            asked = request_alert(
                deps.database,
                deps.settings,
                open_transport(deps.settings),
                values["email"],  # type: ignore[arg-type]
                query,
                name=str(values["name"]),
                include_offtopic=bool(values["include_offtopic"]),
                links=_links(),
            )
        except AddressError:
            error = "请填写正确的邮箱地址。"
        except QueryError as exc:
            error, detail = query_error(exc)
        except AlertError:
            error = "这个邮箱的提醒已达上限，请先在管理页面删除一些。"
        except OSError:
            error = MAIL_DOWN
    if error:
        return render_template(
            "alerts/new.html", q=query, values=values, error=error, error_detail=detail
        ), 400
    if asked.mailed:
        flash(
            "确认邮件已发出：请打开邮件中的链接启用提醒（7 天内有效）；"
            "如果这个提醒已经设置过，邮件里是管理链接。",
            "success",
        )
    else:
        flash(
            "这个提醒的邮件几分钟前已经发出，为免重复这次没有再发：请查收邮箱（包括垃圾邮件），"
            "若仍未收到，5 分钟后再试。",
            "info",
        )
    return redirect(url_for("search.index", q=query))


@bp.get("/alerts/confirm/<token>")
def confirm(token: str) -> str:
    rule_id = _rule_id(token, CONFIRM, CONFIRM_MAX_AGE)
    try:
        rule = confirm_rule(dependencies().database, rule_id)
    except AlertError:
        abort(400, description="这个提醒已不存在，请重新设置。")
    return render_template(
        "alerts/done.html", state="confirmed", rule=rule, manage_url=_links().manage(rule.email)
    )


def _rule_id(token: str, purpose: str, max_age: int) -> int:
    try:
        return read_token(_secret(), purpose, token, max_age)
    except TokenError:
        abort(400, description=BAD_LINK)


def _address(token: str) -> str:
    try:
        return read_address_token(_secret(), MANAGE, token, MANAGE_MAX_AGE)
    except TokenError:
        abort(400, description=BAD_LINK)


@bp.get("/alerts")
def index() -> str:
    return render_template("alerts/index.html")


@bp.post("/alerts/manage")
def manage_link() -> BaseResponse:
    """Mail the management link of an address to it, so only its owner gets it."""
    deps = dependencies()
    try:
        request_manage_link(
            deps.settings, open_transport(deps.settings), request.form.get("email", ""), _links()
        )
    except AddressError:
        flash("请填写正确的邮箱地址。", "error")
        return redirect(url_for("alerts.index"))
    except OSError:
        flash(MAIL_DOWN, "error")
        return redirect(url_for("alerts.index"))
    flash("管理链接已发到这个邮箱：请打开邮件中的链接。", "success")
    return redirect(url_for("alerts.index"))


@bp.get("/alerts/manage/<token>")
def manage(token: str) -> str:
    email = _address(token)
    return _manage_page(email, token)


WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CADENCE_LABELS = {"immediate": "有新信息即发", "hourly": "每小时汇总一次", "daily": "每天汇总一次"}
CHANNEL_ERRORS = {
    "kind": "请选择渠道类型。",
    "url": "请填写机器人或 Webhook 的地址（不超过 2000 个字符）。",
    "secret": "密钥太长（不超过 200 个字符）。",
    "refused": "这个地址不能使用：只能是 https 地址，且不能指向本机、内网或链路本地地址。",
    "unresolved": "这个地址的域名暂时解析不了，请检查后再试。",
    "too_many": "这个邮箱的渠道已达上限（20 个），请先删除一些。",
    "missing": "这个渠道已不存在。",
}


def _manage_page(email: str, token: str, **extra: object) -> str:
    database = dependencies().database
    rules = rules_of(database, email)
    rule_ids = [rule.id for rule in rules]
    return render_template(
        "alerts/manage.html",
        email=email,
        rules=rules,
        stats=rule_stats(database, rule_ids),
        channels=channels_of(database, email),
        links=rule_channel_ids(database, rule_ids),
        posts=recent_posts(database, rule_ids),
        kinds={kind: channel_wording()["kinds"][kind] for kind in KINDS},
        weekdays=WEEKDAYS,
        cadences=CADENCE_LABELS,
        token=token,
        **extra,
    )


@bp.post("/alerts/manage/<token>/<int:rule_id>/<action>")
def manage_action(token: str, rule_id: int, action: str) -> tuple[str, int] | BaseResponse:
    email = _address(token)
    database = dependencies().database
    changes = {
        "pause": (RuleChange(active=False), "已暂停该提醒。"),
        "resume": (RuleChange(active=True), "已恢复该提醒。"),
    }
    try:
        if action == "delete":
            delete_rule(database, email, rule_id)
            message = "已删除该提醒。"
        elif action == "edit":
            form = request.form
            change = RuleChange(
                query=form.get("q", "").strip() or None,
                name=form.get("name"),
                include_offtopic=form.get("include_offtopic") == "1",
            )
            change_rule(database, email, rule_id, change)
            message = "已保存修改。"
        elif action == "channels":
            chosen = [int(value) for value in request.form.getlist("channel") if value.isdigit()]
            set_rule_channels(
                database, email, rule_id, chosen, mail_enabled=request.form.get("mail") == "1"
            )
            message = "已保存发送方式。"
        elif action == "timing":
            form = request.form
            set_rule_timing(
                database,
                email,
                rule_id,
                cadence=form.get("cadence", "immediate"),
                daily_at=form.get("daily_at", "") or "08:00",
                quiet_start=form.get("quiet_start", ""),
                quiet_end=form.get("quiet_end", ""),
                muted_weekdays=[int(d) for d in form.getlist("muted") if d.isdigit()],
                min_interval_minutes=_minutes(form.get("min_interval", "")),
                heartbeat=form.get("heartbeat") == "1",
            )
            message = "已保存发送时间。"
        elif action in changes:
            change, message = changes[action]
            change_rule(database, email, rule_id, change)
        else:
            abort(404)
    except AlertError:
        abort(404)
    except QueryError as exc:
        error, detail = query_error(exc)
        return _manage_page(email, token, error=error, error_detail=detail), 400
    except TimingError:
        error = "发送时间设置有误：时间请用“时:分”，免打扰需同时填开始和结束，不能每天都免打扰。"
        return _manage_page(email, token, error=error), 400
    flash(message, "success")
    return redirect(url_for("alerts.manage", token=token))


def _minutes(text: str) -> int:
    """The form's minimum interval; -1 (refused by the timing) when it is not a number."""
    text = text.strip()
    return int(text) if text.isdigit() else (0 if not text else -1)


@bp.post("/alerts/manage/<token>/channels")
def channel_add(token: str) -> tuple[str, int] | BaseResponse:
    """Add a 企业微信 / 钉钉 / 飞书 / webhook channel to the address; its URL and secret
    are stored encrypted and never shown again."""
    email = _address(token)
    deps = dependencies()
    form = request.form
    try:
        add_channel(
            deps.database,
            Vault(_secret()),
            HttpPoster.from_settings(deps.settings),
            email,
            form.get("kind", ""),
            form.get("url", ""),
            name=form.get("name", ""),
            secret=form.get("secret", ""),
        )
    except ChannelError as error:
        detail = error.message if error.key in ("refused", "unresolved") else ""
        values = {"kind": form.get("kind", ""), "name": form.get("name", "")}
        return _manage_page(
            email,
            token,
            channel_error=CHANNEL_ERRORS[error.key],
            channel_detail=detail,
            channel_values=values,
        ), 400
    flash("已添加渠道。可以点“发送测试消息”确认已接通，再在提醒下面勾选它。", "success")
    return redirect(url_for("alerts.manage", token=token, _anchor="channels"))


@bp.post("/alerts/manage/<token>/channels/<int:channel_id>/<action>")
def channel_action(token: str, channel_id: int, action: str) -> BaseResponse:
    email = _address(token)
    deps = dependencies()
    try:
        if action == "test":
            result = send_test(
                deps.database,
                deps.settings,
                HttpPoster.from_settings(deps.settings),
                channel_id,
                owner_email=email,
            )
            if result.ok:
                flash("测试消息已发出，请到群里查看。", "success")
            else:
                flash(f"测试消息没有发出：{result.error}", "error")
        elif action == "resume":
            resume_channel(deps.database, email, channel_id)
            flash("已恢复该渠道。", "success")
        elif action == "delete":
            delete_channel(deps.database, email, channel_id)
            flash("已删除该渠道。", "success")
        else:
            abort(404)
    except ChannelError:
        abort(404)
    return redirect(url_for("alerts.manage", token=token, _anchor="channels"))


@bp.route("/alerts/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> str:
    """GET asks (mail scanners open links); the button POSTs and unsubscribes."""
    rule_id = _rule_id(token, UNSUBSCRIBE, UNSUBSCRIBE_MAX_AGE)
    if request.method == "POST":
        rule = unsubscribe_rule(dependencies().database, rule_id)
        manage_url = _links().manage(rule.email) if rule is not None else ""
        return render_template("alerts/done.html", state="unsubscribed", manage_url=manage_url)
    return render_template("alerts/done.html", state="ask", token=token)


@bp.post("/alerts/unsubscribe/<token>/one-click")
def one_click_unsubscribe(token: str) -> tuple[str, int]:
    """RFC 8058 one-click unsubscribe, POSTed by the mail client (no form, no cookie)."""
    rule_id = _rule_id(token, UNSUBSCRIBE, UNSUBSCRIBE_MAX_AGE)
    unsubscribe_rule(dependencies().database, rule_id)
    return "unsubscribed", 200
