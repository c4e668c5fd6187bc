"""Which alert rules a new document matches, fast enough for tens of thousands of rules.

The meaning of a rule is exactly the in-memory matcher's (`hitwatch.search.memory`):
filters, dates and negations are evaluated by it. What is added here is speed for many
rules against one document:

- the document is tokenised once, with each token's positions, so a term is checked by
  looking at the positions of its first token instead of scanning the text;
- each distinct term is checked at most once per document, however many rules hold it;
- rules are indexed by their *anchors* (terms of which every match holds at least one),
  so a document is only evaluated against rules one of whose anchors it contains; rules
  without anchors (only filters, or only negations) are evaluated for every document.

A unit test checks that `RuleMatcher` and `memory.evaluate` agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hitwatch.errors import QueryError
from hitwatch.search.base import SearchDocument
from hitwatch.search.memory import TokenizedDocument, evaluate, tokenize_document
from hitwatch.search.query import And, MatchAll, Node, Not, Or, Term, parse_query
from hitwatch.search.synonyms import expand_synonyms
from hitwatch.search.terms import term_tokens
from hitwatch.text import QueryTokens

__all__ = ["CompiledRule", "DocumentTerms", "RuleMatcher", "anchors", "compile_rule"]


@dataclass(frozen=True)
class CompiledRule:
    """A rule's query parsed (synonyms expanded) once, with what the matcher needs."""

    id: int
    query: Node
    include_offtopic: bool = False


def compile_rule(rule_id: int, text: str, *, include_offtopic: bool = False) -> CompiledRule:
    """Parse a rule's query; QueryError when it is malformed or matches everything."""
    query = parse_query(text)
    if isinstance(query, MatchAll):
        raise QueryError("an alert needs at least one term or filter")
    return CompiledRule(rule_id, expand_synonyms(query), include_offtopic)


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


class DocumentTerms:
    """A tokenised document that answers "does it hold this term?" quickly, with a memo."""

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
        self._memo: dict[QueryTokens, bool] = {}

    def holds(self, term: QueryTokens) -> bool:
        known = self._memo.get(term)
        if known is None:
            known = self._memo[term] = self._find(term)
        return known

    def _find(self, term: QueryTokens) -> bool:
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

    def matches(self, node: Node) -> bool:
        """`memory.evaluate(node) is not None`, with terms answered from the memo."""
        if isinstance(node, Term):
            tokens = term_tokens(node)
            return tokens is None or self.holds(tokens)
        if isinstance(node, And):
            return all(self.matches(child) for child in node.children)
        if isinstance(node, Or):
            return any(self.matches(child) for child in node.children)
        if isinstance(node, Not):
            return not self.matches(node.child)
        return evaluate(node, self.tokenized) is not None


class RuleMatcher:
    """Compiled rules indexed by anchor; `match(document)` gives the ids of matching rules."""

    def __init__(self, rules: Iterable[CompiledRule] = ()) -> None:
        self.rules: dict[int, CompiledRule] = {}
        self._by_anchor: dict[QueryTokens, list[int]] = defaultdict(list)
        self._unanchored: list[int] = []
        for rule in rules:
            self.rules[rule.id] = rule
            found = anchors(rule.query)
            if found is None:
                self._unanchored.append(rule.id)
            else:
                for tokens in found:
                    self._by_anchor[tokens].append(rule.id)
        # The cheap first test of an anchor: are all its tokens (or first characters, for
        # a trailing lone character) in the document at all?
        self._anchor_list = list(self._by_anchor)

    def __len__(self) -> int:
        return len(self.rules)

    def candidates(self, doc: DocumentTerms) -> set[int]:
        found: set[int] = set(self._unanchored)
        title, body = doc.positions
        for tokens in self._anchor_list:
            first = tokens.tokens[0]
            if len(tokens.tokens) == 1 and tokens.prefix:
                if first not in doc.firsts:
                    continue
            elif first not in title and first not in body:
                continue
            if doc.holds(tokens):
                found.update(self._by_anchor[tokens])
        return found

    def match(self, document: SearchDocument) -> list[int]:
        """Ids of the rules the document matches, off-topic documents only for rules that
        take them, in rule id order."""
        return [rule.id for rule in self.matching_rules(document)]

    def matching_rules(self, document: SearchDocument) -> list[CompiledRule]:
        doc = DocumentTerms(document)
        matched = []
        for rule_id in sorted(self.candidates(doc)):
            rule = self.rules[rule_id]
            if not document.relevant and not rule.include_offtopic:
                continue
            if doc.matches(rule.query):
                matched.append(rule)
        return matched

    def match_many(self, documents: Sequence[SearchDocument]) -> dict[str, list[int]]:
        return {document.doc_id: self.match(document) for document in documents}
