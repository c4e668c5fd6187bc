"""From what a reader typed to the tree the backends run: parse, synonyms, topic names.

The search page, the API and alert rules all call `prepare_query`, so a query means the
same everywhere.
"""

from __future__ import annotations

from hitwatch.search.query import And, Field, Node, Not, Or, parse_query, query_error
from hitwatch.search.synonyms import expand_synonyms
from hitwatch.topics import topic_codes, topic_names

__all__ = ["prepare_query", "resolve_topics"]


def resolve_topics(node: Node, names: dict[str, str] | None = None) -> Node:
    """Each `topic:` value as the topic code(s) it names (an OR when a part names several).

    A value naming no topic is refused (`QueryError`) rather than silently matching nothing.
    """
    names = topic_names() if names is None else names
    if isinstance(node, Field) and node.name == "topic":
        codes = topic_codes(node.value, names)
        if not codes:
            listing = "、".join(f"{code} {name}" for code, name in names.items())
            raise query_error("unknown_topic", value=node.value, topics=listing)
        if len(codes) == 1:
            return Field("topic", codes[0])
        return Or(tuple(Field("topic", code) for code in codes))
    if isinstance(node, And):
        return And(tuple(resolve_topics(child, names) for child in node.children))
    if isinstance(node, Or):
        return Or(tuple(resolve_topics(child, names) for child in node.children))
    if isinstance(node, Not):
        return Not(resolve_topics(node.child, names))
    return node


def prepare_query(text: str) -> Node:
    """The query tree for `text`: parsed, synonyms expanded, topic names made codes."""
    return resolve_topics(expand_synonyms(parse_query(text)))
