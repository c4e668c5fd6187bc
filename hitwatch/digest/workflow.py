"""The editorial workflow: draft an issue, edit it, publish it, correct it.

An issue is built as a draft for a period and kind; rebuilding refreshes its stories and
keeps the editor's choices (dropped items, order, edited title/outlet/text, added
stories). Publishing checks the bulletin's invariants on the very text readers get,
gives the issue its number and freezes the rendered text, Markdown and HTML. A published
revision never changes: a correction is the next revision, with a visible note.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hitwatch.accounts.audit import record_event
from hitwatch.digest.build import (
    Digest,
    DigestItem,
    DigestKind,
    digest_from_settings,
    item_from_article,
    local_date,
    order_items,
    parse_sections,
    period_word,
    section_rank,
    select_items,
)
from hitwatch.digest.errors import DigestError, invariant_problems
from hitwatch.digest.render import check_invariants, render_html, render_markdown, render_text
from hitwatch.policies import national_implementations
from hitwatch.settings import Settings
from hitwatch.store.models import Article, DigestEntry, DigestIssue, Story

__all__ = [
    "KINDS",
    "DigestError",
    "add_story",
    "build_draft",
    "correct_issue",
    "edit_entry",
    "issue_digest",
    "issue_entries",
    "list_issues",
    "move_entry",
    "publish_issue",
    "set_editor_note",
    "set_included",
]

log = logging.getLogger(__name__)

KINDS: tuple[DigestKind, ...] = ("monthly", "weekly", "custom")


def _latest(session: Session, kind: str, start: date, end: date) -> DigestIssue | None:
    return session.scalars(
        select(DigestIssue)
        .where(DigestIssue.kind == kind)
        .where(DigestIssue.period_start == start, DigestIssue.period_end == end)
        .order_by(DigestIssue.revision.desc())
        .limit(1)
    ).first()


def _require_draft(issue: DigestIssue) -> None:
    if issue.status != "draft":
        raise DigestError("published_immutable", issue=issue.id)


def issue_entries(session: Session, issue: DigestIssue) -> list[tuple[DigestEntry, Article | None]]:
    """Every entry of the issue in order, dropped ones included, with its article."""
    entries = session.scalars(
        select(DigestEntry)
        .where(DigestEntry.issue_id == issue.id)
        .order_by(DigestEntry.position, DigestEntry.id)
    ).all()
    articles = {
        a.id: a
        for a in session.scalars(select(Article).where(Article.id.in_({e.doc_id for e in entries})))
    }
    return [(entry, articles.get(entry.doc_id)) for entry in entries]


def _renumber(session: Session, issue: DigestIssue, settings: Settings) -> None:
    """Positions 0..n-1: by date (and section) unless the editor chose an order."""
    pairs = issue_entries(session, issue)
    if not issue.custom_order:
        sections = parse_sections(settings.digest_sections)
        implementing = national_implementations(session, [entry.doc_id for entry, _ in pairs])

        def sort_key(pair: tuple[DigestEntry, Article | None]) -> tuple[int, datetime, str]:
            entry, article = pair
            moment = (article.published_at if article else None) or datetime.max.replace(tzinfo=UTC)
            doc_type = article.doc_type if article else ""
            rank = section_rank(doc_type, entry.doc_id in implementing, sections)
            return rank, moment, entry.story_id

        pairs.sort(key=sort_key)
    for position, (entry, _) in enumerate(pairs):
        entry.position = position


def build_draft(
    session: Session,
    settings: Settings,
    start: date,
    end: date,
    kind: DigestKind = "monthly",
    *,
    actor: str = "",
) -> DigestIssue:
    """The draft for this period and kind, created or refreshed from the store.

    Idempotent: running it again adds newly indexed stories, follows a story's new
    canonical copy and removes stories that left the period or became irrelevant, while
    keeping what the editor did (dropped, edited, added by hand, reordered). `actor` (an
    account's e-mail, "cli:<login>", empty for the scheduler) is recorded on a new draft.
    """
    if kind not in KINDS:
        raise DigestError("bad_kind", kind=kind)
    if end < start:
        raise DigestError("period_reversed", start=start, end=end)
    issue = _latest(session, kind, start, end)
    if issue is not None and issue.status != "draft":
        raise DigestError(
            "already_published",
            start=start,
            end=end,
            word=period_word(kind, settings),
            issue=issue.id,
        )
    selected = {item.story_id: item for item in select_items(session, start, end)}
    if issue is None:
        if not selected:
            raise DigestError("empty_period", start=start, end=end)
        issue = DigestIssue(
            kind=kind, period_start=start, period_end=end, status="draft", created_by=actor
        )
        session.add(issue)
        session.flush()
        record_event(
            session, "digest_build", actor=actor or "scheduler", target=f"digest:{issue.id}"
        )
    existing = {entry.story_id: entry for entry, _ in issue_entries(session, issue)}
    for story_id, entry in existing.items():
        if story_id in selected:
            entry.doc_id = selected[story_id].doc_id
        elif not entry.manual:
            session.delete(entry)
    end_position = len(existing)
    for story_id, item in selected.items():
        if story_id not in existing:
            session.add(
                DigestEntry(
                    issue_id=issue.id,
                    position=end_position,
                    story_id=story_id,
                    doc_id=item.doc_id,
                    included=True,
                    manual=False,
                )
            )
            end_position += 1
    session.flush()
    _renumber(session, issue, settings)
    issue.updated_at = datetime.now(UTC)
    session.flush()
    return issue


def _entry(session: Session, issue: DigestIssue, entry_id: int) -> DigestEntry:
    _require_draft(issue)
    entry = session.get(DigestEntry, entry_id)
    if entry is None or entry.issue_id != issue.id:
        raise DigestError("no_entry", issue=issue.id, entry=entry_id)
    return entry


def set_included(session: Session, issue: DigestIssue, entry_id: int, included: bool) -> None:
    _entry(session, issue, entry_id).included = included


def move_entry(
    session: Session, issue: DigestIssue, entry_id: int, delta: int, settings: Settings
) -> None:
    """Move an entry up (delta < 0) or down; the issue keeps the editor's order from now on."""
    entry = _entry(session, issue, entry_id)
    _renumber(session, issue, settings)
    pairs = [e for e, _ in issue_entries(session, issue)]
    at = pairs.index(entry)
    target = max(0, min(len(pairs) - 1, at + delta))
    pairs.insert(target, pairs.pop(at))
    for position, moved in enumerate(pairs):
        moved.position = position
    issue.custom_order = True


def edit_entry(
    session: Session,
    issue: DigestIssue,
    entry_id: int,
    *,
    title: str | None = None,
    source_name: str | None = None,
    body: str | None = None,
) -> None:
    """Override what the digest shows for an entry.

    An empty value, or one equal to the article's own, removes the override, so the
    entry follows the article again (e.g. a corrected copy found by a later crawl).
    """
    entry = _entry(session, issue, entry_id)
    article = session.get(Article, entry.doc_id)

    def override(value: str, original: str) -> str | None:
        return value if value and value != original else None

    if title is not None:
        entry.title_override = override(" ".join(title.split()), article.title if article else "")
    if source_name is not None:
        original = article.source_name if article else ""
        entry.source_override = override(source_name.strip(), original)
    if body is not None:
        original = _paragraph_text(article.body if article else "")
        entry.body_override = override(_paragraph_text(body), original)


def _paragraph_text(text: str) -> str:
    """Paragraphs one per line, blank lines and surrounding spaces dropped."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def set_editor_note(session: Session, issue: DigestIssue, note: str) -> None:
    _require_draft(issue)
    issue.editor_note = note.strip()


def add_story(
    session: Session, issue: DigestIssue, story_id: str, settings: Settings
) -> DigestEntry:
    """Add a story found by search (its canonical copy); it must fall inside the period."""
    _require_draft(issue)
    story = session.get(Story, story_id)
    article = session.get(Article, story.canonical_doc_id) if story else None
    if story is None or article is None:
        raise DigestError("story_missing", story=story_id)
    if article.published_at is None:
        raise DigestError("story_undated", story=story_id)
    day = local_date(article.published_at)
    if not issue.period_start <= day <= issue.period_end:
        raise DigestError(
            "story_outside",
            story=article.title or story_id,
            day=day,
            start=issue.period_start,
            end=issue.period_end,
        )
    existing = session.scalars(
        select(DigestEntry).where(
            DigestEntry.issue_id == issue.id, DigestEntry.story_id == story_id
        )
    ).first()
    if existing is not None:
        existing.included = True
        return existing
    count = session.scalar(
        select(func.count()).select_from(DigestEntry).where(DigestEntry.issue_id == issue.id)
    )
    entry = DigestEntry(
        issue_id=issue.id,
        position=int(count or 0),
        story_id=story_id,
        doc_id=article.id,
        included=True,
        manual=True,
    )
    session.add(entry)
    session.flush()
    _renumber(session, issue, settings)
    return entry


def _item(entry: DigestEntry, article: Article, implements: str = "") -> DigestItem:
    item = item_from_article(article, article.published_at or article.fetched_at, implements)
    return replace(
        item,
        title=entry.title_override or item.title,
        source_name=entry.source_override or item.source_name,
        paragraphs=tuple(entry.body_override.splitlines())
        if entry.body_override
        else item.paragraphs,
    )


def issue_digest(session: Session, issue: DigestIssue, settings: Settings) -> Digest:
    """The issue as a Digest to render: included entries, in order, with the edits.

    A published issue is rebuilt from the items frozen when it was published, so later
    changes to the articles never alter what was published.
    """
    items: list[DigestItem] = []
    if issue.status == "published" and issue.items_snapshot is not None:
        items = [DigestItem.from_json(data) for data in issue.items_snapshot]
    else:
        pairs = issue_entries(session, issue)
        implementing = national_implementations(session, [entry.doc_id for entry, _ in pairs])
        for entry, article in pairs:
            if not entry.included:
                continue
            if article is None:
                log.warning(
                    "digest %s: article %s of entry %s is gone", issue.id, entry.doc_id, entry.id
                )
                continue
            items.append(_item(entry, article, implementing.get(entry.doc_id, "")))
        items = order_items(items, parse_sections(settings.digest_sections), by_date=False)
    return digest_from_settings(
        settings,
        issue.period_start,
        issue.period_end,
        items,
        kind=issue.kind,  # type: ignore[arg-type]
        number=issue.number,
        revision=issue.revision,
        editor_note=issue.editor_note,
        correction_note=issue.correction_note,
        published_at=issue.published_at,
        draft=issue.status == "draft",
    )


def publish_issue(
    session: Session,
    issue: DigestIssue,
    settings: Settings,
    *,
    now: datetime | None = None,
    actor: str = "",
) -> DigestIssue:
    """Number the issue, freeze its texts and mark it published; refuse a broken text."""
    _require_draft(issue)
    if issue.revision > 1:
        previous = session.scalars(
            select(DigestIssue).where(
                DigestIssue.kind == issue.kind,
                DigestIssue.period_start == issue.period_start,
                DigestIssue.period_end == issue.period_end,
                DigestIssue.revision == issue.revision - 1,
            )
        ).one()
        number = previous.number
    else:
        highest = session.scalar(
            select(func.max(DigestIssue.number)).where(DigestIssue.kind == issue.kind)
        )
        number = settings.digest_first_number if highest is None else highest + 1
    moment = now or datetime.now(UTC)
    digest = replace(
        issue_digest(session, issue, settings), number=number, published_at=moment, draft=False
    )
    if not digest.items:
        raise DigestError("no_items", issue=issue.id)
    text = render_text(digest)
    problems = check_invariants(text, date_order=not issue.custom_order)
    if problems:
        raise DigestError("invariants", issue=issue.id, problems=invariant_problems(problems))
    issue.number = number
    issue.status = "published"
    issue.published_at = moment
    issue.text_snapshot = text
    issue.markdown_snapshot = render_markdown(digest)
    issue.html_snapshot = render_html(digest)
    issue.items_snapshot = [item.to_json() for item in digest.items]
    issue.published_by = actor
    record_event(
        session,
        "digest_publish",
        actor=actor,
        target=f"digest:{issue.id}",
        number=number,
        revision=issue.revision,
    )
    session.flush()
    return issue


def correct_issue(
    session: Session, issue: DigestIssue, note: str, *, actor: str = ""
) -> DigestIssue:
    """Open the next revision of a published issue as a draft carrying a correction note."""
    if not note.strip():
        raise DigestError("correction_note_missing")
    if issue.status != "published":
        raise DigestError("correct_draft", issue=issue.id)
    latest = _latest(session, issue.kind, issue.period_start, issue.period_end)
    assert latest is not None
    record_event(
        session, "digest_correct", actor=actor, target=f"digest:{issue.id}", note=note.strip()
    )
    if latest.status == "draft":
        latest.correction_note = note.strip()
        return latest
    if latest.id != issue.id:
        raise DigestError("already_corrected", issue=issue.id, latest=latest.id)
    draft = DigestIssue(
        kind=issue.kind,
        period_start=issue.period_start,
        period_end=issue.period_end,
        status="draft",
        number=issue.number,
        revision=issue.revision + 1,
        editor_note=issue.editor_note,
        correction_note=note.strip(),
        custom_order=issue.custom_order,
        created_by=actor,
    )
    session.add(draft)
    session.flush()
    for entry, _ in issue_entries(session, issue):
        session.add(
            DigestEntry(
                issue_id=draft.id,
                position=entry.position,
                story_id=entry.story_id,
                doc_id=entry.doc_id,
                title_override=entry.title_override,
                source_override=entry.source_override,
                body_override=entry.body_override,
                included=entry.included,
                manual=entry.manual,
            )
        )
    session.flush()
    return draft


def list_issues(session: Session) -> list[DigestIssue]:
    """Every issue revision, newest period first, then kind and revision (newest first)."""
    return list(
        session.scalars(
            select(DigestIssue).order_by(
                DigestIssue.period_start.desc(), DigestIssue.kind, DigestIssue.revision.desc()
            )
        )
    )
