"""A notifier batch's alert mails go through one SMTP connection of a real server (aiosmtpd),
each mailed once."""

from __future__ import annotations

from hitwatch.alerts.rules import add_rule
from hitwatch.mail import SmtpTransport
from hitwatch.messages import StoryIndexed
from hitwatch.search.memory import InMemoryIndex
from notifier.alerts import AlertTasks
from tests.factories import Doc, add_documents


def _indexed(doc_id: str) -> StoryIndexed:
    return StoryIndexed(
        doc_id=doc_id, story_id=f"s-{doc_id}", new_story=True, updated=False, title="t",
        source_name="新京报",
    )  # fmt: skip


def test_a_batch_of_alerts_takes_one_smtp_connection(database, settings, inbox) -> None:
    handler, port = inbox
    add_rule(database, "a@example.org", "电子病历")
    add_rule(database, "b@example.org", "医保")
    docs = [Doc(f"d{n}", f"推进电子病历建设 {n}", "医保局发布通知") for n in range(4)]
    add_documents(database, InMemoryIndex(), docs)
    transport = SmtpTransport("127.0.0.1", port)
    tasks = AlertTasks(database, settings, transport=lambda _settings: transport)

    errors = tasks.handle_batch([_indexed(doc.doc_id) for doc in docs])

    assert errors == [None] * 4
    assert len(handler.messages) == 8  # two rules, four stories
    assert sorted({m["To"] for m in handler.messages}) == ["a@example.org", "b@example.org"]
    assert transport.connections == 1
