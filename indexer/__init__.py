"""Indexer service: stores classified documents and makes them searchable
(crawl -> classify -> **index** -> publish/alert), then announces them on the `notify` queue."""
