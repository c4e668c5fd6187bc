"""The notifier takes events in batches: one transaction records them, a repeated event
(in the batch or before it) is recorded once, a message that is no event fails alone."""

from __future__ import annotations

from sqlalchemy import func, select

from hitwatch.errors import SchemaError
from hitwatch.messages import StoryIndexed
from hitwatch.store import StoryEvent
from notifier.worker import Notifier


def _event(doc_id: str, version: int = 1) -> dict[str, object]:
    return StoryIndexed(
        doc_id=doc_id,
        story_id=f"s-{doc_id}",
        version=version,
        new_story=True,
        updated=False,
        title="t",
        source_name="新京报",
    ).to_payload()


def test_a_batch_records_each_event_once_and_a_bad_message_fails_alone(database) -> None:
    notifier = Notifier(database)
    assert notifier.handle_batch([_event("d1")]) == [None]
    results = notifier.handle_batch(
        [_event("d1"), _event("d2"), {"doc_id": "no event"}, _event("d2"), _event("d2", 2)]
    )
    assert [type(r) for r in results] == [
        type(None),
        type(None),
        SchemaError,
        type(None),
        type(None),
    ]
    with database.session() as session:
        keys = session.scalars(select(StoryEvent.key).order_by(StoryEvent.key)).all()
        assert session.scalar(select(func.count()).select_from(StoryEvent)) == 3
    assert keys == ["d1:1", "d2:1", "d2:2"]
