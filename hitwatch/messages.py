"""Versioned schemas of every message that crosses a service boundary.

A message travels as a JSON object whose `schema` field names its type and version
(`crawled_item/1`). Adding an optional field keeps the version; renaming or removing one,
or changing a meaning, makes a new version that consumers must accept side by side.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hitwatch.errors import ExtractionError, SchemaError

__all__ = [
    "DOCUMENT_EXTENSIONS",
    "AlertsDue",
    "Attachment",
    "AttachmentFile",
    "ClassifiedDocument",
    "CrawledItem",
    "DigestDue",
    "DigestPublished",
    "PolicyMeta",
    "ReclassifyBatch",
    "StoryIndexed",
    "TopicScore",
    "parse_message",
    "stable_id",
]


def stable_id(text: str) -> str:
    """A short stable id for a canonical URL or a content fingerprint."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]  # noqa: S324 - an id, not a secret


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# Attachment links whose files the crawler fetches with the page and the classifier reads
# (PDF, Word, Excel; .wps and .et are WPS Office's names for Word and Excel files).
DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et")


class AttachmentFile(BaseModel):
    """An attached document fetched with its page: bytes untouched, zlib + base64."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="the site's URL of the file (as linked from the page)")
    content_type: str = ""
    data_z64: str = Field(description="file bytes, zlib-compressed then base64-encoded")

    def data(self) -> bytes:
        return zlib.decompress(base64.b64decode(self.data_z64))


class CrawledItem(_Message):
    """A fetched article page, handed by the crawler to the classifier (`classify` queue).

    The raw bytes travel untouched (zlib + base64) so that encoding detection, extraction
    and a later replay all work from what the server really sent.
    """

    schema_: Literal["crawled_item/1"] = Field("crawled_item/1", alias="schema")
    item_id: str = Field(description="stable_id of the canonical URL")
    url: str = Field(description="URL as requested")
    final_url: str = Field(description="URL after redirects")
    source_id: str = Field(description="id of the source definition that found the page")
    fetched_at: datetime
    status: int = 200
    content_type: str = ""
    body_z64: str = Field(description="page bytes, zlib-compressed then base64-encoded")
    hints: dict[str, str] = Field(
        default_factory=dict, description="fields known from the list page: title, date ..."
    )
    attachments: list[AttachmentFile] = Field(
        default_factory=list, description="documents linked from the page, fetched with it"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @staticmethod
    def pack_body(raw: bytes) -> str:
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    def body_bytes(self, limit: int | None = None) -> bytes:
        """The page bytes; ExtractionError past `limit` bytes, found while decompressing
        (a small message can inflate to gigabytes)."""
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(self.body_z64), (limit + 1) if limit else 0)
        if limit is not None and (len(raw) > limit or inflater.unconsumed_tail):
            raise ExtractionError(
                f"page larger than MAX_PAGE_BYTES ({limit:,} bytes): refused before extraction"
            )
        return raw + inflater.flush()

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    title: str = ""
    text: str = ""


class PolicyMeta(BaseModel):
    """Metadata of a government policy document (信息公开 table or body)."""

    model_config = ConfigDict(frozen=True)

    doc_number: str = ""
    issuer: str = ""
    index_number: str = ""
    topic: str = ""
    written_date: str = ""
    publish_date: str = ""


class TopicScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    score: float


class ClassifiedDocument(_Message):
    """An extracted, classified and deduplicated article (`index` queue)."""

    schema_: Literal["classified_document/1"] = Field("classified_document/1", alias="schema")
    doc_id: str = Field(description="stable_id of the canonical URL")
    url: str
    canonical_url: str
    source_id: str
    source_name: str = Field(description="outlet display name as the bulletin writes it")
    source_kind: Literal["government", "media", "aggregator"] = "media"
    origin_name: str = Field("", description="original outlet of a reprint (来源：…)")
    title: str
    published_at: datetime | None = None
    author: str = ""
    body: str = Field(description="clean paragraphs separated by newlines")
    attachments: list[Attachment] = Field(default_factory=list)
    policy: PolicyMeta | None = None
    content_hash: str = Field(description="fingerprint of the normalised body")
    story_id: str = Field(description="the story (one text and its copies) this copy belongs to")
    relevant: bool = True
    relevance: float = 1.0
    topics: list[TopicScore] = Field(default_factory=list)
    doc_type: str = ""
    region: str = ""
    entities: dict[str, list[str]] = Field(default_factory=dict)
    evidence: dict[str, Any] = Field(default_factory=dict)
    fetched_at: datetime
    reclassified: bool = Field(
        False,
        description="a stored document classified again (`hitwatch reclassify`): its text is"
        " unchanged, only the classification is replaced, and nobody is alerted",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ReclassifyBatch(_Message):
    """Command: classify these stored documents again (`classify` queue)."""

    schema_: Literal["reclassify_batch/1"] = Field("reclassify_batch/1", alias="schema")
    run_id: str = Field(description="the reclassification run, whose progress counts this batch")
    doc_ids: list[str]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class StoryIndexed(_Message):
    """Event: a document is stored and searchable (`notify` queue)."""

    schema_: Literal["story_indexed/1"] = Field("story_indexed/1", alias="schema")
    doc_id: str
    story_id: str
    version: int = Field(1, description="article version; (doc_id, version) keys the event")
    new_story: bool = Field(description="false when the document joined an existing story")
    updated: bool = Field(description="true when a known URL came back with new content")
    title: str
    source_name: str
    published_at: datetime | None = None
    relevant: bool = True
    topics: list[str] = Field(default_factory=list)
    doc_type: str = ""
    reclassified: bool = Field(False, description="only the classification changed: no alert")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class DigestDue(_Message):
    """Command: build (or refresh) the draft digest of the period that just closed."""

    schema_: Literal["digest_due/1"] = Field("digest_due/1", alias="schema")
    kind: Literal["monthly", "weekly"] = "monthly"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class AlertsDue(_Message):
    """Command (every minute): send the matches rules held back, and due heartbeats."""

    schema_: Literal["alerts_due/1"] = Field("alerts_due/1", alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class DigestPublished(_Message):
    """Event: an editor published a digest issue; deliver it to its subscribers."""

    schema_: Literal["digest_published/1"] = Field("digest_published/1", alias="schema")
    issue_id: int

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


M = TypeVar("M", bound=_Message)


def parse_message(model: type[M], payload: Any) -> M:
    """Validate a payload against `model`, raising `SchemaError` with a readable reason."""
    if not isinstance(payload, dict):
        raise SchemaError(f"{model.__name__}: expected a JSON object, got {type(payload).__name__}")
    expected = model.model_fields["schema_"].default
    got = payload.get("schema")
    if got != expected:
        raise SchemaError(f"{model.__name__}: schema is {got!r}, this consumer reads {expected!r}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise SchemaError(f"{model.__name__}: {exc.error_count()} invalid field(s): {exc}") from exc
