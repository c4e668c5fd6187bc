"""Alerts: saved queries of the one query language, matched against each newly indexed
story (crawl -> classify -> index -> **alert**) and mailed once per (rule, story).

Messages (`mail`), rules in the store with double opt-in (`rules`) and exactly-once
delivery (`delivery`); what a rule's query means and the fast matcher of many rules are
`hitwatch.search`'s (`compile_rule`, `RuleMatcher`), so a rule means what a search means.
The notifier service runs it.
"""
