"""Real URL <-> mirror URL: the mirror serves every site under `/<host>/<path>`."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["mirror_url"]


def mirror_url(base: str, real_url: str) -> str:
    """Where the mirror at `base` serves the page the real site serves at `real_url`.

    >>> mirror_url("http://127.0.0.1:8765", "https://www.gov.cn/zhengce/zuixin/?a=1")
    'http://127.0.0.1:8765/www.gov.cn/zhengce/zuixin/?a=1'
    """
    parts = urlsplit(real_url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base.rstrip('/')}/{parts.hostname}{parts.path or '/'}{query}"
