"""Source health: is each configured source still yielding items?"""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp import queries
from webapp.dependencies import dependencies

__all__ = ["bp"]

bp = Blueprint("sources", __name__)

# state -> (label, what the operator should do about it)
STATES: dict[str, tuple[str, str]] = {
    "ok": ("正常", ""),
    "broken": (
        "异常",
        "检查该网站是否改版或无法访问，并查看失败记录；微信公众号请检查桥接服务是否运行、登录是否过期",
    ),
    "new": ("尚未采集", "等待下一次定时采集，或运行 hitwatch run"),
}


@bp.get("/sources")
def index() -> str:
    with dependencies().database.session() as session:
        sources = queries.list_sources(session)
    counts = {state: sum(1 for s in sources if s.state == state) for state in STATES}
    return render_template("sources/index.html", sources=sources, states=STATES, counts=counts)
