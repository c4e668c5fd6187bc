"""The digest editor: the archive, an issue, the editor's controls on a draft, publishing
and corrections, downloads, Atom.

Thin views over `hitwatch.digest.workflow`; every POST redirects back to the issue with a
flashed message, so a reload never repeats an action. Subscribers' pages are
`webapp.digests.subscriptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hitwatch.accounts import Role, display_names
from hitwatch.digest import (
    Digest,
    month_period,
    render_atom,
    render_html,
    render_markdown,
    render_text,
)
from hitwatch.digest.build import SHANGHAI, DigestKind
from hitwatch.digest.delivery import (
    count_recipients,
)
from hitwatch.digest.document import render_docx
from hitwatch.digest.errors import PeriodError
from hitwatch.digest.pdf import PdfUnavailableError, render_pdf
from hitwatch.digest.render import render_html_fragment, snapshot_body
from hitwatch.digest.workflow import (
    DigestError,
    add_story,
    build_draft,
    correct_issue,
    edit_entry,
    issue_digest,
    issue_entries,
    list_issues,
    move_entry,
    publish_issue,
    set_editor_note,
    set_included,
)
from hitwatch.messages import DigestPublished
from hitwatch.settings import Settings
from hitwatch.store.models import Article, DigestIssue, Story
from hitwatch.tasks import DELIVER_DIGEST, queue_for
from webapp.access import actor, has_role, require_role
from webapp.dependencies import dependencies
from webapp.digests.labels import kind_labels

__all__ = ["bp"]

bp = Blueprint("digests", __name__, template_folder="templates")


STATUS_LABELS = {"draft": "草稿", "published": "已发布"}

# extension -> (renderer, snapshot column, MIME type)
DOWNLOADS: dict[str, tuple[Callable[[Digest], str], str, str]] = {
    "txt": (render_text, "text_snapshot", "text/plain; charset=utf-8"),
    "md": (render_markdown, "markdown_snapshot", "text/markdown; charset=utf-8"),
    "html": (render_html, "html_snapshot", "text/html; charset=utf-8"),
}


def _load(session: Session, issue_id: int) -> DigestIssue:
    issue = session.get(DigestIssue, issue_id)
    if issue is None:
        abort(404)
    return issue


def _visible(issues: list[DigestIssue]) -> list[DigestIssue]:
    """Drafts are the editors' work in progress: readers see published issues only."""
    if has_role(Role.EDITOR):
        return issues
    return [issue for issue in issues if issue.status != "draft"]


def _require_editor_for_draft(issue: DigestIssue) -> None:
    if issue.status == "draft" and (refused := require_role(Role.EDITOR)) is not None:
        abort(refused)


def _back(issue_id: int) -> BaseResponse:
    return redirect(url_for("digests.issue", issue_id=issue_id))


@bp.get("/digests")
def index() -> str:
    with dependencies().database.session() as session:
        issues = _visible(list_issues(session))
        default_month = _latest_month(session)
    periods: dict[str, list[DigestIssue]] = {}
    for issue in issues:
        periods.setdefault(f"{issue.period_start:%Y年%m月}", []).append(issue)
    return render_template(
        "digests/index.html",
        periods=periods,
        kinds=kind_labels(dependencies().settings),
        statuses=STATUS_LABELS,
        default_month=default_month,
    )


def _latest_month(session: Session) -> str:
    """The month of the newest relevant story, so the form proposes a month with news in it."""
    newest = session.scalar(select(func.max(Story.published_at)).where(Story.relevant))
    day = newest.astimezone(SHANGHAI).date() if newest else date.today()
    return f"{day:%Y-%m}"


@bp.post("/digests/build")
def build() -> BaseResponse:
    form = request.form
    kind: DigestKind
    try:
        if form.get("month"):
            start, end = month_period(form["month"])
            kind = "monthly"
        else:
            start, end = date.fromisoformat(form["from"]), date.fromisoformat(form["to"])
            kind = "weekly" if (end - start).days == 6 and start.weekday() == 0 else "custom"
    except PeriodError as error:
        flash(str(error), "error")
        return redirect(url_for("digests.index"))
    except (KeyError, ValueError):
        flash("请选择月份，或填写开始和结束日期（年-月-日，例如 2024-07-01）。", "error")
        return redirect(url_for("digests.index"))
    deps = dependencies()
    try:
        with deps.database.session() as session:
            issue = build_draft(session, deps.settings, start, end, kind, actor=actor())
            issue_id = issue.id
    except DigestError as error:
        flash(f"无法生成草稿：{error}", "error")
        return redirect(url_for("digests.index"))
    flash(f"已生成草稿（{start} 至 {end}）。", "success")
    return _back(issue_id)


@bp.get("/digests/<int:issue_id>")
def issue(issue_id: int) -> str:
    deps = dependencies()
    with deps.database.session() as session:
        issue = _load(session, issue_id)
        _require_editor_for_draft(issue)
        entries = issue_entries(session, issue) if issue.status == "draft" else []
        if issue.status == "published" and issue.html_snapshot:
            body = snapshot_body(issue.html_snapshot)
        else:
            body = render_html_fragment(issue_digest(session, issue, deps.settings))
        names = display_names(session, [issue.created_by, issue.published_by])
        revisions = [
            other
            for other in _visible(list_issues(session))
            if (other.kind, other.period_start, other.period_end)
            == (issue.kind, issue.period_start, issue.period_end)
        ]
    return render_template(
        "digests/issue.html",
        issue=issue,
        entries=entries,
        body=body,
        revisions=revisions,
        names=names,
        kinds=kind_labels(dependencies().settings),
        statuses=STATUS_LABELS,
        downloads=[*sorted(DOWNLOADS), *FILES],
    )


def _edit(issue_id: int, action: Callable[[Session, DigestIssue, Settings], str]) -> BaseResponse:
    deps = dependencies()
    try:
        with deps.database.session() as session:
            message = action(session, _load(session, issue_id), deps.settings)
    except DigestError as error:
        flash(f"操作未完成：{error}", "error")
    else:
        flash(message, "success")
    return _back(issue_id)


@bp.post("/digests/<int:issue_id>/entries/<int:entry_id>/<action>")
def entry(issue_id: int, entry_id: int, action: str) -> BaseResponse:
    def apply(session: Session, issue: DigestIssue, settings: Settings) -> str:
        if action in {"include", "drop"}:
            set_included(session, issue, entry_id, action == "include")
            return "已收录该条。" if action == "include" else "已从本期删去该条（可恢复）。"
        if action in {"up", "down"}:
            move_entry(session, issue, entry_id, -1 if action == "up" else 1, settings)
            return "已调整顺序；本期此后按编辑的顺序排列。"
        if action == "edit":
            form = request.form
            edit_entry(
                session,
                issue,
                entry_id,
                title=form.get("title"),
                source_name=form.get("source_name"),
                body=form.get("body"),
            )
            return "已保存修改；留空的字段恢复为原文。"
        abort(404)

    return _edit(issue_id, apply)


@bp.post("/digests/<int:issue_id>/note")
def note(issue_id: int) -> BaseResponse:
    def apply(session: Session, issue: DigestIssue, _: Settings) -> str:
        set_editor_note(session, issue, request.form.get("editor_note", ""))
        return "已保存编者按。"

    return _edit(issue_id, apply)


@bp.post("/digests/<int:issue_id>/add")
def add(issue_id: int) -> BaseResponse:
    """Add a story by the item's id or link (/items/<id>) found with search."""
    wanted = request.form.get("item", "").strip().rstrip("/").rsplit("/", 1)[-1]

    def apply(session: Session, issue: DigestIssue, settings: Settings) -> str:
        article = session.get(Article, wanted)
        add_story(session, issue, article.story_id if article else wanted, settings)
        return "已加入本期。"

    return _edit(issue_id, apply)


@bp.post("/digests/<int:issue_id>/refresh")
def refresh(issue_id: int) -> BaseResponse:
    def apply(session: Session, issue: DigestIssue, settings: Settings) -> str:
        build_draft(session, settings, issue.period_start, issue.period_end, issue.kind)  # type: ignore[arg-type]
        return "已按最新数据刷新草稿，编辑过的内容保持不变。"

    return _edit(issue_id, apply)


@bp.route("/digests/<int:issue_id>/publish", methods=["GET", "POST"])
def publish(issue_id: int) -> str | BaseResponse:
    """GET asks first, saying how many subscribers the issue will be mailed to."""
    if request.method == "GET":
        deps = dependencies()
        with deps.database.session() as session:
            issue = _load(session, issue_id)
            if issue.status != "draft":
                return _back(issue_id)
            recipients = count_recipients(session, issue, deps.settings)
        return render_template(
            "digests/publish.html",
            issue=issue,
            recipients=recipients,
            kinds=kind_labels(deps.settings),
        )

    def apply(session: Session, issue: DigestIssue, settings: Settings) -> str:
        publish_issue(session, issue, settings, actor=actor())
        return f"已发布：第{issue.number}期。已发布的内容不能再修改，如需更正请使用“更正”。"

    response = _edit(issue_id, apply)
    _queue_delivery(issue_id)
    return response


def _queue_delivery(issue_id: int) -> None:
    """Hand the published issue to the notifier, which mails it to each subscriber once."""
    deps = dependencies()
    with deps.database.session() as session:
        issue = session.get(DigestIssue, issue_id)
        if issue is None or issue.status != "published":
            return
    try:
        deps.celery().send_task(
            DELIVER_DIGEST,
            args=[DigestPublished(issue_id=issue_id).to_payload()],
            queue=queue_for(DELIVER_DIGEST),
        )
        flash("已加入发送队列：确认订阅的读者将收到本期。", "success")
    except Exception as error:  # the broker is down: publishing stands, sending can follow
        flash(
            f"本期已发布，但发送队列不可用（{error}）；"
            f"稍后运行 hitwatch digest deliver {issue_id}。",
            "error",
        )


@bp.post("/digests/<int:issue_id>/correct")
def correct(issue_id: int) -> BaseResponse:
    deps = dependencies()
    try:
        with deps.database.session() as session:
            draft = correct_issue(
                session, _load(session, issue_id), request.form.get("note", ""), actor=actor()
            )
            draft_id = draft.id
    except DigestError as error:
        flash(f"无法更正：{error}", "error")
        return _back(issue_id)
    flash("已建立更正稿：修改后发布，读者会看到更正说明。", "success")
    return _back(draft_id)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# extension -> (renderer, MIME type): office files, always rendered from the frozen items
FILES: dict[str, tuple[Callable[[Digest], bytes], str]] = {
    "docx": (render_docx, DOCX),
    "pdf": (render_pdf, "application/pdf"),
}


@bp.get("/digests/<int:issue_id>.<ext>")
def download(issue_id: int, ext: str) -> Response:
    """A file of the issue: a published one's frozen text, or rendered from frozen items."""
    if ext not in DOWNLOADS and ext not in FILES:
        abort(404)
    deps = dependencies()
    content: str | bytes
    with deps.database.session() as session:
        issue = _load(session, issue_id)
        _require_editor_for_draft(issue)
        digest = issue_digest(session, issue, deps.settings)
        if ext in FILES:
            render, mimetype = FILES[ext]
            try:
                content = render(digest)
            except PdfUnavailableError as error:
                abort(503, description=str(error))
        else:
            renderer, column, mimetype = DOWNLOADS[ext]
            snapshot = getattr(issue, column)
            published = issue.status == "published" and snapshot
            content = snapshot if published else renderer(digest)
        name = f"digest-{issue.period_start}-{issue.period_end}-r{issue.revision}.{ext}"
    return Response(
        content, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.get("/digests.atom")
def feed() -> Response:
    """The latest revision of every published issue, newest first."""
    deps = dependencies()
    entries = []
    seen: set[tuple[str, date, date]] = set()
    with deps.database.session() as session:
        for issue in list_issues(session):
            key = (issue.kind, issue.period_start, issue.period_end)
            if issue.status != "published" or key in seen:
                continue
            seen.add(key)
            url = url_for("digests.issue", issue_id=issue.id, _external=True)
            digest = issue_digest(session, issue, deps.settings)
            content = snapshot_body(issue.html_snapshot or render_html(digest))
            entries.append((digest, url, str(content)))
    body = render_atom(
        entries,
        feed_url=url_for("digests.feed", _external=True),
        site_url=url_for("digests.index", _external=True),
        title=f"{deps.settings.digest_publisher}{deps.settings.digest_monthly_word}",
    )
    return Response(body, mimetype="application/atom+xml")
