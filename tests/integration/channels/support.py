"""Helpers of the channel tests: channels on the local receiver, stored documents, events."""

from __future__ import annotations

from hitwatch.channels import HttpPoster, Vault, add_channel
from hitwatch.messages import StoryIndexed
from hitwatch.search.memory import InMemoryIndex
from tests.factories import Doc, add_documents
from tests.receivers import Receiver

SECRET_KEY = "channels-test-secret-0123456789abcdef"
BASE = "https://hitwatch.example.org"
OWNER = "team@example.org"


def channel(
    settings, database, receiver: Receiver, kind: str, *, secret: str | None = None, owner=OWNER
):
    return add_channel(
        database, Vault(SECRET_KEY), HttpPoster.from_settings(settings), owner, kind,
        receiver.url(kind), name=f"{kind}群",
        secret=receiver.secret if secret is None else secret,
    )  # fmt: skip


def event(doc_id: str) -> StoryIndexed:
    return StoryIndexed(
        doc_id=doc_id, story_id=f"s-{doc_id}", version=1, new_story=True, updated=False,
        title="t", source_name="国家卫健委",
    )  # fmt: skip


def publish(
    database, doc_id: str, title: str, body: str = "各地推进电子病历建设。", **fields
) -> None:
    values = {
        "source_id": "nhc", "source_name": "国家卫健委", "story_id": f"s-{doc_id}",
        "url": f"https://www.nhc.gov.cn/{doc_id}.shtml", "doc_type": "政策文件",
    } | fields  # fmt: skip
    add_documents(database, InMemoryIndex(), [Doc(doc_id, title, body, **values)])
