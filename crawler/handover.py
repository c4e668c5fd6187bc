"""What the crawler hands to the classifier: a fetched page as a `CrawledItem`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from w3lib.url import canonicalize_url

from hitwatch.messages import AttachmentFile, CrawledItem, stable_id

__all__ = ["FETCH_PAGE", "FetchedFile", "FetchedPage", "build_item", "page_digest"]

# Failed downloads are recorded under this task name; its payload names the page's `url`
# and `source_id`, so a replay can fetch that page again (see crawler.worker).
from hitwatch.tasks import FETCH_PAGE


@dataclass(frozen=True)
class FetchedFile:
    """A document linked from an article page, fetched with it (`real_url`: the site's URL)."""

    real_url: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class FetchedPage:
    """An article page as fetched; `real_url` is the site's URL even when the mirror served it."""

    url: str
    final_url: str
    real_url: str
    source_id: str
    status: int
    content_type: str
    body: bytes
    hints: dict[str, str] = field(default_factory=dict)
    mirrored: bool = False
    attachments: tuple[FetchedFile, ...] = ()
    missing_documents: tuple[str, ...] = ()  # linked files that could not be fetched


def page_digest(page: FetchedPage) -> str:
    """What tells that a page changed: its bytes, and those of the files fetched with it
    (so a replay that now gets a file missed the first time hands the page over again).
    A page without files keeps the plain hash of its bytes."""
    digest = hashlib.sha256(page.body)
    for file in page.attachments:
        digest.update(hashlib.sha256(file.body).digest())
    return digest.hexdigest()


def build_item(page: FetchedPage, fetched_at: datetime, *, updated: bool = False) -> CrawledItem:
    """The `classify` message for `page`; its id is the stable id of the canonical real URL."""
    hints = {k: v for k, v in page.hints.items() if v}
    if page.mirrored:
        hints["original_url"] = page.real_url
    if updated:
        hints["update"] = "1"
    return CrawledItem.model_validate(
        {
            "item_id": stable_id(canonicalize_url(page.real_url)),
            "url": page.url,
            "final_url": page.final_url,
            "source_id": page.source_id,
            "fetched_at": fetched_at,
            "status": page.status,
            "content_type": page.content_type,
            "body_z64": CrawledItem.pack_body(page.body),
            "hints": hints,
            "attachments": [
                AttachmentFile(
                    url=file.real_url,
                    content_type=file.content_type,
                    data_z64=CrawledItem.pack_body(file.body),
                )
                for file in page.attachments
            ],
        }
    )
