"""An issue is named by its frequency (月报, 周报, 专报 for a custom range) in every format:
text, web page, Markdown, e-mail subject and body, Word, PDF and the Atom feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO

import pytest
from docx import Document
from pypdf import PdfReader

from hitwatch.digest import (
    check_invariants,
    digest_from_settings,
    render_atom,
    render_html,
    render_markdown,
    render_text,
)
from hitwatch.digest.document import render_docx
from hitwatch.digest.mail import SubscriberLinks, digest_message
from hitwatch.settings import Settings
from tests.unit.digest.samples import BULLETIN_ITEMS, END, START
from tests.unit.digest.test_digest_pdf import _pdf

WORDS = {"monthly": "月报", "weekly": "周报", "custom": "专报"}
LINKS = SubscriberLinks(
    web="https://w/d/1", unsubscribe="https://w/u/T", one_click="https://w/u/T/1"
)


def _digest(settings: Settings, kind: str):  # type: ignore[no-untyped-def]
    return digest_from_settings(
        settings,
        START,
        END,
        BULLETIN_ITEMS,
        kind=kind,  # type: ignore[arg-type]
        number=2,
        published_at=datetime(2024, 8, 1, tzinfo=UTC),
    )


def test_the_words_are_settings(settings: Settings) -> None:
    assert {kind: _digest(settings, kind).period_word for kind in WORDS} == WORDS
    custom = settings.model_copy(update={"digest_custom_word": "专题报告"})
    assert _digest(custom, "custom").period_word == "专题报告"


@pytest.mark.parametrize("kind", list(WORDS))
def test_every_format_names_the_frequency(settings: Settings, kind: str) -> None:
    word, digest = WORDS[kind], _digest(settings, kind)
    name = f"{settings.digest_publisher}{word}"
    text = render_text(digest)
    assert text.splitlines()[0] == name
    assert f"本期{word}共收集 4篇" in text
    assert check_invariants(text) == []  # bulletin.md's invariants hold for every kind
    assert render_markdown(digest).startswith(f"# {name} 第2期")
    assert f"<title>{name} 第2期" in render_html(digest)
    message = digest_message(digest, sender="d@example.org", recipient="r@example.org", links=LINKS)
    assert message["Subject"].startswith(f"{name} 第2期")
    assert f"本期{word}共收集" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"本{word}" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    document = Document(BytesIO(render_docx(digest)))
    assert document.paragraphs[0].text == name
    assert any(f"本期{word}共收集" in p.text for p in document.paragraphs)
    atom = render_atom([(digest, "https://w/d/1", "<p/>")], feed_url="f", site_url="s", title="t")
    assert re.search(rf"<title>{name} 第2期", atom)


@pytest.mark.parametrize("kind", ["weekly", "custom"])
def test_the_pdf_names_the_frequency(settings: Settings, kind: str) -> None:
    reader = PdfReader(BytesIO(_pdf(_digest(settings, kind))))
    first = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert WORDS[kind] in first
    assert "本期" + WORDS[kind] in re.sub(
        r"\s+", "", "".join(p.extract_text() for p in reader.pages)
    )
