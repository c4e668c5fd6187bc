"""The search index in Elasticsearch, for installs that need more than one host.

Elasticsearch's core analyzers have no Chinese support (and we assume no plugins), so
like FTS5 it receives the token strings of `hitwatch.text` in `title_tokens` and
`body_tokens`, analysed with `whitespace`; a query term is a phrase over those tokens.
The index is `<alias>-v1` behind the alias `<alias>`, so a reindex can build `-v2` and
swap the alias without downtime. Title and body are kept only for display.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers
from elasticsearch.serializer import OrjsonSerializer

from hitwatch.errors import SearchBackendError
from hitwatch.search.base import (
    FACET_FIELDS,
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
from hitwatch.search.query import LINK_FIELDS, And, DateRange, Field, MatchAll, Node, Not, Or, Term
from hitwatch.search.terms import (
    date_bounds,
    has_scoring_terms,
    normalize_docno,
    normalize_field,
    request_query,
    term_tokens,
    utc,
)
from hitwatch.text import QueryTokens, index_tokens, normalize

__all__ = [
    "MAPPINGS",
    "ElasticsearchBuild",
    "ElasticsearchIndex",
    "build_query",
    "facet_aggregations",
    "tree_query",
]

VERSION = 1
TITLE_BOOST = 3.0
# A term ending in a lone CJK character is a phrase whose last token is a prefix; every
# bigram starting with that character is an expansion, and dropping any would lose hits.
MAX_EXPANSIONS = 10_000
REQUEST_TIMEOUT = 30.0
# Stories are counted exactly (as a hash set) below this many; ES allows at most 40,000.
STORY_PRECISION = 40_000
# A collapsed page is cut from this many times (offset + limit) plain hits (see _collapsed).
COLLAPSE_FETCH = 2

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    # The token strings are only searched: not stored, they would triple the index size.
    "_source": {"excludes": ["title_tokens", "body_tokens"]},
    "properties": {
        "doc_id": {"type": "keyword"},
        "story_id": {"type": "keyword"},
        "url": {"type": "keyword", "index": False},
        "title": {"type": "text", "index": False},
        "body": {"type": "text", "index": False},
        "title_tokens": {"type": "text", "analyzer": "whitespace"},
        "body_tokens": {"type": "text", "analyzer": "whitespace"},
        "source_id": {"type": "keyword"},
        "source_name": {"type": "keyword"},
        "published_at": {"type": "date"},
        "doc_type": {"type": "keyword"},
        "topics": {"type": "keyword"},
        "region": {"type": "keyword"},
        "region_parts": {"type": "keyword"},  # the region and its city part
        "relevant": {"type": "boolean"},
        "issuer": {"type": "keyword", "index": False},
        "doc_number": {"type": "keyword", "index": False},
        # the forms query filters compare: normalised issuer, docno with 〔〕 brackets
        "issuer_key": {"type": "keyword"},
        "doc_number_key": {"type": "keyword"},
        "status": {"type": "keyword"},
        "policy_links": {"type": "keyword"},
    },
}


def _term_query(term: QueryTokens) -> dict[str, Any]:
    """Title or body holds the term's tokens in a row."""
    phrase = " ".join(term.tokens)
    should: list[dict[str, Any]] = []
    for field, boost in (("title_tokens", TITLE_BOOST), ("body_tokens", 1.0)):
        if term.prefix and len(term.tokens) == 1:
            # A plain prefix query has no expansion limit at all.
            should.append({"prefix": {field: {"value": phrase, "boost": boost}}})
        elif term.prefix:
            should.append(
                {
                    "match_phrase_prefix": {
                        field: {"query": phrase, "max_expansions": MAX_EXPANSIONS, "boost": boost}
                    }
                }
            )
        else:
            should.append({"match_phrase": {field: {"query": phrase, "boost": boost}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _escape_wildcard(value: str) -> str:
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _field_query(node: Field) -> dict[str, Any]:
    value = normalize_field(node)
    if node.name == "source":
        return {
            "bool": {
                "should": [{"term": {"source_id": value}}, {"term": {"source_name": value}}],
                "minimum_should_match": 1,
            }
        }
    if node.name == "issuer":
        return {"wildcard": {"issuer_key": {"value": f"*{_escape_wildcard(value)}*"}}}
    if node.name == "region":
        return {"prefix": {"region_parts": {"value": value}}}
    if node.name in LINK_FIELDS:
        return {"term": {"policy_links": f"{node.name}:{value}"}}
    field = {"type": "doc_type", "topic": "topics", "docno": "doc_number_key", "status": "status"}
    return {"term": {field[node.name]: value}}


def tree_query(node: Node) -> dict[str, Any]:
    """A query tree as query DSL; filters go in filter context so only terms score."""
    if isinstance(node, Term):
        tokens = term_tokens(node)
        return _term_query(tokens) if tokens else {"match_all": {}}
    if isinstance(node, And):
        return {"bool": {"must": [tree_query(child) for child in node.children]}}
    if isinstance(node, Or):
        should = [tree_query(child) for child in node.children]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [tree_query(node.child)]}}
    if isinstance(node, Field):
        return {"bool": {"filter": [_field_query(node)]}}
    if isinstance(node, DateRange):
        start, end = date_bounds(node)
        bounds = {}
        if start is not None:
            bounds["gte"] = start.isoformat()
        if end is not None:
            bounds["lt"] = end.isoformat()
        if not bounds:
            return {"match_all": {}}
        return {"bool": {"filter": [{"range": {"published_at": bounds}}]}}
    if isinstance(node, MatchAll):
        return {"match_all": {}}
    raise TypeError(f"not a query node: {node!r}")


def build_query(request: SearchRequest) -> dict[str, Any]:
    """The query DSL for the request's terms and filters (no sort, no paging)."""
    filters: list[dict[str, Any]] = []
    if request.source_ids:
        filters.append({"terms": {"source_id": list(request.source_ids)}})
    if request.published_from is not None or request.published_before is not None:
        bounds: dict[str, str] = {}
        start, end = utc(request.published_from), utc(request.published_before)
        if start is not None:
            bounds["gte"] = start.isoformat()
        if end is not None:
            bounds["lt"] = end.isoformat()
        filters.append({"range": {"published_at": bounds}})
    if request.relevant_only:
        filters.append({"term": {"relevant": True}})
    return {"bool": {"must": [tree_query(request_query(request))], "filter": filters}}


def facet_aggregations(fields: Sequence[FacetField], size: int) -> dict[str, Any]:
    """One aggregation per facet: terms over keywords, calendar months in China time."""
    aggregations: dict[str, Any] = {}
    for field in fields:
        if field == "month":
            aggregations[field] = {
                "date_histogram": {
                    "field": "published_at",
                    "calendar_interval": "month",
                    "time_zone": "+08:00",  # Asia/Shanghai has no daylight saving
                    "format": "yyyy-MM",
                    "min_doc_count": 1,
                }
            }
        else:
            aggregations[field] = {
                "terms": {
                    "field": field,
                    "size": size,
                    "exclude": [""],
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
    return aggregations


_NEWEST_FIRST: list[dict[str, Any]] = [
    {"published_at": {"order": "desc", "missing": "_last"}},
    {"doc_id": {"order": "asc"}},
]


def _source(document: SearchDocument) -> dict[str, Any]:
    published = utc(document.published_at)
    return {
        "doc_id": document.doc_id,
        "story_id": document.story_id,
        "url": document.url,
        "title": document.title,
        "body": document.body,
        "title_tokens": index_tokens(document.title),
        "body_tokens": index_tokens(document.body),
        "source_id": document.source_id,
        "source_name": document.source_name,
        "published_at": published.isoformat() if published else None,
        "doc_type": document.doc_type,
        "topics": list(document.topics),
        "region": document.region,
        "region_parts": list(region_parts(document.region)),
        "relevant": document.relevant,
        "issuer": document.issuer,
        "doc_number": document.doc_number,
        "issuer_key": normalize(document.issuer),
        "doc_number_key": normalize_docno(document.doc_number),
        "status": document.status,
        "policy_links": list(document.links),
    }


def _document(source: dict[str, Any]) -> SearchDocument:
    published = source.get("published_at")
    return SearchDocument(
        doc_id=source["doc_id"],
        story_id=source["story_id"],
        url=source["url"],
        title=source["title"],
        body=source["body"],
        source_id=source["source_id"],
        source_name=source["source_name"],
        published_at=utc(datetime.fromisoformat(published)) if published else None,
        doc_type=source["doc_type"],
        topics=tuple(source["topics"]),
        region=source["region"],
        relevant=source["relevant"],
        issuer=source.get("issuer", ""),
        doc_number=source.get("doc_number", ""),
        status=source.get("status", ""),
        links=tuple(source.get("policy_links", ())),
    )


def _newest_first(hit: SearchHit) -> tuple[bool, float, str]:
    published = hit.document.published_at
    return (published is None, -published.timestamp() if published else 0.0, hit.doc_id)


class ElasticsearchIndex:
    """`SearchIndex` on an Elasticsearch 8 cluster, through the alias `alias`."""

    facet_sample: int | None = None  # aggregations count every match

    def __init__(
        self, hosts: list[str], alias: str, shards: int = 1, *, request_cache: bool = True
    ) -> None:
        self.hosts = hosts
        self.alias = alias
        self.shards = shards
        # Facet counts are kept by the shard request cache until the next refresh; a
        # benchmark repeating one query turns it off to measure the work.
        self.request_cache = request_cache
        self.index_name = f"{alias}-v{VERSION}"
        # orjson: a bulk request's documents and its response in a fraction of the CPU.
        self._client = Elasticsearch(
            hosts, request_timeout=REQUEST_TIMEOUT, serializer=OrjsonSerializer()
        )

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except (ApiError, TransportError, helpers.BulkIndexError) as exc:
            if isinstance(exc, TransportError) and not isinstance(exc, ApiError):
                raise SearchBackendError(
                    f"Elasticsearch at {', '.join(self.hosts)} is unreachable while trying to"
                    f" {action}: {exc}. Is Elasticsearch running? scripts/services up elasticsearch"
                ) from exc
            raise SearchBackendError(
                f"Elasticsearch at {', '.join(self.hosts)} refused to {action}"
                f" (index {self.alias!r}): {exc}"
            ) from exc

    def ensure(self) -> None:
        with self._errors("create the index"):
            if self._client.indices.exists_alias(name=self.alias):
                # Fields added since the index was made; adding fields is always allowed.
                self._client.indices.put_mapping(
                    index=self.alias, properties=MAPPINGS["properties"]
                )
                return
            if not self._client.indices.exists(index=self.index_name):
                self._client.indices.create(
                    index=self.index_name,
                    settings={"number_of_shards": self.shards},
                    mappings=MAPPINGS,
                    aliases={self.alias: {"is_write_index": True}},
                )
            else:
                self._client.indices.put_alias(
                    index=self.index_name, name=self.alias, is_write_index=True
                )

    def index(self, documents: Sequence[SearchDocument]) -> None:
        actions = (
            {"_op_type": "index", "_index": self.alias, "_id": doc.doc_id, "_source": _source(doc)}
            for doc in documents
        )
        with self._errors(f"index {len(documents)} documents"):
            helpers.bulk(self._client, actions, chunk_size=500, max_chunk_bytes=20_000_000)

    def delete(self, doc_id: str) -> None:
        with self._errors(f"delete document {doc_id!r}"), suppress(NotFoundError):
            self._client.delete(index=self.alias, id=doc_id)

    def search(self, request: SearchRequest) -> SearchPage:
        scored = has_scoring_terms(request_query(request))
        by_score = request.sort == "relevance" and scored
        # By relevance, score alone: with tie-breaking sort fields Lucene must score every
        # match, with none it skips blocks that cannot reach the page (twice as fast for a
        # common term). Ties within the page are then put newest first here; equal scores
        # split across two pages keep the index's order. Never `track_scores`: it too makes
        # Lucene score every match (4x slower for a common term at a million documents);
        # sorted by date the scores are left at 0, as the protocol allows.
        sort: list[Any] | None = None if by_score else list(_NEWEST_FIRST)
        query = build_query(request)
        if request.collapse:
            total, exact, found = self._collapsed(request, query, sort)
        else:
            with self._errors("search"):
                response = self._client.search(
                    index=self.alias,
                    query=query,
                    sort=sort,
                    from_=request.offset,
                    size=request.limit,
                    # Counting stops at TOTAL_CAP: past it the total is a lower bound, and
                    # Lucene may skip blocks that cannot reach the page.
                    track_total_hits=TOTAL_CAP,
                )
            found = response["hits"]["hits"]
            total = int(response["hits"]["total"]["value"])
            exact = response["hits"]["total"]["relation"] == "eq"
        hits = [
            SearchHit(hit["_id"], float(hit.get("_score") or 0.0), _document(hit["_source"]))
            for hit in found
        ]
        if by_score:
            hits.sort(key=_newest_first)
            hits.sort(key=lambda hit: -hit.score)  # stable: equal scores stay newest first
        return SearchPage(total, hits, total_exact=exact)

    def _collapsed(
        self, request: SearchRequest, query: dict[str, Any], sort: list[Any] | None
    ) -> tuple[int, bool, list[dict[str, Any]]]:
        """One hit per story: the story total and the page's raw hits.

        Elasticsearch's `collapse` (and a story count over every match) would make Lucene
        collect every match, so a common term at a million documents costs a full pass.
        Instead the page is cut from the first COLLAPSE_FETCH x (offset + limit) hits in
        plain order, a story placed by its first copy there (as `collapse` places it by
        its best), falling back to `collapse` when those hits hold too few stories; the
        stories are counted among the first TOTAL_CAP matches of each shard (a lower
        bound past them, as totals are).
        """
        wanted = request.offset + request.limit
        fetch = min(max(COLLAPSE_FETCH * wanted, wanted + 20), TOTAL_CAP)
        page = {
            "query": query,
            "size": fetch,
            "_source": False,
            "docvalue_fields": ["story_id"],
            "track_total_hits": False,
        }
        if sort is not None:
            page["sort"] = sort
        stories = {
            "query": query,
            # One hit, not none: with size 0 Elasticsearch ignores terminate_after and the
            # aggregation visits every match.
            "size": 1,
            "_source": False,
            "track_total_hits": False,
            "terminate_after": TOTAL_CAP,
            "aggregations": {
                "stories": {
                    "cardinality": {"field": "story_id", "precision_threshold": STORY_PRECISION}
                }
            },
        }
        with self._errors("search"):
            page_response, count_response = self._client.msearch(
                index=self.alias, searches=[{}, page, {}, stories]
            )["responses"]
        for response in (page_response, count_response):
            if "error" in response:
                raise SearchBackendError(
                    f"Elasticsearch at {', '.join(self.hosts)} refused to search"
                    f" (index {self.alias!r}): {response['error']}"
                )
        counted = int(count_response["aggregations"]["stories"]["value"])
        total = min(counted, TOTAL_CAP)
        exact = counted <= TOTAL_CAP and not count_response.get("terminated_early", False)
        first: dict[str, dict[str, Any]] = {}
        for hit in page_response["hits"]["hits"]:
            first.setdefault(hit["fields"]["story_id"][0], hit)
        chosen = list(first.values())[request.offset : wanted]
        if len(first) < wanted and len(page_response["hits"]["hits"]) == fetch:
            with self._errors("search"):
                response = self._client.search(
                    index=self.alias,
                    query=query,
                    sort=sort,
                    collapse={"field": "story_id"},
                    from_=request.offset,
                    size=request.limit,
                    track_total_hits=False,
                )
            return total, exact, response["hits"]["hits"]
        if not chosen:
            return total, exact, []
        with self._errors("search"):
            sources = self._client.mget(
                index=self.alias, ids=[hit["_id"] for hit in chosen], realtime=False
            )["docs"]
        by_id = {doc["_id"]: doc["_source"] for doc in sources if doc.get("found")}
        # A copy deleted between the two requests is left out rather than shown empty.
        return (
            total,
            exact,
            [hit | {"_source": by_id[hit["_id"]]} for hit in chosen if hit["_id"] in by_id],
        )

    def count(self, request: SearchRequest) -> int:
        with self._errors("count documents"):
            response = self._client.count(index=self.alias, query=build_query(request))
        return int(response["count"])

    def facets(
        self,
        request: SearchRequest,
        fields: Sequence[FacetField] = FACET_FIELDS,
        size: int = FACET_SIZE,
    ) -> FacetCounts:
        fields = list(dict.fromkeys(fields))
        if not fields:
            return {}
        with self._errors("count facets"):
            response = self._client.search(
                index=self.alias,
                query=build_query(request),
                size=0,
                track_total_hits=False,
                aggregations=facet_aggregations(fields, size),
                request_cache=self.request_cache,
            )
        aggregations = response["aggregations"]
        return {
            field: order_facet(
                field,
                (
                    (str(bucket.get("key_as_string", bucket["key"])), int(bucket["doc_count"]))
                    for bucket in aggregations[field]["buckets"]
                ),
                size,
            )
            for field in fields
        }

    def refresh(self) -> None:
        with self._errors("refresh the index"):
            self._client.indices.refresh(index=self.alias)

    def rebuild(self) -> ElasticsearchBuild:
        return ElasticsearchBuild(self)

    def drop(self) -> None:
        with self._errors("delete the index"):
            try:
                behind = list(self._client.indices.get_alias(name=self.alias))
            except NotFoundError:
                behind = []
            for name in {*behind, self.index_name}:
                self._client.indices.delete(index=name, ignore_unavailable=True)

    def close(self) -> None:
        self._client.close()


def _version(name: str) -> int:
    match = re.search(r"-v(\d+)$", name)
    return int(match.group(1)) if match else VERSION


class ElasticsearchBuild:
    """A rebuild as the next index version, `<alias>-v<N+1>`: bulk-filled with refreshes
    off while the alias still points at the live index, then one `_aliases` request moves
    the alias (searches and writes switch at once) and the old index is deleted."""

    def __init__(self, index: ElasticsearchIndex) -> None:
        self._index = index
        client = index._client
        with index._errors("start a new index version"):
            try:
                self.live = sorted(client.indices.get_alias(name=index.alias))
            except NotFoundError:
                self.live = []
            version = max((_version(name) for name in self.live), default=VERSION) + 1
            self.name = f"{index.alias}-v{version}"
            # Never behind the alias (that holds only older versions): a leftover of an
            # interrupted reindex.
            client.indices.delete(index=self.name, ignore_unavailable=True)
            client.indices.create(
                index=self.name,
                settings={"number_of_shards": index.shards, "refresh_interval": "-1"},
                mappings=MAPPINGS,
            )

    def write(self, documents: Sequence[SearchDocument]) -> None:
        actions = (
            {"_op_type": "index", "_index": self.name, "_id": doc.doc_id, "_source": _source(doc)}
            for doc in documents
        )
        with self._index._errors(f"index {len(documents)} documents into {self.name}"):
            helpers.bulk(self._index._client, actions, chunk_size=500, max_chunk_bytes=20_000_000)

    def swap(self) -> None:
        client, alias = self._index._client, self._index.alias
        with self._index._errors(f"put {self.name} behind the alias"):
            client.indices.put_settings(index=self.name, settings={"refresh_interval": None})
            client.indices.refresh(index=self.name)
            actions: list[dict[str, Any]] = [
                {"remove": {"index": name, "alias": alias}} for name in self.live
            ]
            actions.append({"add": {"index": self.name, "alias": alias, "is_write_index": True}})
            client.indices.update_aliases(actions=actions)
            for name in self.live:
                client.indices.delete(index=name, ignore_unavailable=True)

    def abandon(self) -> None:
        with self._index._errors(f"delete {self.name}"):
            self._index._client.indices.delete(index=self.name, ignore_unavailable=True)
