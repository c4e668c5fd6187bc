"""Synonym expansion of a parsed query, from the editable `synonyms.yaml`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from hitwatch.search.query import And, Node, Not, Or, Term
from hitwatch.text import normalize

__all__ = ["expand_synonyms", "load_synonyms"]

SYNONYMS = Path(__file__).with_name("synonyms.yaml")


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS) -> dict[str, tuple[str, ...]]:
    """normalised term -> every member of its group (the term itself included)."""
    table: dict[str, tuple[str, ...]] = {}
    for group in yaml.safe_load(path.read_text("utf-8"))["groups"]:
        members = tuple(str(member) for member in group)
        for member in members:
            table[normalize(member)] = members
    return table


def expand_synonyms(node: Node, table: dict[str, tuple[str, ...]] | None = None) -> Node:
    """Replace each unquoted term that has synonyms by an OR of its group."""
    table = load_synonyms() if table is None else table
    if isinstance(node, Term) and not node.phrase:
        group = table.get(normalize(node.text))
        if group:
            return Or(tuple(Term(member) for member in group))
        return node
    if isinstance(node, And):
        return And(tuple(expand_synonyms(child, table) for child in node.children))
    if isinstance(node, Or):
        return Or(tuple(expand_synonyms(child, table) for child in node.children))
    if isinstance(node, Not):
        return Not(expand_synonyms(node.child, table))
    return node
