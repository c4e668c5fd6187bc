"""Task names and queues: the only way one service asks another to do something.

A service sends a task by its name (`send_task`) with a message from `hitwatch.messages`
and never imports the service that runs it. Names are `<service>.<verb_noun>`.
"""

from __future__ import annotations

__all__ = [
    "BUILD_DIGEST",
    "CLASSIFY_ITEM",
    "CRAWL_SOURCE",
    "DELIVER_DIGEST",
    "FETCH_PAGE",
    "HANDLE_STORY_INDEXED",
    "INDEX_DOCUMENT",
    "QUEUES",
    "RECLASSIFY_DOCUMENTS",
    "SEND_ALERT_BUNDLES",
    "TASK_QUEUES",
    "queue_for",
]

CRAWL_SOURCE = "crawler.crawl_source"
FETCH_PAGE = "crawler.fetch_page"
CLASSIFY_ITEM = "classifier.classify_item"
RECLASSIFY_DOCUMENTS = "classifier.reclassify_documents"
INDEX_DOCUMENT = "indexer.index_document"
HANDLE_STORY_INDEXED = "notifier.handle_story_indexed"
BUILD_DIGEST = "notifier.build_digest"
DELIVER_DIGEST = "notifier.deliver_digest"
SEND_ALERT_BUNDLES = "notifier.send_alert_bundles"

# Every task name and the queue it travels on; one queue per pipeline stage so that each
# stage scales by adding workers that listen to its queue only.
TASK_QUEUES: dict[str, str] = {
    CRAWL_SOURCE: "crawl",
    FETCH_PAGE: "crawl",
    CLASSIFY_ITEM: "classify",
    RECLASSIFY_DOCUMENTS: "classify",
    INDEX_DOCUMENT: "index",
    HANDLE_STORY_INDEXED: "notify",
    BUILD_DIGEST: "notify",
    DELIVER_DIGEST: "notify",
    SEND_ALERT_BUNDLES: "notify",
}

QUEUES: tuple[str, ...] = ("crawl", "classify", "index", "notify")


def queue_for(task_name: str) -> str:
    try:
        return TASK_QUEUES[task_name]
    except KeyError:
        raise KeyError(f"task {task_name!r} has no queue; add it to hitwatch.tasks") from None
