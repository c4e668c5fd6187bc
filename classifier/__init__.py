"""Classifier service: turns crawled pages into classified, deduplicated documents
(crawl -> **classify** -> index -> publish)."""
