"""Government notices rebuilt from their public facts, in the forms readers meet them.

`labels/notices.yaml` keeps, per real (or marked written) notice, only what is public
record: title, issuer, date, 发文字号, the names of the documents it forwards, and a few
points in our own words. `notice_forms` turns those facts into the pages the crawler
sees: the common short page (title, 发文字号, addressee, two lines that forward the
document, issuer, date), the long page with the document's sections, the short page
with the document as an attachment, and a media report of it. No page text is copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hitwatch.messages import PolicyMeta

__all__ = ["FORMS", "NoticeFacts", "NoticeForm", "load_notices", "notice_forms"]

FORMS = ("short", "long", "attached", "news")
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class NoticeFacts:
    id: str
    title: str
    issuer: str
    date: str
    relevant: bool
    topics: tuple[str, ...]
    reason: str
    # Topics only the forwarded document's content shows (its points), not the notice's
    # own title: the short page cannot show them, so there they are weak (neither
    # required nor wrong).
    content_topics: tuple[str, ...] = ()
    docno: str = ""
    forwards: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    forms: tuple[str, ...] = FORMS
    real: bool = True
    part: str = ""


@dataclass(frozen=True)
class NoticeForm:
    form: str
    title: str
    body: str
    source_kind: str
    doc_type: str
    policy: PolicyMeta | None
    attachments: tuple[str, ...] = ()


def load_notices(path: Path) -> list[NoticeFacts]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    notices = []
    for raw in data.get("notices") or []:
        fields: dict[str, Any] = dict(raw)
        for key in ("topics", "content_topics", "forwards", "points", "forms"):
            if key in fields:
                fields[key] = tuple(str(x) for x in fields[key] or ())
        fields["date"] = str(fields.get("date", ""))
        fields["docno"] = str(fields.get("docno") or "")
        fields.setdefault("topics", ())
        facts = NoticeFacts(**fields)
        if not set(facts.content_topics) <= set(facts.topics):
            raise ValueError(f"{facts.id}: content_topics must be among its topics")
        notices.append(facts)
    return notices


def _date_line(date: str) -> str:
    parts = date.split("-")
    units = ("年", "月", "日")
    return "".join(f"{int(p)}{u}" for p, u in zip(parts, units, strict=False))


def _addressee(issuer: str) -> str:
    if "国务院" in issuer:
        return "各省、自治区、直辖市人民政府，国务院各部委、各直属机构："
    if "省" in issuer or "市" in issuer:
        return "各区县人民政府，市政府各委、办、局，各有关单位："
    return "各省、自治区、直辖市及新疆生产建设兵团有关主管部门："


def _names(facts: NoticeFacts) -> list[str]:
    if facts.forwards:
        return list(facts.forwards)
    # A document that forwards nothing names itself: an order promulgates its own text.
    return [facts.title] if "令" in facts.docno else []


def _short_lines(facts: NoticeFacts) -> list[str]:
    lines = [facts.docno] if facts.docno else []
    names = _names(facts)
    if "令" in facts.docno:
        lines.append(f"《{names[0]}》已经审议通过，现予公布，自公布之日起施行。")
    elif names:
        quoted = "、".join(f"《{n}》" for n in names)
        lines += [_addressee(facts.issuer), f"现将{quoted}印发给你们，请结合实际认真贯彻执行。"]
    else:
        lines += [_addressee(facts.issuer), "为做好相关工作，现提出如下意见，请认真贯彻落实。"]
    lines += [facts.issuer.replace("、", " "), _date_line(facts.date)]
    return lines


def _sections(facts: NoticeFacts) -> list[str]:
    names = _names(facts) or [facts.title]
    lines = [names[0]]
    for index, point in enumerate(facts.points):
        numeral = _NUMERALS[index % len(_NUMERALS)]
        lines.append(f"{numeral}、{point}。")
        lines.append("各地各有关单位要明确责任分工，细化工作举措，按时完成该项任务。")
    lines.append("各地要加强组织领导，做好宣传引导，及时总结推广经验，重大问题及时报告。")
    return lines


def notice_forms(facts: NoticeFacts) -> list[NoticeForm]:
    """The forms of `facts` listed in `facts.forms`, built from the facts alone."""
    policy = PolicyMeta(
        doc_number=facts.docno,
        issuer=facts.issuer,
        written_date=facts.date if facts.date.count("-") == 2 else "",
    )
    short = _short_lines(facts)
    built: list[NoticeForm] = []
    for form in facts.forms:
        if form == "short":
            body = "\n".join(short)
            built.append(NoticeForm(form, facts.title, body, "government", "政策文件", policy))
        elif form == "long":
            body = "\n".join(short[:-2] + _sections(facts) + short[-2:])
            built.append(NoticeForm(form, facts.title, body, "government", "政策文件", policy))
        elif form == "attached":
            body = "\n".join(short)
            attachment = "\n".join(_sections(facts))
            built.append(
                NoticeForm(form, facts.title, body, "government", "政策文件", policy, (attachment,))
            )
        elif form == "news":
            name = (_names(facts) or [facts.title.removeprefix(facts.issuer)])[0]
            issuer = facts.issuer.split("、")[0]
            title = f"{issuer}印发《{name.strip('《》')}》"
            said = "；".join(facts.points)
            body = (
                f"记者日前从{issuer}获悉，{facts.issuer}近日印发《{name.strip('《》')}》。"
                f"文件提出，{said}。\n"
                f"{issuer}有关负责人表示，各地将结合实际抓好落实，定期开展评估。"
            )
            built.append(NoticeForm(form, title, body, "media", "新闻报道", None))
        else:
            raise ValueError(f"{facts.id}: unknown notice form {form!r}")
    return built
