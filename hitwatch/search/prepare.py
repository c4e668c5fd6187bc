"""From what a reader typed to the tree the backends run: parse, typed terms, synonyms,
topic names.

The search page, the API and alert rules all call `prepare_query`, so a query means the
same everywhere. People type Chinese and Latin letters together (医疗AI监管, 医保DRG) and
separate words with ，、；: an unquoted term is split into the terms meant
(`hitwatch.text.split_term`) before synonyms are looked up, so `医疗AI` finds whatever
`医疗 AI` finds, 人工智能 included. A quoted phrase is left whole.
"""

from __future__ import annotations

from hitwatch.search.query import (
    And,
    Field,
    MatchAll,
    Node,
    Not,
    Or,
    Term,
    parse_query,
    query_error,
)
from hitwatch.search.synonyms import expand_synonyms, load_synonyms
from hitwatch.text import normalize, split_term
from hitwatch.topics import topic_codes, topic_names

__all__ = ["expand_terms", "prepare_query", "resolve_topics", "split_terms", "typed_conjuncts"]


def _and(children: list[Node]) -> Node:
    """An AND of the children, nested ANDs flattened (one child: itself)."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    return flat[0] if len(flat) == 1 else And(tuple(dict.fromkeys(flat)))


def split_terms(node: Node) -> Node:
    """Each unquoted term as the AND of its parts (`split_term`); no synonyms."""
    if isinstance(node, Term) and not node.phrase:
        return _and([Term(part) for part in split_term(node.text)])
    if isinstance(node, And):
        return _and([split_terms(child) for child in node.children])
    if isinstance(node, Or):
        return Or(tuple(split_terms(child) for child in node.children))
    if isinstance(node, Not):
        return Not(split_terms(node.child))
    return node


def expand_terms(node: Node, table: dict[str, tuple[str, ...]] | None = None) -> Node:
    """Each unquoted term split into its parts, each part with its synonyms.

    A term that is itself a synonym although it splits (生成式AI) also finds its group:
    OR the split parts, so it never finds less than its parts typed apart.
    """
    table = load_synonyms() if table is None else table
    if isinstance(node, Term) and not node.phrase:
        parts = split_term(node.text)
        if len(parts) == 1:
            return expand_synonyms(Term(parts[0]), table)
        split = _and([expand_synonyms(Term(part), table) for part in parts])
        group = table.get(normalize(node.text))
        return Or((*(Term(member) for member in group), split)) if group else split
    if isinstance(node, And):
        return _and([expand_terms(child, table) for child in node.children])
    if isinstance(node, Or):
        return Or(tuple(expand_terms(child, table) for child in node.children))
    if isinstance(node, Not):
        return Not(expand_terms(node.child, table))
    return node


def typed_conjuncts(text: str) -> list[Node]:
    """What every match of `text` must satisfy, as the reader typed it (terms split, no
    synonyms): the parts of its top-level AND, each once. QueryError when malformed."""
    node = split_terms(parse_query(text))
    if isinstance(node, And):
        return list(node.children)
    return [] if isinstance(node, MatchAll) else [node]


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
    """The query tree for `text`: parsed, typed terms split, synonyms expanded, topic
    names made codes."""
    return resolve_topics(expand_terms(parse_query(text)))
