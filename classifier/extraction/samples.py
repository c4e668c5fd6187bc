"""Generated article pages for the benchmarks (`hitwatch bench extract`, `bench pipeline`):
offline tooling, not loaded by the workers.

- `synthetic_page`: ~600 characters of body (~2.5 KB of HTML) in 中新网's article markup, so the
  `chinanews` site rules match, as they do on the real site;
- `generic_page`: the same text in a generic portal's markup that no site rule matches
  (the generic extractor's cost);
- `real_page`: pages of real size and shape (30-120 KB: navigation, sidebars, scripts,
  related links, footers), half 中新网 articles, a quarter 国家卫健委 notices in GBK with
  attachment links, a quarter from a portal without site rules.
"""

from __future__ import annotations

import random
from html import escape

__all__ = ["BenchPage", "generic_page", "real_page", "synthetic_page"]

# (url, source id, content type, page bytes)
BenchPage = tuple[str, str, str, bytes]

_VOCABULARY = [
    "国家卫生健康委",
    "医保信息化",
    "电子病历",
    "系统应用水平",
    "分级评价",
    "互联互通",
    "智慧医院",
    "医疗大模型",
    "人工智能",
    "DRG付费",
    "按病种分值付费",
    "全民健康信息平台",
    "居民健康档案",
    "互联网医院",
    "远程医疗",
    "数据安全",
    "隐私保护",
    "公立医院",
    "高质量发展",
    "信息化建设",
    "医疗机构",
    "基层医疗",
    "医联体",
    "数字医疗",
    "临床决策支持",
    "医学影像",
    "辅助诊断",
    "健康医疗大数据",
    "数据要素",
    "试点",
    "通知",
    "印发",
    "推进",
    "落实",
    "要求",
    "各地",
    "加快",
    "建设",
    "完善",
    "标准",
    "规范",
    "服务",
    "能力",
    "提升",
    "管理",
    "平台",
    "应用",
    "推广",
    "工作",
]
_UTF8 = "text/html; charset=utf-8"


def _title(n: int, rng: random.Random) -> str:
    return "".join(rng.sample(_VOCABULARY, 5)) + f"（{n}）"


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return [
        "，".join(rng.choice(_VOCABULARY) for _ in range(rng.randint(12, 20))) + "。"
        for _ in range(count)
    ]


def _day(n: int) -> str:
    return f"2024-07-{1 + n % 28:02d}"


def _chinanews_article(
    n: int, title: str, paragraphs: list[str], furniture: tuple[str, str] = ("", "")
) -> str:
    day = _day(n)
    head, tail = furniture
    body = "".join(f"<p>　　{escape(p)}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}-中新网</title>"
        f"<meta name='pubdate' content='{day} 10:00:00'>{head}</head><body>"
        f"<div class='nav'>首页 | 新闻 | 政策</div><div class='content_left'>"
        f"<h1 class='content_left_title'>{title}</h1><div class='content_left_time'>"
        f"{day[:4]}年{day[5:7]}月{day[8:10]}日 10:00　来源：<a class='source' "
        f"href='https://www.chinanews.com.cn/'>中国新闻网</a></div><div class='left_zw'>"
        f"{body}<div class='adInContent'>【编辑：张子怡】</div></div></div>{tail}"
        f"<div class='footer'>版权所有</div></body></html>"
    )


def synthetic_page(n: int, rng: random.Random) -> BenchPage:
    """A 中新网 article, ~600 characters of body, no page furniture."""
    html = _chinanews_article(n, _title(n, rng), _paragraphs(rng, 8))
    url = f"https://www.chinanews.com.cn/bench/2024/07-01/{n}.shtml"
    return url, "chinanews", _UTF8, html.encode("utf-8")


def generic_page(n: int, rng: random.Random) -> BenchPage:
    """The same kind of text in markup no site rule knows: the generic extractor's work."""
    title = _title(n, rng)
    body = "".join(f"<p>{p}</p>" for p in _paragraphs(rng, 8))
    html = (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<div class='nav'>首页 | 新闻 | 政策</div><h1>{title}</h1>"
        f"<div class='info'>{_day(n)} 10:00 来源：健康报</div>"
        f"<div class='content'>{body}</div><div class='footer'>版权所有</div></body></html>"
    )
    return f"https://www.health-portal.example.cn/news/{n}.html", "", _UTF8, html.encode("utf-8")


def _links(rng: random.Random, count: int, base: str) -> str:
    return "".join(
        f"<li><a href='{base}/{rng.randint(1, 10**6)}.html'>{_title(rng.randint(1, 999), rng)}"
        f"</a><span>{_day(rng.randint(0, 27))}</span></li>"
        for _ in range(count)
    )


def _script(rng: random.Random, kilobytes: int) -> str:
    line = "var s{0}=function(a){{return a.map(function(x){{return x*{0}+1;}});}};\n"
    lines = [line.format(rng.randint(1, 999)) for _ in range(kilobytes * 1024 // 60)]
    return f"<script type='text/javascript'>{''.join(lines)}</script>"


def _furniture(rng: random.Random, base: str) -> tuple[str, str]:
    """(head, trailing body) furniture: scripts, navigation, sidebars, related lists."""
    head = _script(rng, rng.randint(8, 30)) + "<style>.nav li{float:left}</style>"
    navigation = f"<div class='topnav'><ul>{_links(rng, rng.randint(40, 90), base)}</ul></div>"
    sidebars = "".join(
        f"<div class='sidebar'><h3>热点</h3><ul>{_links(rng, rng.randint(20, 60), base)}</ul></div>"
        for _ in range(rng.randint(2, 4))
    )
    scripts = "".join(_script(rng, rng.randint(2, 12)) for _ in range(rng.randint(1, 3)))
    return head, navigation + sidebars + scripts


def _nhc_notice(n: int, rng: random.Random, title: str, paragraphs: list[str]) -> str:
    head, tail = _furniture(rng, "http://www.nhc.gov.cn/xxs/s7")
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    files = "".join(
        f"<p>附件{k}：<a href='/xxs/s7/2024/{n}_{k}.{kind}'>{title}附件{k}.{kind}</a></p>"
        for k, kind in enumerate(rng.sample(["pdf", "doc", "xlsx", "docx"], 2), start=1)
    )
    return (
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Type' "
        f"content='text/html; charset=gbk'><title>{title}</title>"
        f"<meta name='PubDate' content='{_day(n)}'>{head}</head><body>{tail}"
        f"<div class='w1024 mb50'><div class='tit'>{title}</div><div class='source'>"
        f"<span class='mr'>来源:规划发展与信息化司</span><span>{_day(n)}</span></div>"
        f"<div class='con' id='xw_box'>{body}{files}</div><div class='fx'>分享到：</div>"
        "</div></body></html>"
    )


def real_page(n: int, rng: random.Random) -> BenchPage:
    """A page of real size and shape (30-120 KB); see the module's docstring."""
    title = _title(n, rng)
    paragraphs = _paragraphs(rng, rng.randint(10, 40))
    kind = n % 4
    if kind == 3:
        html = _nhc_notice(n, rng, title, paragraphs)
        url = f"http://www.nhc.gov.cn/xxs/s7/202407/{n}.shtml"
        return url, "nhc", "text/html", html.encode("gbk")
    if kind == 2:
        head, tail = _furniture(rng, "https://www.health-portal.example.cn/news")
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        html = (
            f"<html><head><meta charset='utf-8'><title>{title}_健康门户</title>{head}</head>"
            f"<body>{tail}<div class='main'><h1>{title}</h1><div class='info'>{_day(n)} "
            f"10:00 来源：健康报</div><div class='article'>{body}</div></div>"
            "<div class='footer'>版权所有 京ICP备00000000号</div></body></html>"
        )
        url = f"https://www.health-portal.example.cn/news/{n}.html"
        return url, "", _UTF8, html.encode("utf-8")
    base = "https://www.chinanews.com.cn/gn/2024/07-01"
    html = _chinanews_article(n, title, paragraphs, _furniture(rng, base))
    return f"{base}/{n}.shtml", "chinanews", _UTF8, html.encode("utf-8")
