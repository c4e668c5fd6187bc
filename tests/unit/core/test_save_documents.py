"""The indexer's batch write gives what one document at a time gives: a copy joining a
story made earlier in the same batch, a repeat changing nothing, an update a new version."""

from __future__ import annotations

from sqlalchemy import select

from hitwatch.store.models import Story
from indexer.store import save_documents
from tests.factories import classified_document


def test_a_batch_stores_what_one_at_a_time_stores(database) -> None:
    first = classified_document("a", story_id="s1", content_hash="h1", source_kind="media")
    copy = classified_document("b", story_id="s1", content_hash="h1", source_kind="government")
    other = classified_document("c", story_id="s2", content_hash="h2")
    changed = classified_document("c", story_id="s2", content_hash="h3", body="新的正文。")
    with database.session() as session:
        outcomes = save_documents(session, [first, copy, other, other, changed])
    assert [(o.new_story, o.updated, o.version) for o in outcomes] == [
        (True, False, 1),
        (False, False, 1),
        (True, False, 1),
        (True, False, 1),
        (True, True, 2),
    ]
    with database.session() as session:
        stories = {s.id: s for s in session.scalars(select(Story))}
    assert stories["s1"].doc_count == 2 and stories["s1"].canonical_doc_id == "b"
    assert stories["s2"].doc_count == 1
