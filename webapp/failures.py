"""Items that finally failed in the pipeline, and replaying them once the cause is fixed."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hitwatch.accounts import record_event
from hitwatch.store.failures import FailureLog
from hitwatch.tasks import (
    BUILD_DIGEST,
    CLASSIFY_ITEM,
    CRAWL_SOURCE,
    DELIVER_DIGEST,
    FETCH_PAGE,
    HANDLE_STORY_INDEXED,
    INDEX_DOCUMENT,
    RECLASSIFY_DOCUMENTS,
    SEND_ALERT_BUNDLES,
    queue_for,
)
from webapp import queries
from webapp.access import actor, client_address
from webapp.dependencies import dependencies
from webapp.pagination import Pagination, page_number

__all__ = ["PER_PAGE", "bp"]

log = logging.getLogger(__name__)

bp = Blueprint("failures", __name__)

PER_PAGE = 50

# What each task does, as the table names it (the task name stays beside it for logs).
TASK_LABELS = {
    CRAWL_SOURCE: "抓取信息源",
    FETCH_PAGE: "抓取页面",
    CLASSIFY_ITEM: "抽取与分类",
    RECLASSIFY_DOCUMENTS: "重新分类",
    INDEX_DOCUMENT: "入库与索引",
    HANDLE_STORY_INDEXED: "提醒匹配",
    BUILD_DIGEST: "生成月报",
    DELIVER_DIGEST: "投递月报",
    SEND_ALERT_BUNDLES: "汇总提醒",
}


@bp.get("/failures")
def index() -> str:
    include_resolved = request.args.get("all") == "1"
    page = page_number(request.args.get("page"))
    with dependencies().database.session() as session:
        total = queries.count_failures(session, include_resolved=include_resolved)
        pagination = Pagination(page, PER_PAGE, total)
        rows = queries.list_failures(
            session, include_resolved=include_resolved, offset=pagination.offset, limit=PER_PAGE
        )
    return render_template(
        "failures/index.html",
        rows=rows,
        pagination=pagination,
        include_resolved=include_resolved,
        task_labels=TASK_LABELS,
    )


@bp.post("/failures/<int:failure_id>/replay")
def replay(failure_id: int) -> Response:
    deps = dependencies()
    failures = FailureLog(deps.database)
    row = failures.get(failure_id)
    back = redirect(url_for("failures.index"))
    if row is None:
        flash(f"失败记录 #{failure_id} 不存在，可能已被清理。", "error")
        return back
    try:
        queue = queue_for(row.task_name)
    except KeyError:
        flash(
            f"无法重放 #{failure_id}：任务 {row.task_name} 没有登记队列（hitwatch.tasks），"
            "可能是旧版本留下的记录；请修正任务名后用 hitwatch failures 处理。",
            "error",
        )
        return back
    try:
        deps.celery().send_task(row.task_name, args=[row.payload], queue=queue)
    except Exception as exc:
        # Broker errors come from kombu/redis with many types; all mean "not sent".
        log.error("replay of failure %d not sent: %s", failure_id, exc)
        flash(
            f"无法把 #{failure_id} 送回队列 {queue}：{exc}。请确认 Redis 正在运行后重试。", "error"
        )
        return back
    failures.mark_replayed(failure_id, actor=actor())
    with deps.database.session() as session:
        record_event(
            session,
            "failure_replay",
            actor=actor(),
            target=f"failure:{failure_id}",
            address=client_address(),
        )
    log.info("failure %d replayed to %s on queue %s", failure_id, row.task_name, queue)
    flash(f"已把 #{failure_id} 送回队列 {queue}（任务 {row.task_name}）。", "ok")
    return back
