"""Notifier service: reacts to "story indexed" events (crawl -> classify -> index ->
**publish/alert**); keyword alerts and digest delivery hang off these events."""
