"""A query in words, for people: what an alert without a name is called in its mails.

`topic:A -广告 (医保 | DRG)` reads 主题：医疗大模型与生成式AI、不含广告、（医保 或 DRG）:
field labels and topic names instead of codes, the connectives in Chinese. The wording
is data, in `wording.yaml`.
"""

from __future__ import annotations

from typing import Any

from hitwatch.errors import QueryError
from hitwatch.search import And, DateRange, Field, MatchAll, Node, Not, Or, Term, parse_query
from hitwatch.topics import topic_names

__all__ = ["describe_query"]


def describe_query(query: str, words: dict[str, Any]) -> str:
    """The query in words (`words`: the wording file); the query itself when it does not
    parse (a rule stored under an older grammar)."""
    try:
        node = parse_query(query)
    except QueryError:
        return query
    return _words(node, topic_names(), words, top=True)


def _words(node: Node, topics: dict[str, str], words: dict[str, Any], *, top: bool = False) -> str:
    if isinstance(node, Term):
        return f"“{node.text}”" if node.phrase else node.text
    if isinstance(node, Field):
        label = words["fields"].get(node.name, node.name)
        value = topics.get(node.value.upper(), node.value) if node.name == "topic" else node.value
        return f"{label}：{value}"
    if isinstance(node, DateRange):
        parts = []
        if node.start:
            parts.append(words["date_from"].format(date=node.start.isoformat()))
        if node.end:
            parts.append(words["date_before"].format(date=node.end.isoformat()))
        return "".join(parts)
    if isinstance(node, Not):
        return f"{words['not_word']}{_words(node.child, topics, words)}"
    if isinstance(node, And):
        return str(words["all_words"]).join(_words(c, topics, words) for c in node.children)
    if isinstance(node, Or):
        text = str(words["any_word"]).join(_words(c, topics, words) for c in node.children)
        return text if top else f"（{text}）"
    if isinstance(node, MatchAll):
        return str(words["everything"])
    return str(node)
