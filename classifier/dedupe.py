"""Stories: one text and all its copies, shared by every classifier worker through Redis.

A document joins a story when its body is the same text as the story's: an exact
fingerprint (NFKC, letters and digits only) catches identical copies; MinHash over
character 5-grams with LSH bands catches reprints (other furniture, a paragraph dropped
or added, an editor's note, truncation) and a similarity check on the signatures keeps
precision. Different texts about one event stay separate stories. A law or regulation
whose title matches an earlier document but whose text or amendment date differs is a
new version: it gets its own story and a link to the version it follows.

Concurrency: `assign` is an optimistic Redis transaction. It WATCHes every key its
decision reads (the document, the fingerprint, each LSH bucket shard, the title and the
candidate stories), decides, and writes in MULTI/EXEC; if another worker changed any of
those keys meanwhile, EXEC fails and the assignment is recomputed. Two copies arriving
together touch the same fingerprint key and bucket shards, so exactly one creates the
story and the other joins it. Unlike a lock, nothing waits while no one conflicts and a
crashed worker leaves nothing to expire.

Keys (all under `<namespace>:dedupe:`): `doc:<doc_id>` (hash), `hash:<content_hash>`
(story id), `story:<story_id>` (hash), `lsh:<band>:<shard>` (hash: bucket -> story ids),
`title:<title hash>` (story ids of versions).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import redis

from classifier.policy import find_doc_number, normalize_date
from hitwatch.errors import TransientError
from hitwatch.messages import stable_id

__all__ = [
    "Fingerprint",
    "StoryAssignment",
    "StoryRegistry",
    "bucket_ids",
    "content_fingerprint",
    "estimate_similarity",
    "fingerprint",
    "normalize_body",
    "same_text",
    "shingle_hashes",
]

SHINGLE = 5
NUM_PERM = 63
ROWS = 3
BANDS = NUM_PERM // ROWS
# 2**14 shards per band keep each shard hash small enough for Redis's compact encoding
# up to about a million stories.
SHARD_BITS = 14
# Bodies shorter than this (after normalisation) are matched by exact fingerprint only:
# a few shingles say nothing about reprints.
MIN_NEAR_CHARS = 40
# Verification on the signatures: Jaccard estimate, or containment for a truncated copy
# (still requiring a minimal Jaccard so a snippet does not join a long text).
JACCARD_THRESHOLD = 0.6
CONTAINMENT_THRESHOLD = 0.85
CONTAINMENT_MIN_JACCARD = 0.35
MAX_RETRIES = 100
# A bucket shared by very many stories (boilerplate text) keeps only its latest ones:
# it would otherwise make every lookup slow without finding copies.
MAX_BUCKET_STORIES = 32

_NOT_WORD = re.compile(r"[\W_]+")
_rng = np.random.default_rng(20240701)  # fixed: signatures must agree across workers
_PERM_A = _rng.integers(1, 2**63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_PERM_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)
_BASE = np.uint64(1_000_003)
_KIND_RANK = {"government": 0, "media": 1, "aggregator": 2}
# An amendment note in a law's header: a date, then within the sentence 修订/修正/....
_AMENDMENT = re.compile(
    r"((?:19|20)\d{2}年\d{1,2}月\d{1,2}日)[^。\n]{0,80}?(?:修订|修正|修改|通过|公布|发布|施行)"
)
_HEAD_CHARS = 600
# Titles of documents that are amended in place and keep their title (laws, rules,
# standards), once a trailing edition note such as (2018年修正) is removed.
_VERSIONED_TITLE = re.compile(r"(法|条例|办法|规定|细则|规则|准则|标准|指南|指导原则|目录|规范)$")
_EDITION_NOTE = re.compile(r"[(\[【][^()\[\]【】]*\d{4}[^()\[\]【】]*[)\]】]$")


def normalize_body(text: str) -> str:
    """What fingerprints compare: NFKC, lowercase, letters and digits only."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def content_fingerprint(body: str) -> str:
    """Exact fingerprint of a body: equal for copies differing in spacing, punctuation, width."""
    return hashlib.blake2b(normalize_body(body).encode("utf-8"), digest_size=16).hexdigest()


def shingle_hashes(normalized: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """Distinct 64-bit hashes of the character 5-grams of normalised text."""
    codes = np.frombuffer(normalized.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - SHINGLE + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):  # polynomial rolling hash, wrapping mod 2**64
        hashes = hashes * _BASE + codes[offset : offset + count]
    # splitmix64 finaliser: spreads the polynomial hash over all 64 bits
    hashes ^= hashes >> np.uint64(30)
    hashes *= np.uint64(0xBF58476D1CE4E5B9)
    hashes ^= hashes >> np.uint64(27)
    hashes *= np.uint64(0x94D049BB133111EB)
    hashes ^= hashes >> np.uint64(31)
    return np.unique(hashes)


def _signature(hashes: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, Any]:
    # uint64 arithmetic wraps mod 2**64: multiply-shift universal hashing.
    mixed = _PERM_A[:, None] * hashes[None, :] + _PERM_B[:, None]
    minima: np.ndarray[Any, Any] = (mixed >> np.uint64(32)).min(axis=1).astype("<u4")
    return minima


def estimate_similarity(sig_a: bytes, n_a: int, sig_b: bytes, n_b: int) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) estimated from two signatures."""
    a = np.frombuffer(sig_a, dtype="<u4")
    b = np.frombuffer(sig_b, dtype="<u4")
    jaccard = float(np.count_nonzero(a == b)) / NUM_PERM
    shared = jaccard * (n_a + n_b) / (1.0 + jaccard)
    smaller = max(1, min(n_a, n_b))
    return jaccard, min(1.0, shared / smaller)


def _is_copy(jaccard: float, containment: float) -> bool:
    if jaccard >= JACCARD_THRESHOLD:
        return True
    return containment >= CONTAINMENT_THRESHOLD and jaccard >= CONTAINMENT_MIN_JACCARD


@dataclass(frozen=True)
class Fingerprint:
    """What dedupe knows of a body: exact hash, MinHash signature, LSH buckets, edition."""

    content_hash: str
    shingles: int
    signature: bytes
    buckets: tuple[tuple[int, int, bytes], ...]  # (band, shard, bucket id)
    edition: str
    doc_number: str


def fingerprint(body: str) -> Fingerprint:
    normalized = normalize_body(body)
    content_hash = hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest()
    head = unicodedata.normalize("NFKC", body[:_HEAD_CHARS])
    editions = [normalize_date(m.group(1)) for m in _AMENDMENT.finditer(head)]
    edition = max(editions, default="")
    number = find_doc_number(head)
    if len(normalized) < MIN_NEAR_CHARS:
        return Fingerprint(content_hash, 0, b"", (), edition, number)
    hashes = shingle_hashes(normalized)
    raw = _signature(hashes).tobytes()
    return Fingerprint(content_hash, len(hashes), raw, bucket_ids(raw), edition, number)


def bucket_ids(signature: bytes) -> tuple[tuple[int, int, bytes], ...]:
    """(band, shard, bucket id) of each LSH band of a signature."""
    buckets = []
    width = ROWS * 4
    for band in range(BANDS):
        value = hashlib.blake2b(
            signature[band * width : (band + 1) * width], digest_size=8
        ).digest()
        shard = int.from_bytes(value[:2], "big") & ((1 << SHARD_BITS) - 1)
        buckets.append((band, shard, value[2:]))
    return tuple(buckets)


def title_key(title: str) -> str:
    """The title two versions of one law share, or "" when the title is not a law's."""
    text = unicodedata.normalize("NFKC", title).strip()
    text = _EDITION_NOTE.sub("", text).strip()
    text = re.sub(r"[\s《》\"“”]+", "", text)
    if len(text) < 4 or not _VERSIONED_TITLE.search(text):
        return ""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def _compatible_editions(edition_a: str, number_a: str, edition_b: str, number_b: str) -> bool:
    """False when both texts state an amendment date or 发文字号 and they differ."""
    if edition_a and edition_b and edition_a != edition_b:
        return False
    return not (number_a and number_b and number_a != number_b)


def same_text(a: Fingerprint, b: Fingerprint) -> bool:
    """The registry's decision for one pair: would `b` join the story of `a`?"""
    if a.content_hash == b.content_hash:
        return True
    if not a.signature or not b.signature or not set(a.buckets) & set(b.buckets):
        return False
    if not _compatible_editions(a.edition, a.doc_number, b.edition, b.doc_number):
        return False
    return _is_copy(*estimate_similarity(a.signature, a.shingles, b.signature, b.shingles))


@dataclass(frozen=True)
class StoryAssignment:
    story_id: str
    content_hash: str
    new_story: bool
    updated: bool = False
    duplicate_of: str | None = None
    canonical_doc_id: str = ""
    previous_version_of: str | None = None
    superseded_by: str | None = None
    similarity: float = 0.0


@dataclass
class _Story:
    story_id: str
    canonical: str
    rank: int
    published: float
    signature: bytes
    shingles: int
    edition: str
    doc_number: str
    title: str
    members: int = 1

    @classmethod
    def from_redis(cls, story_id: str, raw: dict[bytes, bytes]) -> _Story:
        text = {k.decode(): v for k, v in raw.items()}
        return cls(
            story_id=story_id,
            canonical=text["canon"].decode(),
            rank=int(text["rank"]),
            published=float(text["ts"]),
            signature=text.get("sig", b""),
            shingles=int(text.get("n", b"0")),
            edition=text.get("ed", b"").decode(),
            doc_number=text.get("num", b"").decode(),
            title=text.get("title", b"").decode(),
            members=int(text.get("members", b"1")),
        )


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else math.inf


class StoryRegistry:
    """Assigns documents to stories; every worker shares the registry through Redis."""

    def __init__(self, redis_client: redis.Redis, namespace: str = "hitwatch") -> None:
        self._redis = redis_client
        self._prefix = f"{namespace}:dedupe:"

    def _key(self, *parts: object) -> str:
        return self._prefix + ":".join(str(p) for p in parts)

    def clear(self) -> int:
        """Delete every key of this namespace's registry; returns how many were deleted."""
        deleted = 0
        batch: list[bytes] = []
        for key in self._redis.scan_iter(match=self._prefix + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(self._redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(self._redis.delete(*batch))
        return deleted

    def assign(
        self,
        *,
        doc_id: str,
        title: str,
        body: str,
        source_kind: str = "media",
        published_at: datetime | None = None,
    ) -> StoryAssignment:
        """The story of this document, creating or updating it; idempotent per content."""
        fp = fingerprint(body)
        tkey = title_key(title)
        try:
            for _ in range(MAX_RETRIES):
                with self._redis.pipeline() as pipe:
                    try:
                        return self._attempt(pipe, doc_id, fp, tkey, source_kind, published_at)
                    except redis.WatchError:
                        continue
        except redis.ConnectionError as exc:
            raise TransientError(f"dedupe registry unreachable: {exc}") from exc
        raise TransientError(f"dedupe of {doc_id}: {MAX_RETRIES} conflicting attempts, retry later")

    def _attempt(
        self,
        pipe: Any,
        doc_id: str,
        fp: Fingerprint,
        tkey: str,
        source_kind: str,
        published_at: datetime | None,
    ) -> StoryAssignment:
        doc_key = self._key("doc", doc_id)
        hash_key = self._key("hash", fp.content_hash)
        shard_keys = [self._key("lsh", band, shard) for band, shard, _ in fp.buckets]
        title_store = self._key("title", tkey) if tkey else None
        watched = [doc_key, hash_key, *shard_keys] + ([title_store] if title_store else [])
        pipe.watch(*watched)
        reads = self._redis.pipeline(transaction=False)
        reads.hgetall(doc_key)
        reads.get(hash_key)
        for key, (_, _, bucket) in zip(shard_keys, fp.buckets, strict=True):
            reads.hget(key, bucket)
        if title_store:
            reads.smembers(title_store)
        results = reads.execute()
        doc_raw, exact = results[0], results[1]
        bucket_values: list[bytes | None] = results[2 : 2 + len(shard_keys)]
        versions = {v.decode() for v in results[-1]} if title_store else set()

        candidates: set[str] = set()
        for value in bucket_values:
            if value:
                candidates.update(value.decode().split(","))
        known_story = doc_raw[b"story"].decode() if doc_raw else None
        exact_story = exact.decode() if exact else None
        for story_id in (known_story, exact_story):
            if story_id:
                candidates.add(story_id)
        candidates |= versions
        stories = self._load_stories(pipe, sorted(candidates))
        rank = _KIND_RANK.get(source_kind, 1)
        moment = _timestamp(published_at)

        if known_story is not None and known_story in stories:
            story = stories[known_story]
            if doc_raw.get(b"hash", b"").decode() == fp.content_hash:
                pipe.unwatch()
                return self._result(story, doc_id, fp, new=False, updated=False, similarity=1.0)
            pipe.multi()
            pipe.hset(doc_key, mapping={"story": story.story_id, "hash": fp.content_hash})
            pipe.set(hash_key, story.story_id)
            self._index_buckets(pipe, fp, story.story_id, shard_keys, bucket_values)
            pipe.execute()
            return self._result(story, doc_id, fp, new=False, updated=True, similarity=1.0)

        match, similarity = self._best_match(fp, exact_story, stories)
        pipe.multi()
        if match is not None:
            duplicate_of = match.canonical
            if (rank, moment) < (match.rank, match.published):
                match.canonical, match.rank, match.published = doc_id, rank, moment
                pipe.hset(
                    self._key("story", match.story_id),
                    mapping={"canon": doc_id, "rank": rank, "ts": repr(moment)},
                )
            pipe.hincrby(self._key("story", match.story_id), "members", 1)
            pipe.hset(doc_key, mapping={"story": match.story_id, "hash": fp.content_hash})
            pipe.set(hash_key, match.story_id)
            self._index_buckets(pipe, fp, match.story_id, shard_keys, bucket_values)
            pipe.execute()
            result = self._result(
                match, doc_id, fp, new=False, updated=False, similarity=similarity
            )
            return StoryAssignment(**{**result.__dict__, "duplicate_of": duplicate_of})

        story_id = stable_id(f"story:{doc_id}:{fp.content_hash}")
        previous, later = self._versions(versions, stories, fp, moment)
        pipe.hset(
            self._key("story", story_id),
            mapping={
                "canon": doc_id,
                "rank": rank,
                "ts": repr(moment),
                "sig": fp.signature,
                "n": fp.shingles,
                "ed": fp.edition,
                "num": fp.doc_number,
                "title": tkey,
                "members": 1,
            },
        )
        pipe.hset(doc_key, mapping={"story": story_id, "hash": fp.content_hash})
        pipe.set(hash_key, story_id)
        self._index_buckets(pipe, fp, story_id, shard_keys, bucket_values)
        if title_store:
            pipe.sadd(title_store, story_id)
        pipe.execute()
        return StoryAssignment(
            story_id=story_id,
            content_hash=fp.content_hash,
            new_story=True,
            canonical_doc_id=doc_id,
            previous_version_of=previous,
            superseded_by=later,
        )

    def _load_stories(self, pipe: Any, story_ids: list[str]) -> dict[str, _Story]:
        if not story_ids:
            return {}
        keys = [self._key("story", s) for s in story_ids]
        pipe.watch(*keys)
        reads = self._redis.pipeline(transaction=False)
        for key in keys:
            reads.hgetall(key)
        return {
            story_id: _Story.from_redis(story_id, raw)
            for story_id, raw in zip(story_ids, reads.execute(), strict=True)
            if raw
        }

    def _best_match(
        self, fp: Fingerprint, exact_story: str | None, stories: dict[str, _Story]
    ) -> tuple[_Story | None, float]:
        if exact_story is not None and exact_story in stories:
            return stories[exact_story], 1.0
        best: _Story | None = None
        best_score = 0.0
        if not fp.signature:
            return None, 0.0
        for story in stories.values():
            if not story.signature or not _compatible_editions(
                fp.edition, fp.doc_number, story.edition, story.doc_number
            ):
                continue
            jaccard, containment = estimate_similarity(
                fp.signature, fp.shingles, story.signature, story.shingles
            )
            if _is_copy(jaccard, containment) and jaccard > best_score:
                best, best_score = story, jaccard
        return best, best_score

    @staticmethod
    def _versions(
        versions: set[str], stories: dict[str, _Story], fp: Fingerprint, moment: float
    ) -> tuple[str | None, str | None]:
        """(canonical doc of the latest earlier version, of the earliest later version)."""

        def order(story: _Story) -> tuple[str, float]:
            return (story.edition, story.published)

        mine = (fp.edition, moment)
        known = [stories[s] for s in versions if s in stories]
        earlier = [s for s in known if order(s) <= mine]
        later = [s for s in known if order(s) > mine]
        previous = max(earlier, key=order).canonical if earlier else None
        following = min(later, key=order).canonical if later else None
        return previous, following

    def _index_buckets(
        self,
        pipe: Any,
        fp: Fingerprint,
        story_id: str,
        shard_keys: list[str],
        current: list[bytes | None],
    ) -> None:
        for key, (_, _, bucket), value in zip(shard_keys, fp.buckets, current, strict=True):
            members = value.decode().split(",") if value else []
            if story_id not in members:
                kept = [*members, story_id][-MAX_BUCKET_STORIES:]
                pipe.hset(key, bucket, ",".join(kept))

    def _result(
        self,
        story: _Story,
        doc_id: str,
        fp: Fingerprint,
        *,
        new: bool,
        updated: bool,
        similarity: float,
    ) -> StoryAssignment:
        return StoryAssignment(
            story_id=story.story_id,
            content_hash=fp.content_hash,
            new_story=new,
            updated=updated,
            duplicate_of=story.canonical if story.canonical != doc_id else None,
            canonical_doc_id=story.canonical,
            similarity=similarity,
        )
