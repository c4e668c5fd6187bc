"""Which alert rules a new document matches, fast enough for tens of thousands of rules.

The meaning of a rule is exactly the in-memory matcher's (`hitwatch.search.memory`):
filters, dates and negations are evaluated by it. What is added here is speed for many
rules against one document:

- the document is tokenised once, with each token's positions, so a term is checked by
  looking at the positions of its first token instead of scanning the text;
- each distinct term is numbered once and checked at most once per document, however
  many rules hold it;
- rules are indexed by their *anchors* (terms of which every match holds at least one),
  so a document is only evaluated against rules one of whose anchors it contains; rules
  without anchors (only filters, or only negations) are evaluated for every document.

A rule's query is prepared exactly as the search page's (`prepare_query`: synonyms, topic
names as codes, unknown topics refused), so a rule fires on a document exactly when a
search for the same query returns it; the agreement tests in `tests/contract/` check that
through the web form and the notifier on every backend, and a unit test checks that
`RuleMatcher` and `memory.evaluate` agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hitwatch.errors import QueryError
from hitwatch.search.base import SearchDocument
from hitwatch.search.memory import TokenizedDocument, evaluate, tokenize_document
from hitwatch.search.prepare import prepare_query
from hitwatch.search.query import And, MatchAll, Node, Not, Or, Term
from hitwatch.search.terms import term_tokens
from hitwatch.text import QueryTokens

__all__ = ["CompiledRule", "DocumentTerms", "RuleMatcher", "anchors", "compile_rule"]


@dataclass(frozen=True)
class CompiledRule:
    """A rule's query prepared once (as the search page prepares it), with what the
    matcher needs."""

    id: int
    query: Node
    include_offtopic: bool = False


def compile_rule(rule_id: int, text: str, *, include_offtopic: bool = False) -> CompiledRule:
    """Prepare a rule's query as a search would; QueryError when it is malformed, names an
    unknown topic or matches everything."""
    query = prepare_query(text)
    if isinstance(query, MatchAll):
        raise QueryError("an alert needs at least one term or filter")
    return CompiledRule(rule_id, query, include_offtopic)


def anchors(node: Node) -> frozenset[QueryTokens] | None:
    """Terms (as tokens) of which every match holds one; None when a match may hold none."""
    if isinstance(node, Term):
        tokens = term_tokens(node)
        return frozenset({tokens}) if tokens is not None else None
    if isinstance(node, And):
        best: frozenset[QueryTokens] | None = None
        for child in node.children:
            found = anchors(child)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best
    if isinstance(node, Or):
        union: set[QueryTokens] = set()
        for child in node.children:
            found = anchors(child)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    return None


# A rule's query compiled for matching: a term is the index of its tokens in the
# matcher's term table (True for a term without tokens, which matches everything), and
# the other nodes become ("&" | "|", children), ("!", child) or ("=", filter node).
Plan = int | bool | tuple[str, Any]


class DocumentTerms:
    """A tokenised document that answers "does it hold this term?" quickly."""

    def __init__(self, document: SearchDocument) -> None:
        self.tokenized: TokenizedDocument = tokenize_document(document)
        self.positions: list[dict[str, list[int]]] = []  # title's, body's: token -> offsets
        self.firsts: set[str] = set()  # first characters of every token
        for tokens in (self.tokenized.title, self.tokenized.body):
            positions: dict[str, list[int]] = defaultdict(list)
            for index, token in enumerate(tokens):
                positions[token].append(index)
                self.firsts.add(token[0])
            self.positions.append(positions)

    def holds(self, term: QueryTokens) -> bool:
        wanted = term.tokens
        last = len(wanted) - 1
        if last == 0 and term.prefix:
            # A lone CJK character: every character of a CJK run starts a token.
            if wanted[0] not in self.firsts:
                return False
            return any(
                token.startswith(wanted[0]) for positions in self.positions for token in positions
            )
        for tokens, positions in zip(
            (self.tokenized.title, self.tokenized.body), self.positions, strict=True
        ):
            for start in positions.get(wanted[0], ()):
                end = start + last
                if end >= len(tokens):
                    break
                if any(tokens[start + i] != wanted[i] for i in range(1, last)):
                    continue
                token = tokens[end]
                if token == wanted[last] or (term.prefix and token.startswith(wanted[last])):
                    return True
        return False


class RuleMatcher:
    """Compiled rules indexed by anchor; `match(document)` gives the ids of matching rules.

    Every distinct term of every rule is numbered once; a document answers each number
    at most once (a memo list), whichever rules share it.
    """

    def __init__(self, rules: Iterable[CompiledRule] = ()) -> None:
        self.rules: dict[int, CompiledRule] = {}
        self._terms: list[QueryTokens] = []
        self._term_ids: dict[QueryTokens, int] = {}
        self._plans: dict[int, Plan] = {}
        by_anchor: dict[int, list[int]] = defaultdict(list)
        self._unanchored: list[int] = []
        for rule in rules:
            self.rules[rule.id] = rule
            self._plans[rule.id] = self._plan(rule.query)
            found = anchors(rule.query)
            if found is None:
                self._unanchored.append(rule.id)
            else:
                for tokens in found:
                    by_anchor[self._term_id(tokens)].append(rule.id)
        # Anchors by the first token a document must hold for them (by first character
        # for a trailing lone character), so a document looks only at anchors it may hold.
        self._by_first: dict[str, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        self._by_char: dict[str, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        for term_id, ids in by_anchor.items():
            term = self._terms[term_id]
            lone = len(term.tokens) == 1 and term.prefix
            (self._by_char if lone else self._by_first)[term.tokens[0]].append(
                (term_id, tuple(ids))
            )

    def _term_id(self, tokens: QueryTokens) -> int:
        term_id = self._term_ids.get(tokens)
        if term_id is None:
            term_id = self._term_ids[tokens] = len(self._terms)
            self._terms.append(tokens)
        return term_id

    def _plan(self, node: Node) -> Plan:
        if isinstance(node, Term):
            tokens = term_tokens(node)
            return True if tokens is None else self._term_id(tokens)
        if isinstance(node, And):
            return ("&", tuple(self._plan(child) for child in node.children))
        if isinstance(node, Or):
            return ("|", tuple(self._plan(child) for child in node.children))
        if isinstance(node, Not):
            return ("!", self._plan(node.child))
        return ("=", node)

    def __len__(self) -> int:
        return len(self.rules)

    def _holds(self, term_id: int, doc: DocumentTerms, memo: list[bool | None]) -> bool:
        known = memo[term_id]
        if known is None:
            known = memo[term_id] = doc.holds(self._terms[term_id])
        return known

    def _run(self, plan: Plan, doc: DocumentTerms, memo: list[bool | None]) -> bool:
        if plan is True:
            return True
        if isinstance(plan, int):
            return self._holds(plan, doc, memo)
        operator, operand = plan
        if operator == "&":
            return all(self._run(child, doc, memo) for child in operand)
        if operator == "|":
            return any(self._run(child, doc, memo) for child in operand)
        if operator == "!":
            return not self._run(operand, doc, memo)
        return evaluate(operand, doc.tokenized) is not None

    def _candidates(self, doc: DocumentTerms, memo: list[bool | None]) -> set[int]:
        found: set[int] = set(self._unanchored)
        title, body = doc.positions
        for keys, table in (
            (title.keys() | body.keys(), self._by_first),
            (doc.firsts, self._by_char),
        ):
            for key in keys:
                for term_id, rule_ids in table.get(key, ()):
                    if self._holds(term_id, doc, memo):
                        found.update(rule_ids)
        return found

    def match(self, document: SearchDocument) -> list[int]:
        """Ids of the rules the document matches, off-topic documents only for rules that
        take them, in rule id order."""
        return [rule.id for rule in self.matching_rules(document)]

    def matching_rules(self, document: SearchDocument) -> list[CompiledRule]:
        doc = DocumentTerms(document)
        memo: list[bool | None] = [None] * len(self._terms)
        matched = []
        for rule_id in sorted(self._candidates(doc, memo)):
            rule = self.rules[rule_id]
            if not document.relevant and not rule.include_offtopic:
                continue
            if self._run(self._plans[rule_id], doc, memo):
                matched.append(rule)
        return matched
