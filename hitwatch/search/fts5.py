"""The embedded search index: one SQLite file with an FTS5 table, for single-host installs.

FTS5 has no Chinese tokenizer, so it indexes the token strings of `hitwatch.text`
(CJK bigrams, Latin words) and splits them on whitespace; `unicode61` does exactly that
for these strings. The FTS table keeps its own copy of the token strings (a regular,
not contentless, FTS5 table) so that an upsert can delete the old row without
re-tokenising the old text, which would corrupt the index whenever the tokeniser changes.

Filters live in the FTS table too: its third column, `keys`, holds one opaque token per
filterable value (source, type, topic, month, every prefix of the region, relevant) and
`kall` in every row. A query tree then becomes one FTS5 MATCH expression (terms on the
text columns, filters on `keys`, NOT as `kall NOT x`), so AND/OR/NOT, filters and counts
are doclist merges in C. Only `issuer:`, `docno:` and free date ranges are SQL on the
`documents` row, joined per match.

Speed at 100k+ documents (see `hitwatch bench search`): bm25 over every match of a very
common term costs time linear in the matches, so relevance is computed over at most
`RANK_CANDIDATES` matches, the most recently indexed; further pages continue newest
indexed first. Totals are counted up to `TOTAL_CAP` and reported as a lower bound beyond
it, as Elasticsearch does. Facets count at most `FACET_SAMPLE` matches, the most recently
indexed (see `SearchIndex.facets`), and so do story totals of collapsed results: each
match's story is a lookup in `documents`, 10,000 of them cost more than the ranking.

The indexer writes while the web app reads, from other processes: WAL journal (readers
never block the writer) and a busy timeout (writers wait for each other).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hitwatch.errors import SearchBackendError
from hitwatch.search.base import (
    FACET_FIELDS,
    FACET_SAMPLE,
    FACET_SIZE,
    TOTAL_CAP,
    FacetCounts,
    FacetField,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchRequest,
    order_facet,
    region_parts,
)
from hitwatch.search.query import (
    And,
    DateRange,
    Field,
    MatchAll,
    Node,
    Not,
    Or,
    Term,
    month_of,
)
from hitwatch.search.terms import (
    date_bounds,
    month_key,
    normalize_docno,
    normalize_field,
    positive_terms,
    request_query,
    term_tokens,
    utc,
)
from hitwatch.text import QueryTokens, index_tokens, normalize

__all__ = ["Fts5Build", "Fts5Index", "document_keys", "fts_expression"]

BUSY_TIMEOUT_SECONDS = 30.0
# bm25 column weights, in the FTS table's column order: a title match counts 3 bodies;
# filter keys never score.
TITLE_WEIGHT, BODY_WEIGHT, KEYS_WEIGHT = 3.0, 1.0, 0.0
_BM25 = f"bm25(documents_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, {KEYS_WEIGHT})"
# Matches ranked by bm25 at most (the most recently indexed): bounds a common term's cost.
RANK_CANDIDATES = 1_000
_ALL = "kall"  # in every row's keys: the positive side of NOT, and the empty query
_TEXT = "{title_tokens body_tokens}"
_OFF_TOPIC = "koff"  # in the keys of pages the classifier judged off-topic

_DOCUMENTS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    story_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    source_id TEXT NOT NULL,
    source_name TEXT NOT NULL,
    published_at TEXT,  -- ISO 8601 in UTC, fixed width, so text order is time order
    doc_type TEXT NOT NULL,
    topics TEXT NOT NULL,  -- JSON list
    region TEXT NOT NULL,
    relevant INTEGER NOT NULL,
    issuer TEXT NOT NULL DEFAULT '',
    doc_number TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    links TEXT NOT NULL DEFAULT '[]'  -- JSON list of "kind:policy id"
)"""
_FTS_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5 (
    title_tokens, body_tokens, keys, tokenize = 'unicode61 remove_diacritics 0'
)"""
_PUBLISHED_INDEX = "CREATE INDEX IF NOT EXISTS documents_published_at ON documents (published_at)"
_SCHEMA = ";".join(
    (
        _DOCUMENTS_TABLE.format(name="documents"),
        _PUBLISHED_INDEX,
        _FTS_TABLE.format(name="documents_fts"),
    )
)
# `hitwatch reindex` fills these beside the live tables, then renames them in their place.
_NEXT_DOCUMENTS, _NEXT_FTS = "documents_next", "documents_fts_next"

# Every column a filter, sort or facet reads, so that those never touch the rows, whose
# long body (in overflow pages) comes before the later columns. Made after older files
# gain the columns added since.
_META_INDEX = (
    "CREATE INDEX IF NOT EXISTS documents_meta2 ON documents (id, published_at, doc_id,"
    " story_id, source_id, source_name, doc_type, region, relevant, topics, issuer, doc_number)"
)
_OLD_META_INDEXES = ("documents_meta",)
# Queries name it: the planner would rather look rows up by rowid, reading each body.
_MATCHES_FROM = "documents d INDEXED BY documents_meta2"

_COLUMNS = (
    "d.doc_id, d.story_id, d.url, d.title, d.body, d.source_id, d.source_name,"
    " d.published_at, d.doc_type, d.topics, d.region, d.relevant, d.issuer, d.doc_number,"
    " d.status, d.links"
)
_NEWEST_FIRST = "d.published_at IS NULL, d.published_at DESC, d.doc_id"


def _phrase(term: QueryTokens) -> str:
    quoted = '"' + " ".join(term.tokens).replace('"', '""') + '"'
    return quoted + " *" if term.prefix else quoted


def _timestamp(moment: datetime | None) -> str | None:
    moment = utc(moment)
    return moment.isoformat(timespec="microseconds") if moment else None


def _row(document: SearchDocument) -> tuple[Any, ...]:
    return (
        document.doc_id,
        document.story_id,
        document.url,
        document.title,
        document.body,
        document.source_id,
        document.source_name,
        _timestamp(document.published_at),
        document.doc_type,
        json.dumps(list(document.topics), ensure_ascii=False),
        document.region,
        int(document.relevant),
        document.issuer,
        document.doc_number,
        document.status,
        json.dumps(list(document.links)),
    )


def _document(row: sqlite3.Row) -> SearchDocument:
    published = row["published_at"]
    return SearchDocument(
        doc_id=row["doc_id"],
        story_id=row["story_id"],
        url=row["url"],
        title=row["title"],
        body=row["body"],
        source_id=row["source_id"],
        source_name=row["source_name"],
        published_at=datetime.fromisoformat(published) if published else None,
        doc_type=row["doc_type"],
        topics=tuple(json.loads(row["topics"])),
        region=row["region"],
        relevant=bool(row["relevant"]),
        issuer=row["issuer"],
        doc_number=row["doc_number"],
        status=row["status"],
        links=tuple(json.loads(row["links"])),
    )


# Columns added after the first release: `ensure()` adds them to older index files.
_ADDED_COLUMNS = {
    "issuer": "TEXT NOT NULL DEFAULT ''",
    "doc_number": "TEXT NOT NULL DEFAULT ''",
    "status": "TEXT NOT NULL DEFAULT ''",
    "links": "TEXT NOT NULL DEFAULT '[]'",
}
_TERM_SQL = "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
# The field filters that stay SQL over the documents row; the one parameter is the value.
_FIELD_SQL = {
    "issuer": "instr(hitwatch_normalize(d.issuer), :v) > 0",
    "docno": "(d.doc_number != '' AND hitwatch_docno(d.doc_number) = :v)",
}
# query field -> the key field of `document_keys` it compares (regions by prefix)
_KEY_FIELDS = {
    "source": "source",
    "type": "type",
    "topic": "topic",
    "region": "region",
    "status": "status",
    "implements": "implements",
    "interprets": "interprets",
    "cites": "cites",
}


def _key(field: str, value: str) -> str:
    """The token standing for `field = value` in the keys column (letters and digits only)."""
    digest = hashlib.blake2b(f"{field}\x00{value}".encode(), digest_size=8).hexdigest()
    return f"k{digest}"


def document_keys(document: SearchDocument) -> str:
    """The keys-column text of a document: one token per value a filter can ask for."""
    keys = [_ALL, _key("source", document.source_id), _key("source", document.source_name)]
    keys.append(_key("source_id", document.source_id))
    if not document.relevant:
        # Off-topic pages are the few: "NOT off-topic" makes bm25 walk their short
        # doclist, where "AND relevant" would walk one that holds nearly every row.
        keys.append(_OFF_TOPIC)
    if document.doc_type:
        keys.append(_key("type", document.doc_type))
    if document.status:
        keys.append(_key("status", document.status))
    for link in document.links:
        kind, _, policy = link.partition(":")
        keys.append(_key(kind, policy))
    keys.extend(_key("topic", topic) for topic in document.topics)
    # every prefix of the region and of its city part: region:广东 and region:深圳 each
    # find 广东省深圳市 by one token
    for part in region_parts(document.region):
        keys.extend(_key("region", part[:end]) for end in range(1, len(part) + 1))
    month = month_key(document.published_at)
    if month:
        keys.append(_key("month", month))
    return " ".join(dict.fromkeys(keys))


def _keys(token: str) -> str:
    return f"keys : {token}"


def fts_expression(node: Node) -> str | None:
    """The tree as an FTS5 MATCH expression, or None when part of it needs SQL."""
    if isinstance(node, Term):
        tokens = term_tokens(node)
        return f"{_TEXT} : {_phrase(tokens)}" if tokens else _keys(_ALL)
    if isinstance(node, (And, Or)):
        parts = [fts_expression(child) for child in node.children]
        if any(part is None for part in parts):
            return None
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(f"({part})" for part in parts if part) + ")"
    if isinstance(node, Not):
        inner = fts_expression(node.child)
        return None if inner is None else f"({_keys(_ALL)} NOT ({inner}))"
    if isinstance(node, Field):
        field = _KEY_FIELDS.get(node.name)
        return _keys(_key(field, normalize_field(node))) if field else None
    if isinstance(node, DateRange):
        if node.start is None and node.end is None:
            return _keys(_ALL)
        month = month_of(node)
        return _keys(_key("month", month)) if month else None
    if isinstance(node, MatchAll):
        return _keys(_ALL)
    raise TypeError(f"not a query node: {node!r}")


def _where(node: Node) -> tuple[str, list[Any]]:
    """The query tree as a SQL condition on `documents d` (values as parameters).

    Each FTS-expressible part is one FTS sub-select; the rest is plain SQL logic. The
    only nullable column, `published_at`, is tested with IS NOT NULL first so that NOT
    never meets a NULL.
    """
    expression = fts_expression(node)
    if expression is not None:
        return _TERM_SQL, [expression]
    if isinstance(node, (And, Or)):
        parts = [_where(child) for child in node.children]
        joiner = " AND " if isinstance(node, And) else " OR "
        sql = joiner.join(part for part, _ in parts)
        return f"({sql})", [param for _, params in parts for param in params]
    if isinstance(node, Not):
        sql, params = _where(node.child)
        return f"NOT ({sql})", params
    if isinstance(node, Field):
        sql = _FIELD_SQL[node.name]
        value = normalize_field(node)
        return sql.replace(":v", "?"), [value] * sql.count(":v")
    if isinstance(node, DateRange):
        start, end = date_bounds(node)
        clauses, params = ["d.published_at IS NOT NULL"], []
        if start is not None:
            clauses.append("d.published_at >= ?")
            params.append(_timestamp(start))
        if end is not None:
            clauses.append("d.published_at < ?")
            params.append(_timestamp(end))
        return "(" + " AND ".join(clauses) + ")", params
    raise TypeError(f"not a query node: {node!r}")


def _conjuncts(request: SearchRequest) -> list[Node | _RequestRange]:
    """What every match must satisfy: the query's top-level AND and the request's filters."""
    node = request_query(request)
    parts: list[Node | _RequestRange] = list(node.children) if isinstance(node, And) else [node]
    if request.source_ids:
        parts.append(Or(tuple(Field("source_id", value) for value in request.source_ids)))
    if request.relevant_only:
        parts.append(Field("relevant", "1"))
    if request.published_from is not None or request.published_before is not None:
        parts.append(_RequestRange(request.published_from, request.published_before))
    return parts


@dataclass(frozen=True)
class _RequestRange:
    """The request's own date filter (instants, not China calendar days)."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class _Plan:
    """A request as one FTS5 MATCH over `documents_fts f` and an optional SQL condition."""

    match: str
    sql: str
    params: list[Any]
    ranked: bool  # some positive term can be scored

    @property
    def joined(self) -> bool:
        return bool(self.sql)

    def source(self, columns: str) -> tuple[str, list[Any]]:
        """`SELECT columns FROM ... WHERE ...` of the matches (rows `f`, and `d` if joined)."""
        if not self.sql:
            return (
                f"SELECT {columns} FROM documents_fts f WHERE documents_fts MATCH ?",  # noqa: S608
                [self.match],
            )
        return (
            f"SELECT {columns} FROM documents_fts f CROSS JOIN {_MATCHES_FROM}"  # noqa: S608
            f" ON d.id = f.rowid WHERE documents_fts MATCH ? AND {self.sql}",
            [self.match, *self.params],
        )


def _plan(request: SearchRequest) -> _Plan:
    matches: list[str] = []
    conditions: list[str] = []
    params: list[Any] = []
    relevant_only = False
    for part in _conjuncts(request):
        if isinstance(part, _RequestRange):
            if part.start is not None:
                conditions.append("d.published_at >= ?")
                params.append(_timestamp(part.start))
            if part.end is not None:
                conditions.append("d.published_at < ?")
                params.append(_timestamp(part.end))
            continue
        if isinstance(part, Field) and part.name == "relevant":
            relevant_only = True
            continue
        if isinstance(part, Field) and part.name == "source_id":
            matches.append(_keys(_key(part.name, part.value)))
            continue
        if isinstance(part, Or) and all(
            isinstance(child, Field) and child.name == "source_id" for child in part.children
        ):
            ids = [child.value for child in part.children if isinstance(child, Field)]
            matches.append("(" + " OR ".join(_keys(_key("source_id", i)) for i in ids) + ")")
            continue
        expression = fts_expression(part)
        if expression is not None:
            matches.append(expression)
        else:
            sql, sql_params = _where(part)
            conditions.append(sql)
            params.extend(sql_params)
    match = " AND ".join(f"({m})" for m in matches) if matches else _keys(_ALL)
    if relevant_only:
        match = f"({match}) NOT ({_keys(_OFF_TOPIC)})"
    ranked = bool(positive_terms(request_query(request)))
    return _Plan(match, " AND ".join(conditions), params, ranked)


# Each facet as a grouping over `m`, the matching rows; the first column names the facet.
# Months: the stored UTC time without its fraction (which SQLite would round up into the
# next second, and so maybe the next month), moved to China time.
_FACET_SQL: dict[str, str] = {
    "source_name": "SELECT 'source_name', source_name, count(*) FROM m GROUP BY 2",
    "doc_type": "SELECT 'doc_type', doc_type, count(*) FROM m GROUP BY 2",
    "region": "SELECT 'region', region, count(*) FROM m GROUP BY 2",
    "topics": (
        "SELECT 'topics', t.value, count(DISTINCT m.id) FROM m, json_each(m.topics) t GROUP BY 2"
    ),
    "month": (
        "SELECT 'month', strftime('%Y-%m', substr(published_at, 1, 19), '+8 hours'), count(*)"
        " FROM m WHERE published_at IS NOT NULL GROUP BY 2"
    ),
}


class Fts5Index:
    """`SearchIndex` in one SQLite file; one connection per thread."""

    facet_sample: int | None = FACET_SAMPLE

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.path,
                    timeout=BUSY_TIMEOUT_SECONDS,
                    isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE
                    check_same_thread=False,  # close() may run on another thread
                )
                connection.row_factory = sqlite3.Row
                connection.create_function("hitwatch_normalize", 1, normalize, deterministic=True)
                connection.create_function("hitwatch_docno", 1, normalize_docno, deterministic=True)
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
            except (OSError, sqlite3.Error) as exc:
                raise SearchBackendError(
                    f"cannot open the search index {self.path}: {exc}"
                ) from exc
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            hint = (
                " (run `ensure()`: the web app and indexer do at start)"
                if "no such" in str(exc)
                else ""
            )
            raise SearchBackendError(f"search index {self.path}: {exc}{hint}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        with self._errors():
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def ensure(self) -> None:
        with self._transaction() as connection:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            present = {row["name"] for row in connection.execute("PRAGMA table_info(documents)")}
            for column, definition in _ADDED_COLUMNS.items():
                if column not in present:
                    connection.execute(f"ALTER TABLE documents ADD COLUMN {column} {definition}")
            for old in _OLD_META_INDEXES:
                connection.execute(f"DROP INDEX IF EXISTS {old}")
            connection.execute(_META_INDEX)
            text_columns = {
                row["name"] for row in connection.execute("PRAGMA table_info(documents_fts)")
            }
            if "keys" not in text_columns:
                self._rebuild_text_index(connection)

    @staticmethod
    def _rebuild_text_index(connection: sqlite3.Connection) -> None:
        """Remake the FTS table of an older file (it had no keys column) from the rows."""
        connection.execute("DROP TABLE documents_fts")
        for statement in _SCHEMA.split(";"):
            if "documents_fts" in statement:
                connection.execute(statement)
        rows = connection.execute(f"SELECT d.id, {_COLUMNS} FROM documents d").fetchall()  # noqa: S608
        for row in rows:
            document = _document(row)
            connection.execute(
                "INSERT INTO documents_fts (rowid, title_tokens, body_tokens, keys)"
                " VALUES (?, ?, ?, ?)",
                (
                    row["id"],
                    index_tokens(document.title),
                    index_tokens(document.body),
                    document_keys(document),
                ),
            )

    def index(self, documents: Sequence[SearchDocument]) -> None:
        rows = _index_rows(documents)
        with self._transaction() as connection:
            _write_rows(connection, rows, "documents", "documents_fts")

    def delete(self, doc_id: str) -> None:
        with self._transaction() as connection:
            found = connection.execute(
                "DELETE FROM documents WHERE doc_id = ? RETURNING id", (doc_id,)
            ).fetchone()
            if found is not None:
                connection.execute("DELETE FROM documents_fts WHERE rowid = ?", (found[0],))

    def search(self, request: SearchRequest) -> SearchPage:
        plan = _plan(request)
        connection = self._connection()
        with self._errors():
            # One read transaction: the page and the total come from the same snapshot.
            connection.execute("BEGIN")
            try:
                if request.collapse:
                    total, exact = self._stories(connection, plan)
                else:
                    total, exact = self._total(connection, plan)
                # Past a lower-bound total there may be more: only an exact one ends paging.
                if not total or (exact and request.offset >= total) or request.limit <= 0:
                    page: list[tuple[int, float]] = []
                elif request.sort == "date" or not plan.ranked:
                    page = self._newest(
                        connection, plan, request.offset, request.limit, request.collapse
                    )
                else:
                    page = self._ranked(connection, plan, request)
                rows = self._rows(connection, [rowid for rowid, _ in page])
            finally:
                connection.execute("COMMIT")
        # bm25() is lower for better matches; scores are higher-is-better everywhere.
        hits = [
            SearchHit(rows[rowid]["doc_id"], -rank, _document(rows[rowid])) for rowid, rank in page
        ]
        return SearchPage(total, hits, total_exact=exact)

    @staticmethod
    def _total(connection: sqlite3.Connection, plan: _Plan) -> tuple[int, bool]:
        """How many match, counted up to TOTAL_CAP (as Elasticsearch does): counting
        every match of a common term would cost time linear in the index."""
        sql, params = plan.source("1")
        (total,) = connection.execute(
            f"SELECT count(*) FROM ({sql} LIMIT ?)",  # noqa: S608
            [*params, TOTAL_CAP + 1],
        ).fetchone()
        return min(int(total), TOTAL_CAP), int(total) <= TOTAL_CAP

    @staticmethod
    def _stories(connection: sqlite3.Connection, plan: _Plan) -> tuple[int, bool]:
        """How many stories the matches belong to: among the FACET_SAMPLE most recently
        indexed matches (a lower bound when there are more)."""
        sql, params = plan.source("f.rowid AS id")
        matches, stories = connection.execute(
            f"SELECT count(*), count(DISTINCT x.story_id)"  # noqa: S608
            f" FROM ({sql} ORDER BY f.rowid DESC LIMIT ?) c"
            " CROSS JOIN documents x INDEXED BY documents_meta2 ON x.id = c.id",
            [*params, FACET_SAMPLE + 1],
        ).fetchone()
        if int(matches) <= FACET_SAMPLE:
            return int(stories), True
        return min(int(stories), FACET_SAMPLE), False  # the extra row only tells "more"

    @staticmethod
    def _newest(
        connection: sqlite3.Connection, plan: _Plan, offset: int, limit: int, collapse: bool
    ) -> list[tuple[int, float]]:
        """A page of matches newest first (undated last); every match is sorted.

        Collapsed, a story is placed by its newest matching copy, which stands for it.
        """
        sql, params = plan.source("f.rowid AS id")
        order = _NEWEST_FIRST.replace("d.", "x.")
        if collapse:
            found = connection.execute(
                f"SELECT id FROM (SELECT m.id, x.published_at, x.doc_id,"  # noqa: S608
                f" row_number() OVER (PARTITION BY x.story_id ORDER BY {order}) AS n"
                f" FROM ({sql}) m CROSS JOIN documents x INDEXED BY documents_meta2"
                f" ON x.id = m.id) x WHERE n = 1 ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        else:
            found = connection.execute(
                f"SELECT m.id FROM ({sql}) m CROSS JOIN documents x"  # noqa: S608
                f" INDEXED BY documents_meta2 ON x.id = m.id ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        return [(int(row[0]), 0.0) for row in found]

    @staticmethod
    def _ranked(
        connection: sqlite3.Connection, plan: _Plan, request: SearchRequest
    ) -> list[tuple[int, float]]:
        """A page by bm25 over the RANK_CANDIDATES most recently indexed matches; pages
        past them continue with the other matches, most recently indexed first.

        Collapsed, a story is placed by its first copy in that order.
        """
        offset, limit = request.offset, request.limit
        sql, params = plan.source(f"f.rowid AS id, {_BM25} AS rank")
        order = _NEWEST_FIRST.replace("d.", "x.")
        candidates = connection.execute(
            f"SELECT c.id, c.rank, x.story_id FROM ({sql} ORDER BY f.rowid DESC LIMIT ?) c"  # noqa: S608
            f" CROSS JOIN documents x INDEXED BY documents_meta2 ON x.id = c.id"
            f" ORDER BY c.rank, {order}",
            [*params, RANK_CANDIDATES],
        ).fetchall()
        seen: set[str] = set()
        ranked: list[tuple[int, float]] = []
        for rowid, rank, story_id in candidates:
            if request.collapse:
                if story_id in seen:
                    continue
                seen.add(story_id)
            ranked.append((int(rowid), float(rank)))
        page = ranked[offset : offset + limit]
        wanted = limit - len(page)
        if wanted <= 0 or len(candidates) < RANK_CANDIDATES or not candidates:
            return page
        lowest = min(int(row[0]) for row in candidates)
        skip = max(0, offset - len(ranked))
        rest_sql, rest_params = plan.source("f.rowid AS id")
        if not request.collapse:
            more = connection.execute(
                f"{rest_sql} AND f.rowid < ? ORDER BY f.rowid DESC LIMIT ? OFFSET ?",
                [*rest_params, lowest, wanted, skip],
            )
            page.extend((int(row[0]), 0.0) for row in more)
            return page
        rest = connection.execute(
            f"SELECT r.id, x.story_id FROM ({rest_sql} AND f.rowid < ? ORDER BY f.rowid DESC) r"  # noqa: S608
            " CROSS JOIN documents x INDEXED BY documents_meta2 ON x.id = r.id",
            [*rest_params, lowest],
        )
        for rowid, story_id in rest:
            if story_id in seen:
                continue
            seen.add(story_id)
            if skip:
                skip -= 1
                continue
            page.append((int(rowid), 0.0))
            if len(page) >= limit:
                break
        return page

    @staticmethod
    def _rows(connection: sqlite3.Connection, rowids: list[int]) -> dict[int, sqlite3.Row]:
        marks = ", ".join("?" * len(rowids))
        found = connection.execute(
            f"SELECT d.id, {_COLUMNS} FROM documents d WHERE d.id IN ({marks})",  # noqa: S608
            rowids,
        )
        return {int(row["id"]): row for row in found}

    def count(self, request: SearchRequest) -> int:
        plan = _plan(request)
        sql, params = plan.source("count(*)")
        with self._errors():
            (total,) = self._connection().execute(sql, params).fetchone()
        return int(total)

    def facets(
        self,
        request: SearchRequest,
        fields: Sequence[FacetField] = FACET_FIELDS,
        size: int = FACET_SIZE,
    ) -> FacetCounts:
        fields = list(dict.fromkeys(fields))
        if not fields:
            return {}
        # The FACET_SAMPLE most recently indexed matches are found once (MATERIALIZED)
        # and every facet groups that list.
        plan = _plan(request)
        matching, params = plan.source("f.rowid AS id")
        sample = (
            f"SELECT x.id, x.source_name, x.doc_type, x.topics, x.region, x.published_at"  # noqa: S608
            f" FROM ({matching} ORDER BY f.rowid DESC LIMIT ?) c"
            f" CROSS JOIN documents x INDEXED BY documents_meta2 ON x.id = c.id"
        )
        groupings = " UNION ALL ".join(_FACET_SQL[field] for field in fields)
        sql = f"WITH m AS MATERIALIZED ({sample}) {groupings}"
        counts: dict[str, list[tuple[str, int]]] = {field: [] for field in fields}
        with self._errors():
            for field, value, count in self._connection().execute(sql, [*params, FACET_SAMPLE]):
                counts[field].append((str(value), int(count)))
        return {field: order_facet(field, pairs, size) for field, pairs in counts.items()}

    def refresh(self) -> None:
        """Committed writes are visible at once."""

    def rebuild(self) -> Fts5Build:
        return Fts5Build(self)

    def drop(self) -> None:
        with self._transaction() as connection:
            connection.execute(f"DROP TABLE IF EXISTS {_NEXT_FTS}")
            connection.execute(f"DROP TABLE IF EXISTS {_NEXT_DOCUMENTS}")
            connection.execute("DROP TABLE IF EXISTS documents_fts")
            connection.execute("DROP TABLE IF EXISTS documents")

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()


_IndexRow = tuple[tuple[Any, ...], str, str, str]


def _index_rows(documents: Sequence[SearchDocument]) -> list[_IndexRow]:
    """Each document's row and FTS columns, tokenised before a transaction starts."""
    return [
        (_row(doc), index_tokens(doc.title), index_tokens(doc.body), document_keys(doc))
        for doc in documents
    ]


def _write_rows(
    connection: sqlite3.Connection, rows: Sequence[_IndexRow], documents: str, fts: str
) -> None:
    """Upsert rows into a documents table and its FTS table (live or next) by doc_id."""
    for row, title_tokens, body_tokens, keys in rows:
        (rowid,) = connection.execute(
            f"INSERT INTO {documents} (doc_id, story_id, url, title, body, source_id,"  # noqa: S608
            " source_name, published_at, doc_type, topics, region, relevant, issuer,"
            " doc_number, status, links)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (doc_id) DO UPDATE SET story_id = excluded.story_id,"
            " url = excluded.url, title = excluded.title, body = excluded.body,"
            " source_id = excluded.source_id, source_name = excluded.source_name,"
            " published_at = excluded.published_at, doc_type = excluded.doc_type,"
            " topics = excluded.topics, region = excluded.region,"
            " relevant = excluded.relevant, issuer = excluded.issuer,"
            " doc_number = excluded.doc_number, status = excluded.status,"
            " links = excluded.links"
            " RETURNING id",
            row,
        ).fetchone()
        connection.execute(f"DELETE FROM {fts} WHERE rowid = ?", (rowid,))  # noqa: S608
        connection.execute(
            f"INSERT INTO {fts} (rowid, title_tokens, body_tokens, keys)"  # noqa: S608
            " VALUES (?, ?, ?, ?)",
            (rowid, title_tokens, body_tokens, keys),
        )


class Fts5Build:
    """A rebuild of the index in the same file: `documents_next` and its FTS table are
    filled while searches read the live tables, then one transaction drops those and
    renames the new ones in their place (readers in WAL mode keep their snapshot, so a
    search running across the swap answers from the old tables). The indexes that
    queries name are made in that transaction, after the rows: faster than keeping them
    up to date row by row, and SQLite cannot rename an index."""

    def __init__(self, index: Fts5Index) -> None:
        self._index = index
        with index._transaction() as connection:
            connection.execute(f"DROP TABLE IF EXISTS {_NEXT_FTS}")  # left by an interrupted run
            connection.execute(f"DROP TABLE IF EXISTS {_NEXT_DOCUMENTS}")
            connection.execute(_DOCUMENTS_TABLE.format(name=_NEXT_DOCUMENTS))
            connection.execute(_FTS_TABLE.format(name=_NEXT_FTS))

    def write(self, documents: Sequence[SearchDocument]) -> None:
        rows = _index_rows(documents)
        with self._index._transaction() as connection:
            _write_rows(connection, rows, _NEXT_DOCUMENTS, _NEXT_FTS)

    def swap(self) -> None:
        with self._index._transaction() as connection:
            connection.execute("DROP TABLE documents_fts")
            connection.execute("DROP TABLE documents")
            connection.execute(f"ALTER TABLE {_NEXT_DOCUMENTS} RENAME TO documents")
            connection.execute(f"ALTER TABLE {_NEXT_FTS} RENAME TO documents_fts")
            connection.execute(_PUBLISHED_INDEX)
            connection.execute(_META_INDEX)

    def abandon(self) -> None:
        with self._index._transaction() as connection:
            connection.execute(f"DROP TABLE IF EXISTS {_NEXT_FTS}")
            connection.execute(f"DROP TABLE IF EXISTS {_NEXT_DOCUMENTS}")
