"""Canonical URLs: one spelling per article, so a page found twice has one doc_id.

The same article is reached over http and https, on mobile hosts (m., wap., 3g.), with
tracking parameters from share buttons and feeds, through a default index page, with a
fragment or a trailing slash. None of these change the article.

WeChat articles (mp.weixin.qq.com) come as `/s/<id>` or as `/s?__biz=…&mid=…&idx=…&sn=…`
with a tail of session and share parameters (chksm, scene, key, pass_ticket …): the
short form keeps its path alone, the long form its four identifying parameters alone.
The two forms of one article cannot be told apart from the URL; the page itself names its
long form (`var msg_link`), which the WeChat extraction rule reports.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["WECHAT_ARTICLE_KEYS", "canonical_url"]

# What identifies a WeChat article in the long form, in the order WeChat writes them.
WECHAT_ARTICLE_KEYS = ("__biz", "mid", "idx", "sn")
_WECHAT_HOST = "mp.weixin.qq.com"

# m.example.cn serves www.example.cn; m.news.example.cn serves news.example.cn.
_MOBILE_PREFIXES = ("m.", "wap.", "3g.", "mobile.", "h5.")
# Parameters that only say who shared or which campaign led to the page.
_TRACKING_EXACT = frozenset(
    {
        "spm",
        "from",
        "fromid",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "sharer",
        "shareid",
        "share_token",
        "share_from",
        "sharesource",
        "timestamp",
        "wfr",
        "ref",
        "referer",
        "tt_from",
        "tt_group_id",
        "utm",
        "fbclid",
        "gclid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "sessionid",
        "s_trans",
        "s_channel",
        "from_source",
        "ivk_sa",
        "vd_source",
        "app_version",
    }
)
_TRACKING_PREFIXES = ("utm_", "share", "spm_", "from_")
_INDEX_PAGES = frozenset(
    {
        "index.html",
        "index.htm",
        "index.shtml",
        "index.php",
        "index.jsp",
        "index.asp",
        "index.aspx",
        "default.html",
        "default.htm",
        "default.aspx",
        "default.asp",
    }
)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES)


def _wechat(path: str, query: str) -> str:
    path = path.rstrip("/") or "/s"
    if path.startswith("/s/"):
        return urlunsplit(("https", _WECHAT_HOST, path, "", ""))
    values = dict(parse_qsl(query, keep_blank_values=True))
    # Old links name the same article `/mp/appmsg/show` with `appmsgid` and `itemidx`.
    values.setdefault("mid", values.get("appmsgid", ""))
    values.setdefault("idx", values.get("itemidx", ""))
    if all(values.get(key) for key in WECHAT_ARTICLE_KEYS):
        kept = urlencode([(key, values[key]) for key in WECHAT_ARTICLE_KEYS])
        return urlunsplit(("https", _WECHAT_HOST, "/s", kept, ""))
    # Not an article link we understand: keep what it says, minus the usual tracking.
    kept = urlencode(sorted((k, v) for k, v in parse_qsl(query) if not _is_tracking(k)))
    return urlunsplit(("https", _WECHAT_HOST, path, kept, ""))


def canonical_url(url: str) -> str:
    """https, desktop host, no tracking parameters, index page, fragment or trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        return url.strip()
    host = (parts.hostname or "").lower().rstrip(".")
    if host == _WECHAT_HOST:
        return _wechat(parts.path, parts.query)
    for prefix in _MOBILE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = "www." + host[len(prefix) :] if host.count(".") == 2 else host[len(prefix) :]
            break
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path or "/"
    segments = path.split("/")
    if segments[-1].lower() in _INDEX_PAGES:
        segments[-1] = ""
        path = "/".join(segments)
    if len(path) > 1:
        path = path.rstrip("/")
    query = urlencode(
        sorted(
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
        )
    )
    return urlunsplit(("https", netloc, path if path != "/" else "", query, ""))
