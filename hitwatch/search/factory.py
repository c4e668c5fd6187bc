"""Pick the search index implementation from the settings."""

from __future__ import annotations

from hitwatch.search.base import SearchIndex
from hitwatch.settings import Settings

__all__ = ["open_search_index"]


def open_search_index(settings: Settings) -> SearchIndex:
    """Elasticsearch when ELASTICSEARCH_URL is set, else the embedded SQLite FTS5 index."""
    if settings.elasticsearch_url:
        from hitwatch.search.elastic import ElasticsearchIndex

        hosts = [url.strip() for url in settings.elasticsearch_url.split(",") if url.strip()]
        return ElasticsearchIndex(
            hosts, settings.elasticsearch_index, shards=settings.elasticsearch_shards
        )
    from hitwatch.search.fts5 import Fts5Index

    return Fts5Index(settings.fts_path)
