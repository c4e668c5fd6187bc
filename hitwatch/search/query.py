"""The one query language of the search box, the API and alert rules.

    电子病历 "互联网医院" (医保 | DRG) -广告 source:nhc type:政策文件 after:2024-07-01 month:2024-07

Terms and "exact phrases"; AND (also a space), OR (also `|`), NOT (also a leading `-`);
parentheses; field filters. It is parsed once into a small syntax tree that each backend
translates (Elasticsearch, SQLite FTS5, the in-memory matcher used by alerts).

Operators may be typed full-width, as a Chinese input method gives them: （医保｜DRG）,
“互联网医院”, －广告, source：nhc (a full-width colon only after a field name: elsewhere
it separates words, see `hitwatch.text.split_term`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from hitwatch.errors import QueryError

__all__ = [
    "FIELDS",
    "LINK_FIELDS",
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
    "month_of",
    "parse_query",
    "pointer",
    "query_error",
    "query_text",
]

MAX_LENGTH = 500
MAX_DEPTH = 8
MAX_TERMS = 40

# field name in the query -> what it filters
FIELDS = {
    "source": "source id or outlet name",
    "type": "document type (政策文件, 政策解读, 新闻报道 ...)",
    "topic": "topic of the taxonomy, by code (G) or name (医保信息化与支付改革, or part of it)",
    "region": "province or city; 广东 and 深圳 both find 广东省深圳市 (start of either)",
    "issuer": "issuing body (发文机关)",
    "docno": "document number (发文字号)",
    "status": "validity of a policy document (现行有效, 已修订, 已废止)",
    "implements": "implements the policy with this id (a province's 实施方案 of a national policy)",
    "interprets": "interprets the policy with this id (its official 解读)",
    "cites": "names the policy with this id in any way (cites, implements, interprets, reports)",
}
# The query fields answered by a document's links to policies (SearchDocument.links).
LINK_FIELDS = ("implements", "interprets", "cites")
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
FIELD_NAME.2: /(source|type|topic|region|issuer|docno|status|implements|interprets|cites|after
    |before|month)(?=[:：])/x
_COLON: /[:：]/
PHRASE: /"[^"]*"/
WORD: /[^\s()"|:\-][^\s()"|]*/
%ignore /[\s\u3000]+/
"""


# Where a full-width （ or － is an operator: at the start of a word, after a space or an
# operator (as read). Inside a word (国办发（2019）4号) it is text; a （ keeps its ） with it.
_AFTER_OPERATOR = frozenset("()|-")


def _half_width(text: str) -> str:
    """The full-width operators of `text` (and Chinese quotation marks) as the parser reads
    them, one character for one, so error positions stay those of the typed text."""
    out = list(text)
    opened: list[bool] = []  # per open （: whether it is an operator
    quoted = False
    for position, char in enumerate(text):
        before = out[position - 1] if position else " "
        starts_word = before.isspace() or before in _AFTER_OPERATOR
        if char in '"＂“”':
            out[position] = '"'
            quoted = not quoted
        elif quoted:
            continue
        elif char == "（":
            opened.append(starts_word)
            out[position] = "(" if starts_word else char
        elif char == "）":
            out[position] = ")" if opened and opened.pop() else char
        elif char == "｜":
            out[position] = "|"
        elif char == "－" and starts_word:
            out[position] = "-"
    return "".join(out)


ERRORS = Path(__file__).with_name("query_errors.yaml")
_FIELD_EXAMPLES = {"source": "nhc", "type": "政策文件", "topic": "G", "region": "广东",
                   "issuer": "国家医保局", "docno": "国卫办发〔2024〕3号",
                   "status": "现行有效", "implements": "政策编号", "interprets": "政策编号",
                   "cites": "政策编号"}  # fmt: skip


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ERRORS.read_text("utf-8"))
    return loaded


def _width(text: str) -> int:
    """Columns the text takes in a monospaced font: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pointer(text: str, position: int) -> str:
    """The query and, under it, a caret at the 1-based character `position`."""
    return f"  {text}\n  {' ' * _width(text[: position - 1])}^"


def query_error(
    code: str, text: str = "", position: int | None = None, **params: Any
) -> QueryError:
    """The error `code` of query_errors.yaml, at `position` of `text` when given."""
    messages = _messages()
    message = str(messages["messages"][code]).format(**params)
    detail = ""
    if position is not None:
        message = str(messages["at"]).format(position=position, message=message)
        detail = pointer(text, position) if text else ""
    return QueryError(message, code=code, position=position, detail=detail)


def _date(value: str, name: str, text: str, position: int) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise query_error("bad_date", text, position, field=name, value=value) from None


def _month(value: str, text: str, position: int) -> DateRange:
    try:
        year, month = (int(part) for part in value.split("-"))
        start = date(year, month, 1)
    except ValueError:
        raise query_error("bad_month", text, position, value=value) from None
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return DateRange(start, end)


@v_args(inline=True)
class _Build(Transformer[Token, Node]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

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
            raise query_error("empty_quotes", self.text, token.column)
        return Term(text, phrase=True)

    def field(self, name: Token, value: Token) -> Node:
        text = str(value)
        if text.startswith('"'):
            text = text[1:-1].strip()
        at = name.column or 1
        if name == "after":
            return DateRange(start=_date(text, "after", self.text, at))
        if name == "before":
            return DateRange(end=_date(text, "before", self.text, at))
        if name == "month":
            return _month(text, self.text, at)
        if not text:
            example = _FIELD_EXAMPLES.get(str(name), "…")
            raise query_error("empty_field", self.text, at, field=str(name), example=example)
        return Field(str(name), text)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


def _check_size(node: Node, depth: int = 1) -> int:
    if depth > MAX_DEPTH:
        raise query_error("too_deep", limit=MAX_DEPTH)
    if isinstance(node, (And, Or)):
        return sum(_check_size(child, depth + 1) for child in node.children)
    if isinstance(node, Not):
        return _check_size(node.child, depth + 1)
    return 1


def _check_brackets(text: str) -> None:
    """Unbalanced quotes and parentheses, reported where they are (outside quotes)."""
    opened: list[int] = []
    quote: int | None = None
    for position, char in enumerate(text, 1):
        if char == '"':
            quote = None if quote is not None else position
        elif quote is not None:
            continue
        elif char == "(":
            opened.append(position)
        elif char == ")":
            if not opened:
                raise query_error("unmatched_paren", text, position)
            start = opened.pop()
            if not text[start : position - 1].strip():
                raise query_error("empty_parens", text, start)
    if quote is not None:
        raise query_error("unclosed_quote", text, quote)
    if opened:
        raise query_error("unclosed_paren", text, opened[-1])


def _describe(error: UnexpectedInput, text: str) -> QueryError:
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END"):
        last = text.rstrip()
        operator = next((op for op in ("|", "OR", "AND", "NOT", "-") if last.endswith(op)), "")
        if operator:
            at = len(last) - len(operator) + 1
            return query_error("dangling_operator", text, at, operator=operator)
        return query_error("ends_early", text, len(text))
    position = getattr(error, "column", None) or len(text)
    if isinstance(error, UnexpectedCharacters):
        char = text[position - 1]
        if char == ":":
            name = text[: position - 1].split()[-1] if text[: position - 1].split() else ""
            fields = "、".join((*FIELDS, *DATE_FIELDS))
            start = position - len(name)
            return query_error("unknown_field", text, start, name=name, fields=fields)
        if char == "-" and not text[position:].strip():
            return query_error("dangling_operator", text, position, operator=char)
        return query_error("unexpected", text, position, found=char)
    assert token is not None
    if token.type in ("_OR", "_AND") or str(token) == "|":
        return query_error("leading_operator", text, position, operator=str(token))
    return query_error("unexpected", text, position, found=str(token))


# A field value must be quoted when it holds what the parser reads as syntax.
_NEEDS_QUOTES = re.compile(r'[\s()|:"（）｜：“”＂]|^[-－]')


def month_of(node: DateRange) -> str:
    """'YYYY-MM' when the range is exactly one calendar month (as `month:` makes), else ''."""
    start, end = node.start, node.end
    if start is None or end is None or start.day != 1:
        return ""
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start.strftime("%Y-%m") if end == following else ""


def query_text(node: Node) -> str:
    """A tree as query text that parses back to it (phrases and odd values quoted)."""
    if isinstance(node, Term):
        quote = node.phrase or _NEEDS_QUOTES.search(node.text)
        return f'"{node.text.replace(chr(34), "")}"' if quote else node.text
    if isinstance(node, Field):
        if _NEEDS_QUOTES.search(node.value):
            return f'{node.name}:"{node.value.replace(chr(34), "")}"'
        return f"{node.name}:{node.value}"
    if isinstance(node, DateRange):
        month = month_of(node)
        if month:
            return f"month:{month}"
        bounds = [("after", node.start), ("before", node.end)]
        return " ".join(f"{name}:{day.isoformat()}" for name, day in bounds if day)
    if isinstance(node, Not):
        inner = query_text(node.child)
        return f"-{inner}" if isinstance(node.child, (Term, Field)) else f"-({inner})"
    if isinstance(node, And):
        return " ".join(
            f"({query_text(child)})" if isinstance(child, Or) else query_text(child)
            for child in node.children
        )
    if isinstance(node, Or):
        return " | ".join(
            f"({query_text(child)})" if isinstance(child, And) else query_text(child)
            for child in node.children
        )
    return ""


def parse_query(text: str) -> Node:
    """Parse a query; `QueryError` says what is wrong and where (in Chinese, for readers)."""
    typed = text.strip()
    try:
        return _parse(_half_width(typed))
    except QueryError as exc:
        if exc.position is None or not exc.detail:
            raise
        # The caret under what the reader typed, not under its half-width reading.
        raise QueryError(
            exc.message, code=exc.code, position=exc.position, detail=pointer(typed, exc.position)
        ) from None


def _parse(text: str) -> Node:
    if len(text) > MAX_LENGTH:
        raise query_error("too_long", length=len(text), limit=MAX_LENGTH)
    _check_brackets(text)
    try:
        tree = _parser().parse(text)
        node: Node = (
            _Build(text).transform(tree) if not isinstance(tree, Token) else Term(str(tree))
        )
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        raise _describe(exc, text) from None
    if _check_size(node) > MAX_TERMS:
        raise query_error("too_many_terms", limit=MAX_TERMS)
    return node
