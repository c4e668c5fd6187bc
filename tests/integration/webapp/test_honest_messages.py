"""What the pages say about mail is what happened, with a real SMTP server that first
refuses, then accepts: a failed send is said and retried, a repeat within five minutes is
said to be a repeat, and only a mail that went out is called sent."""

from __future__ import annotations

from hitwatch.search.memory import InMemoryIndex
from tests.accounts import form_token
from webapp import create_app


def test_an_alert_request_says_what_the_mail_server_did(inbox, settings, database) -> None:
    handler, port = inbox
    app = create_app(
        settings.model_copy(update={"smtp_port": port}),
        database=database,
        search_index=InMemoryIndex(),
        test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    client = app.test_client()

    def ask() -> str:
        data = {
            "csrf_token": form_token(client, "/alerts/new"),
            "q": "医保",
            "email": "a@example.org",
        }
        return client.post("/alerts", data=data, follow_redirects=True).get_data(as_text=True)

    handler.refuse = True  # the server answers 451
    assert "邮件暂时发不出去" in ask() and handler.messages == []
    handler.refuse = False
    assert "确认邮件已发出" in ask()  # the retry right after a failure does send
    assert len(handler.messages) == 1
    repeat = ask()
    assert "几分钟前已经发出" in repeat and "确认邮件已发出" not in repeat
    assert len(handler.messages) == 1  # nothing sent, and nothing claimed to be
