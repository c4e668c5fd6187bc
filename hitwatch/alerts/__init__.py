"""Alerts: saved queries of the one query language, matched against each newly indexed
story (crawl -> classify -> index -> **alert**) and mailed once per (rule, story).

Pure matching (`matching`), messages (`mail`), rules in the store with double opt-in
(`rules`) and exactly-once delivery (`delivery`); the notifier service runs it.
"""
