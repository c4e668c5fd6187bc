"""The one query language of the search box, the API and alert rules.

    电子病历 "互联网医院" (医保 | DRG) -广告 source:nhc type:政策文件 after:2024-07-01 month:2024-07

Terms and "exact phrases"; AND (also a space), OR (also `|`), NOT (also a leading `-`);
parentheses; field filters. It is parsed once into a small syntax tree that each backend
translates (Elasticsearch, SQLite FTS5, the in-memory matcher used by alerts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from hitwatch.errors import QueryError

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TERMS",
    "And",
    "DateRange",
    "Field",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Term",
    "parse_query",
]

MAX_LENGTH = 500
MAX_DEPTH = 8
MAX_TERMS = 40

# field name in the query -> what it filters
FIELDS = {
    "source": "source id or outlet name",
    "type": "document type (政策文件, 政策解读, 新闻报道 ...)",
    "topic": "topic code of the taxonomy (A, G ...)",
    "region": "province or city",
    "issuer": "issuing body (发文机关)",
    "docno": "document number (发文字号)",
}
DATE_FIELDS = ("after", "before", "month")


@dataclass(frozen=True)
class Term:
    """Text that must occur (a substring for Chinese); `phrase` when it was quoted."""

    text: str
    phrase: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    value: str


@dataclass(frozen=True)
class DateRange:
    """Published on or after `start` and before `end` (either may be open)."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class MatchAll:
    """The empty query: every document."""


Node = Term | Field | DateRange | Not | And | Or | MatchAll

_GRAMMAR = r"""
?start: or_expr?
?or_expr: and_expr (_OR and_expr)*
?and_expr: unary (_AND? unary)*
?unary: _NOT unary -> negate
      | MINUS unary -> negate_minus
      | atom
?atom: "(" or_expr ")"
     | FIELD_NAME _COLON (PHRASE | WORD) -> field
     | PHRASE -> phrase
     | WORD -> term
_OR.3: /OR(?=[\s(\"])/ | "|"
_AND.3: /AND(?=[\s(\"-])/
_NOT.3: /NOT(?=[\s(\"-])/
MINUS: /-(?=[^\s])/
FIELD_NAME.2: /(source|type|topic|region|issuer|docno|after|before|month)(?=:)/
_COLON: ":"
PHRASE: /"[^"]*"/
WORD: /[^\s()"|:\-][^\s()"|]*/
%ignore /[\s\u3000]+/
"""


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name}: expects a date like 2024-07-01, got {value!r}") from None


def _month(value: str) -> DateRange:
    try:
        year, month = (int(part) for part in value.split("-"))
        start = date(year, month, 1)
    except ValueError:
        raise QueryError(f"month: expects a month like 2024-07, got {value!r}") from None
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return DateRange(start, end)


@v_args(inline=True)
class _Build(Transformer[Token, Node]):
    def start(self, *children: Node) -> Node:
        return children[0] if children else MatchAll()

    def or_expr(self, *children: Node) -> Node:
        return Or(tuple(children))

    def and_expr(self, *children: Node) -> Node:
        return And(tuple(children))

    def negate(self, child: Node) -> Node:
        return Not(child)

    def negate_minus(self, _minus: Token, child: Node) -> Node:
        return Not(child)

    def term(self, token: Token) -> Node:
        return Term(str(token))

    def phrase(self, token: Token) -> Node:
        text = str(token)[1:-1].strip()
        if not text:
            raise QueryError(
                f'empty quotes at position {token.column}: write a phrase inside "..."'
            )
        return Term(text, phrase=True)

    def field(self, name: Token, value: Token) -> Node:
        text = str(value)
        if text.startswith('"'):
            text = text[1:-1].strip()
        if name == "after":
            return DateRange(start=_date(text, "after"))
        if name == "before":
            return DateRange(end=_date(text, "before"))
        if name == "month":
            return _month(text)
        if not text:
            raise QueryError(f"{name}: needs a value, e.g. {name}:…")
        return Field(str(name), text)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


def _check_size(node: Node, depth: int = 1) -> int:
    if depth > MAX_DEPTH:
        raise QueryError(f"query nests deeper than {MAX_DEPTH} levels; simplify the parentheses")
    if isinstance(node, (And, Or)):
        return sum(_check_size(child, depth + 1) for child in node.children)
    if isinstance(node, Not):
        return _check_size(node.child, depth + 1)
    return 1


def _describe(error: UnexpectedInput, text: str) -> str:
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END"):
        return (
            "query ends too early (an open parenthesis or a dangling operator?)"
            f"\n  {text}\n  {' ' * len(text)}^"
        )
    position = getattr(error, "column", None) or len(text)
    pointer = f"\n  {text}\n  {' ' * (position - 1)}^"
    if isinstance(error, UnexpectedCharacters):
        return f"unexpected {text[position - 1]!r} at position {position}{pointer}"
    return f"unexpected {str(token)!r} at position {position}{pointer}"


def parse_query(text: str) -> Node:
    """Parse a query; `QueryError` says what is wrong and where."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise QueryError(f"query is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if text.count('"') % 2:
        raise QueryError(f'unclosed quote at position {text.rfind(chr(34)) + 1}: add the closing "')
    try:
        tree = _parser().parse(text)
        node: Node = _Build().transform(tree) if not isinstance(tree, Token) else Term(str(tree))
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        raise QueryError(_describe(exc, text)) from None
    if _check_size(node) > MAX_TERMS:
        raise QueryError(f"query has more than {MAX_TERMS} terms and filters; narrow it down")
    return node
