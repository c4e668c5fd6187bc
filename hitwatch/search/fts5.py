"""The embedded search index: one SQLite file with an FTS5 table, for single-host installs.

FTS5 has no Chinese tokenizer, so it indexes the token strings of `hitwatch.text`
(CJK bigrams, Latin words) and splits them on whitespace; `unicode61` does exactly that
for these strings. The FTS table keeps its own copy of the token strings (a regular,
not contentless, FTS5 table) so that an upsert can delete the old row without
re-tokenising the old text, which would corrupt the index whenever the tokeniser changes.

The indexer writes while the web app reads, from other processes: WAL journal (readers
never block the writer) and a busy timeout (writers wait for each other).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from hitwatch.errors import SearchBackendError
from hitwatch.search.base import (
    FACET_FIELDS,
    FACET_SIZE,
    FacetCounts,
    FacetField,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchRequest,
    order_facet,
)
from hitwatch.search.query import And, DateRange, Field, MatchAll, Node, Not, Or, Term
from hitwatch.search.terms import (
    date_bounds,
    normalize_docno,
    normalize_field,
    positive_terms,
    request_query,
    requires_term,
    term_tokens,
    utc,
)
from hitwatch.text import QueryTokens, index_tokens, normalize

__all__ = ["Fts5Index", "match_expression"]

BUSY_TIMEOUT_SECONDS = 30.0
# bm25 column weights, in the FTS table's column order: a title match counts 3 bodies.
TITLE_WEIGHT, BODY_WEIGHT = 3.0, 1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
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
    doc_number TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS documents_published_at ON documents (published_at);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5 (
    title_tokens, body_tokens, tokenize = 'unicode61 remove_diacritics 0'
);
"""

# Every column a filter, sort or facet reads, so that those never touch the rows, whose
# long body (in overflow pages) comes before the later columns. Made after older files
# gain the columns added since.
_META_INDEX = (
    "CREATE INDEX IF NOT EXISTS documents_meta ON documents (id, published_at, doc_id,"
    " source_id, source_name, doc_type, region, relevant, topics, issuer, doc_number)"
)
# Queries name it: the planner would rather look rows up by rowid, reading each body.
_MATCHES_FROM = "documents d INDEXED BY documents_meta"

_COLUMNS = (
    "d.doc_id, d.story_id, d.url, d.title, d.body, d.source_id, d.source_name,"
    " d.published_at, d.doc_type, d.topics, d.region, d.relevant, d.issuer, d.doc_number"
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
    )


def _filters(request: SearchRequest) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if request.source_ids:
        clauses.append(f"d.source_id IN ({', '.join('?' * len(request.source_ids))})")
        params.extend(request.source_ids)
    if request.published_from is not None:
        clauses.append("d.published_at >= ?")
        params.append(_timestamp(request.published_from))
    if request.published_before is not None:
        clauses.append("d.published_at < ?")
        params.append(_timestamp(request.published_before))
    if request.relevant_only:
        clauses.append("d.relevant = 1")
    return clauses, params


# Columns added after the first release: `ensure()` adds them to older index files.
_ADDED_COLUMNS = {
    "issuer": "TEXT NOT NULL DEFAULT ''",
    "doc_number": "TEXT NOT NULL DEFAULT ''",
}
_TERM_SQL = "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
# Every field filter as SQL over the documents row; the one parameter is the value.
_FIELD_SQL = {
    "source": "(d.source_id = :v OR d.source_name = :v)",
    "type": "d.doc_type = :v",
    "topic": "EXISTS (SELECT 1 FROM json_each(d.topics) WHERE json_each.value = :v)",
    "region": "d.region = :v",
    "issuer": "instr(hitwatch_normalize(d.issuer), :v) > 0",
    "docno": "(d.doc_number != '' AND hitwatch_docno(d.doc_number) = :v)",
}


def _where(node: Node) -> tuple[str, list[Any]]:
    """The query tree as a SQL condition on `documents d` (values as parameters).

    Each term is its own FTS sub-select, so AND, OR and NOT are plain SQL logic; the
    only nullable column, `published_at`, is tested with IS NOT NULL first so that NOT
    never meets a NULL.
    """
    if isinstance(node, Term):
        tokens = term_tokens(node)
        return (_TERM_SQL, [_phrase(tokens)]) if tokens else ("1", [])
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
        if len(clauses) == 1:
            return "1", []
        return "(" + " AND ".join(clauses) + ")", params
    if isinstance(node, MatchAll):
        return "1", []
    raise TypeError(f"not a query node: {node!r}")


def match_expression(node: Node) -> str | None:
    """The MATCH expression ranking a tree: any positive term (None when none can rank)."""
    phrases = [_phrase(tokens) for term in positive_terms(node) if (tokens := term_tokens(term))]
    return " OR ".join(dict.fromkeys(phrases)) or None


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


def _query(request: SearchRequest, select: str, ranked: bool) -> tuple[str, list[Any]]:
    """`SELECT <select> FROM ...` for the request, without ORDER BY or LIMIT.

    With `ranked`, `rank` is the bm25 score of the positive terms (0 when none).
    Only fixed SQL fragments are pasted together; every value is a bound parameter.
    """
    clauses, params = _filters(request)
    node = request_query(request)
    condition, condition_params = _where(node)
    clauses.insert(0, condition)
    params[:0] = condition_params
    tables, table_params = _MATCHES_FROM, []
    rank = "0.0"
    match = match_expression(node) if ranked else None
    if match is not None and requires_term(node):
        # Every match holds a ranked term: walk the FTS matches (scored once, in FTS5)
        # and look each row up by key, rather than scanning `documents` and joining.
        tables = (
            "(SELECT rowid, bm25(documents_fts, ?, ?) AS rank FROM documents_fts"  # noqa: S608
            f" WHERE documents_fts MATCH ?) r CROSS JOIN {_MATCHES_FROM} ON d.id = r.rowid"
        )
        table_params = [TITLE_WEIGHT, BODY_WEIGHT, match]
        rank = "r.rank"
    elif match is not None:
        tables += (
            " LEFT JOIN (SELECT rowid, bm25(documents_fts, ?, ?) AS rank FROM documents_fts"
            " WHERE documents_fts MATCH ?) r ON r.rowid = d.id"
        )
        table_params = [TITLE_WEIGHT, BODY_WEIGHT, match]
        rank = "coalesce(r.rank, 0.0)"
    select = select.replace("{rank}", rank)
    where = " WHERE " + " AND ".join(clauses)
    return f"SELECT {select} FROM {tables}{where}", [*table_params, *params]  # noqa: S608


class Fts5Index:
    """`SearchIndex` in one SQLite file; one connection per thread."""

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
            connection.execute(_META_INDEX)

    def index(self, documents: Sequence[SearchDocument]) -> None:
        rows = [(_row(doc), index_tokens(doc.title), index_tokens(doc.body)) for doc in documents]
        with self._transaction() as connection:
            for row, title_tokens, body_tokens in rows:
                (rowid,) = connection.execute(
                    "INSERT INTO documents (doc_id, story_id, url, title, body, source_id,"
                    " source_name, published_at, doc_type, topics, region, relevant, issuer,"
                    " doc_number)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (doc_id) DO UPDATE SET story_id = excluded.story_id,"
                    " url = excluded.url, title = excluded.title, body = excluded.body,"
                    " source_id = excluded.source_id, source_name = excluded.source_name,"
                    " published_at = excluded.published_at, doc_type = excluded.doc_type,"
                    " topics = excluded.topics, region = excluded.region,"
                    " relevant = excluded.relevant, issuer = excluded.issuer,"
                    " doc_number = excluded.doc_number"
                    " RETURNING id",
                    row,
                ).fetchone()
                connection.execute("DELETE FROM documents_fts WHERE rowid = ?", (rowid,))
                connection.execute(
                    "INSERT INTO documents_fts (rowid, title_tokens, body_tokens) VALUES (?, ?, ?)",
                    (rowid, title_tokens, body_tokens),
                )

    def delete(self, doc_id: str) -> None:
        with self._transaction() as connection:
            found = connection.execute(
                "DELETE FROM documents WHERE doc_id = ? RETURNING id", (doc_id,)
            ).fetchone()
            if found is not None:
                connection.execute("DELETE FROM documents_fts WHERE rowid = ?", (found[0],))

    def search(self, request: SearchRequest) -> SearchPage:
        by_date = request.sort == "date"
        # By date nothing is ranked (score 0): bm25 needs a pass over every match's
        # postings even for one row, which would double the cost of a common term.
        # Sorting carries only ids and sort keys (from the index); the page's rows, body
        # and all, are read afterwards.
        sql, params = _query(request, "d.id, {rank} AS rank", ranked=not by_date)
        order = _NEWEST_FIRST if by_date else f"rank, {_NEWEST_FIRST}"
        sql += f" ORDER BY {order} LIMIT ? OFFSET ?"
        connection = self._connection()
        with self._errors():
            # One read transaction: the page and the total come from the same snapshot.
            connection.execute("BEGIN")
            try:
                page = connection.execute(sql, [*params, request.limit, request.offset]).fetchall()
                total = self._count(connection, request) if page or request.offset else 0
                ranks = {int(row["id"]): float(row["rank"]) for row in page}
                rows = self._rows(connection, list(ranks))
            finally:
                connection.execute("COMMIT")
        # bm25() is lower for better matches; scores are higher-is-better everywhere.
        hits = [
            SearchHit(rows[rowid]["doc_id"], -rank, _document(rows[rowid]))
            for rowid, rank in ranks.items()
        ]
        return SearchPage(total, hits)

    @staticmethod
    def _rows(connection: sqlite3.Connection, rowids: list[int]) -> dict[int, sqlite3.Row]:
        marks = ", ".join("?" * len(rowids))
        found = connection.execute(
            f"SELECT d.id, {_COLUMNS} FROM documents d WHERE d.id IN ({marks})",  # noqa: S608
            rowids,
        )
        return {int(row["id"]): row for row in found}

    def count(self, request: SearchRequest) -> int:
        with self._errors():
            return self._count(self._connection(), request)

    @staticmethod
    def _count(connection: sqlite3.Connection, request: SearchRequest) -> int:
        sql, params = _query(request, "count(*)", ranked=False)
        (total,) = connection.execute(sql, params).fetchone()
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
        # The matches are found once (MATERIALIZED) and every facet groups that list.
        matching, params = _query(
            request, "d.id, d.source_name, d.doc_type, d.topics, d.region, d.published_at", False
        )
        groupings = " UNION ALL ".join(_FACET_SQL[field] for field in fields)
        sql = f"WITH m AS MATERIALIZED ({matching}) {groupings}"
        counts: dict[str, list[tuple[str, int]]] = {field: [] for field in fields}
        with self._errors():
            for field, value, count in self._connection().execute(sql, params):
                counts[field].append((str(value), int(count)))
        return {field: order_facet(field, pairs, size) for field, pairs in counts.items()}

    def refresh(self) -> None:
        """Committed writes are visible at once."""

    def drop(self) -> None:
        with self._transaction() as connection:
            connection.execute("DROP TABLE IF EXISTS documents_fts")
            connection.execute("DROP TABLE IF EXISTS documents")

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()
