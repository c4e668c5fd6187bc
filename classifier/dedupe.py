"""Stories: one text and all its copies, shared by every classifier worker through Redis.

A document joins a story when its body is the same text as the story's: an exact
fingerprint (NFKC, letters and digits only) catches identical copies; a
one-permutation MinHash over character 5-grams with LSH bands catches reprints (other
furniture, a paragraph dropped or added, an editor's note, truncation) and a similarity
check on the signatures keeps precision. Different texts about one event stay separate
stories. A law or regulation whose title matches an earlier document but whose text or
amendment date differs is a new version: it gets its own story and a link to the
version it follows.

The fingerprint is computed in the worker; the assignment (lookup, decision, writes) is
one Lua script run atomically by Redis: one round trip, no retries, and of two copies
arriving together exactly one creates the story and the other joins it. Nothing is
locked, so a crashed worker leaves nothing to expire. The script reads story keys it
discovers while running, so the registry needs a single Redis node (not a cluster).

Memory does not grow with the archive: reprints appear within days or weeks of the first
copy, so a story whose latest copy arrived more than `window_days` ago (the setting
`DEDUPE_WINDOW_DAYS`) leaves the near-duplicate index, trimmed by the script itself a few
stories per call. What leaves is the costly part (its LSH bucket entries, its signature);
what stays is small: the story, the content hash -> story and doc -> story mappings, so a
later exact copy still joins its story (and brings it back into the index), and a law's
versions are still found by title. The window counts from arrival, not from publication:
a backfill of 2019 articles must dedupe among itself, and under a publish-time window it
would be out of the window on arrival.

Keys (all under `<namespace>:dedupe:`): `docs:<shard>` (hash: doc id -> content hash
and story id), `hashes:<shard>` (hash: content hash -> story id), `story:<story_id>`
(hash), `title:<title hash>` (story ids of versions) stay; `lsh:<band>:<shard>` (hash:
bucket -> story ids), `near:<story_id>` (signature, then the records of the buckets the
story is in) and `window` (sorted set: story -> arrival of its latest copy) hold the
stories of the window.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import redis

from classifier.policy import find_doc_number, normalize_date
from classifier.terms import nfkc
from hitwatch.errors import TransientError
from hitwatch.messages import stable_id

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "Fingerprint",
    "PendingDocument",
    "StoryAssignment",
    "StoryRegistry",
    "bucket_ids",
    "bucket_record",
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
# A bucket shared by very many stories (boilerplate text) keeps only its latest ones:
# it would otherwise make every lookup slow without finding copies.
MAX_BUCKET_STORIES = 32
# Documents and content hashes (kept after the window, so many more than the window's
# stories) are entries of 2**17 shard hashes, not keys of their own: an entry costs a
# fraction of a key, and shards stay under Redis's compact-encoding limit
# (hash-max-listpack-entries, 512 by default) up to about 50 million documents.
EXACT_SHARD_BITS = 17
# Days a story stays in the near-duplicate index after its latest copy arrived
# (`DEDUPE_WINDOW_DAYS`), and how many expired stories each assignment trims: more than
# the one story it can add, so the index shrinks back after a burst.
DEFAULT_WINDOW_DAYS = 90
TRIM_PER_CALL = 4

_NOT_WORD = re.compile(r"[\W_]+")
_LOW32 = np.uint64(0xFFFFFFFF)
# Odd offset added per bin of distance when an empty bin borrows a neighbour's minimum.
_DENSIFY = np.uint64(0x9E3779B1)
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


@functools.cache
def _word_chars() -> np.ndarray[Any, np.dtype[np.bool_]]:
    # Per BMP code point: is it a letter or digit (what `[\W_]` does not match)?
    return np.array([chr(code).isalnum() for code in range(0x10000)], dtype=bool)


def _word_codes(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """Code points of `normalize_body(text)`: a table lookup instead of a regex pass."""
    lowered = nfkc(text).lower()
    codes = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32)
    if codes.size and int(codes.max()) > 0xFFFF:  # beyond the table: rare, take the regex
        return np.frombuffer(_NOT_WORD.sub("", lowered).encode("utf-32-le"), dtype=np.uint32)
    kept: np.ndarray[Any, np.dtype[np.uint32]] = codes[_word_chars()[codes]]
    return kept


def _text(codes: np.ndarray[Any, np.dtype[np.uint32]]) -> str:
    return codes.tobytes().decode("utf-32-le")


def _content_hash(normalized: str) -> str:
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest()


def normalize_body(text: str) -> str:
    """What fingerprints compare: NFKC, lowercase, letters and digits only."""
    return _text(_word_codes(text))


def content_fingerprint(body: str) -> str:
    """Exact fingerprint of a body: equal for copies differing in spacing, punctuation, width."""
    return _content_hash(normalize_body(body))


def shingle_hashes(normalized: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """64-bit hashes of the character 5-grams of normalised text (repeats included)."""
    return _shingle_hashes(np.frombuffer(normalized.encode("utf-32-le"), dtype=np.uint32))


def _shingle_hashes(
    code_points: np.ndarray[Any, np.dtype[np.uint32]],
) -> np.ndarray[Any, np.dtype[np.uint64]]:
    codes = code_points.astype(np.uint64)
    count = len(codes) - SHINGLE + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = codes[:count].copy()
    for offset in range(1, SHINGLE):  # polynomial rolling hash, wrapping mod 2**64
        hashes *= _BASE
        hashes += codes[offset : offset + count]
    # splitmix64 finaliser: spreads the polynomial hash over all 64 bits
    hashes ^= hashes >> np.uint64(30)
    hashes *= np.uint64(0xBF58476D1CE4E5B9)
    hashes ^= hashes >> np.uint64(27)
    hashes *= np.uint64(0x94D049BB133111EB)
    hashes ^= hashes >> np.uint64(31)
    return hashes


def _signature(
    hashes: np.ndarray[Any, np.dtype[np.uint64]],
) -> tuple[np.ndarray[Any, Any], int]:
    """One-permutation MinHash: (signature, number of distinct shingles).

    One hash per shingle instead of one per shingle and permutation: the high 32 bits
    pick one of NUM_PERM bins, the low 32 bits compete for that bin's minimum. A single
    sort of (bin, value) keys yields every bin's minimum and the distinct count. Bins no
    shingle fell into (short texts) borrow the minimum of the next filled bin to the
    right, shifted by the distance (rotation densification), so two texts still agree
    on a bin with probability equal to their Jaccard similarity.
    """
    bins = ((hashes >> np.uint64(32)) * np.uint64(NUM_PERM)) >> np.uint64(32)
    keys = np.sort((bins << np.uint64(32)) | (hashes & _LOW32))
    fresh = np.ones(len(keys), dtype=bool)
    fresh[1:] = keys[1:] != keys[:-1]
    distinct = int(np.count_nonzero(fresh))
    key_bins = keys >> np.uint64(32)
    first = np.ones(len(keys), dtype=bool)
    first[1:] = key_bins[1:] != key_bins[:-1]
    filled = key_bins[first].astype(np.int64)
    signature = np.zeros(NUM_PERM, dtype=np.uint64)
    signature[filled] = keys[first] & _LOW32
    if len(filled) < NUM_PERM:
        slots = np.arange(NUM_PERM)
        donor = np.searchsorted(filled, slots) % len(filled)
        distance = (filled[donor] - slots) % NUM_PERM
        signature = (signature[filled[donor]] + distance.astype(np.uint64) * _DENSIFY) & _LOW32
    return signature.astype("<u4"), distinct


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
    """The fingerprint of a body; NFKC-normalised input (as the worker passes) is cheapest."""
    codes = _word_codes(body)
    content_hash = _content_hash(_text(codes))
    head = nfkc(body[:_HEAD_CHARS])
    editions = [normalize_date(m.group(1)) for m in _AMENDMENT.finditer(head)]
    edition = max(editions, default="")
    number = find_doc_number(head)
    if len(codes) < MIN_NEAR_CHARS:
        return Fingerprint(content_hash, 0, b"", (), edition, number)
    signature, distinct = _signature(_shingle_hashes(codes))
    raw = signature.tobytes()
    return Fingerprint(content_hash, distinct, raw, bucket_ids(raw), edition, number)


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


def _shard(key: bytes) -> int:
    """The shard of a document or content-hash entry (see `EXACT_SHARD_BITS`)."""
    digest = hashlib.blake2b(key, digest_size=4).digest()
    return int.from_bytes(digest, "big") >> (32 - EXACT_SHARD_BITS)


def bucket_record(band: int, shard: int, bucket: bytes) -> bytes:
    """A bucket as the script stores it under a story: band, shard, bucket id in 9 bytes."""
    return bytes((band,)) + shard.to_bytes(2, "big") + bucket


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


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else math.inf


# The assignment runs in Redis as one script (why, and its KEYS and ARGV: its header),
# after the window's functions, which `sweep` runs alone.
ASSIGN_SCRIPT = Path(__file__).with_name("assign_story.lua")
WINDOW_SCRIPT = Path(__file__).with_name("window.lua")
_SWEEP = "return trim(ARGV[1], KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))"


class StoryRegistry:
    """Assigns documents to stories; every worker shares the registry through Redis."""

    def __init__(
        self,
        redis_client: redis.Redis,
        namespace: str = "hitwatch",
        *,
        window_days: float = DEFAULT_WINDOW_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not window_days > 0:
            raise ValueError(f"the dedupe window must be positive, not {window_days} days")
        self._redis = redis_client
        self._prefix = f"{namespace}:dedupe:"
        self._window_seconds = window_days * 86400
        # Arrival time for the window (any worker's clock: seconds do not matter to it).
        self._clock = clock
        window = WINDOW_SCRIPT.read_text("utf-8")
        self._assign_script = redis_client.register_script(
            window + "\n" + ASSIGN_SCRIPT.read_text("utf-8")
        )
        self._sweep_script = redis_client.register_script(window + "\n" + _SWEEP)

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

    def window_stories(self) -> int:
        """How many stories the near-duplicate index holds (those of the window)."""
        return int(self._redis.zcard(self._key("window")))

    def sweep(self, *, batch: int = 500) -> int:
        """Trim every story out of the window now; returns how many left the index.

        Assignments trim a few stories each, which keeps up while documents arrive; a
        sweep catches up at once (after the window was shortened, or a quiet spell), a
        batch per script call so Redis never stalls long.
        """
        cutoff = self._clock() - self._window_seconds
        left = 0
        while True:
            try:
                count = int(
                    self._sweep_script(
                        keys=[self._key("window")],
                        args=[self._prefix, NUM_PERM * 4, repr(cutoff), batch],
                    )
                )
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                raise TransientError(f"dedupe registry unreachable: {exc}") from exc
            left += count
            if count < batch:
                return left

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
        return self.assign_fingerprint(
            doc_id=doc_id,
            title=title,
            fp=fingerprint(body),
            source_kind=source_kind,
            published_at=published_at,
        )

    def assign_fingerprint(
        self,
        *,
        doc_id: str,
        title: str,
        fp: Fingerprint,
        source_kind: str = "media",
        published_at: datetime | None = None,
    ) -> StoryAssignment:
        """`assign` for a body already fingerprinted: the one Redis round trip."""
        keys, args = self._script_input(doc_id, title, fp, source_kind, published_at, self._clock())
        try:
            reply = self._assign_script(keys=keys, args=args)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise TransientError(f"dedupe registry unreachable: {exc}") from exc
        return _assignment(reply, doc_id, fp.content_hash)

    def assign_many(self, documents: list[PendingDocument]) -> list[StoryAssignment]:
        """Assignments of many documents in one round trip (bulk loads, backfills).

        Each document's script still runs atomically and in order, so copies within the
        batch join each other exactly as if they had been assigned one by one.
        """
        if not documents:
            return []
        pipe = self._redis.pipeline(transaction=False)
        now = self._clock()
        for doc in documents:
            keys, args = self._script_input(
                doc.doc_id, doc.title, doc.fp, doc.source_kind, doc.published_at, now
            )
            self._assign_script(keys=keys, args=args, client=pipe)
        try:
            replies = pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise TransientError(f"dedupe registry unreachable: {exc}") from exc
        return [
            _assignment(reply, doc.doc_id, doc.fp.content_hash)
            for reply, doc in zip(replies, documents, strict=True)
        ]

    def _script_input(
        self,
        doc_id: str,
        title: str,
        fp: Fingerprint,
        source_kind: str,
        published_at: datetime | None,
        now: float,
    ) -> tuple[list[str], list[str | bytes | int | float]]:
        tkey = title_key(title)
        keys = [
            self._key("docs", _shard(doc_id.encode("utf-8"))),
            self._key("hashes", _shard(bytes.fromhex(fp.content_hash))),
            self._key("title", tkey or "-"),
            self._key("window"),
            # = self._key("lsh", band, shard), spelled out: 21 keys per document
            *(f"{self._prefix}lsh:{band}:{shard}" for band, shard, _ in fp.buckets),
        ]
        args: list[str | bytes | int | float] = [
            self._prefix,
            doc_id,
            bytes.fromhex(fp.content_hash),
            fp.signature,
            fp.shingles,
            fp.edition,
            fp.doc_number,
            tkey,
            _KIND_RANK.get(source_kind, 1),
            repr(_timestamp(published_at)),
            stable_id(f"story:{doc_id}:{fp.content_hash}"),
            JACCARD_THRESHOLD,
            CONTAINMENT_THRESHOLD,
            CONTAINMENT_MIN_JACCARD,
            MAX_BUCKET_STORIES,
            NUM_PERM,
            repr(now),
            repr(float(self._window_seconds)),
            TRIM_PER_CALL,
            *(bucket_record(band, shard, bucket) for band, shard, bucket in fp.buckets),
        ]
        return keys, args


@dataclass(frozen=True)
class PendingDocument:
    """A fingerprinted document waiting for its story (see `StoryRegistry.assign_many`)."""

    doc_id: str
    title: str
    fp: Fingerprint
    source_kind: str = "media"
    published_at: datetime | None = None


def _assignment(reply: list[bytes], doc_id: str, content_hash: str) -> StoryAssignment:
    kind, story_id, canonical, similarity, *rest = (part.decode() for part in reply)
    if kind == "new":
        previous, later = rest[1], rest[2]
        return StoryAssignment(
            story_id=story_id,
            content_hash=content_hash,
            new_story=True,
            canonical_doc_id=canonical,
            previous_version_of=previous or None,
            superseded_by=later or None,
        )
    if kind == "joined":
        duplicate_of: str | None = rest[0]
    else:
        duplicate_of = canonical if canonical != doc_id else None
    return StoryAssignment(
        story_id=story_id,
        content_hash=content_hash,
        new_story=False,
        updated=kind == "updated",
        duplicate_of=duplicate_of,
        canonical_doc_id=canonical,
        similarity=float(similarity),
    )
