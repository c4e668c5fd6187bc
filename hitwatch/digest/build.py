"""What goes into a digest: the relevant stories of a period, one item each.

A story is one text and its copies; the digest shows its canonical copy (title, outlet,
link, full text). Periods are Asia/Shanghai calendar days, inclusive at both ends, because
that is how the bulletin writes them (时间从 …1日至 …31日).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hitwatch.digest.errors import PeriodError
from hitwatch.policies import national_implementations
from hitwatch.settings import Settings
from hitwatch.store.models import Article, Story

__all__ = [
    "IMPLEMENTATIONS",
    "SHANGHAI",
    "Digest",
    "DigestItem",
    "DigestKind",
    "Section",
    "day_bounds",
    "digest_from_settings",
    "item_from_article",
    "local_date",
    "month_period",
    "order_items",
    "parse_sections",
    "period_word",
    "section_rank",
    "select_items",
    "week_period",
]

# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tzdata.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

DigestKind = Literal["monthly", "weekly", "custom"]


@dataclass(frozen=True)
class DigestItem:
    """One story as the digest shows it (its canonical copy, or the editor's version)."""

    title: str
    source_name: str
    url: str
    published_at: datetime
    paragraphs: tuple[str, ...]
    doc_type: str = ""
    topics: tuple[str, ...] = ()
    story_id: str = ""
    doc_id: str = ""
    section: str = ""
    implements: str = ""  # the national policy it implements (hitwatch.policies), if any

    @property
    def local_date(self) -> date:
        return local_date(self.published_at)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe copy, frozen with a published issue."""
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DigestItem:
        fields = dict(data)
        fields["published_at"] = datetime.fromisoformat(fields["published_at"])
        for name in ("paragraphs", "topics"):
            fields[name] = tuple(fields.get(name) or ())
        return cls(**fields)


# In DIGEST_SECTIONS, the "type" of a local document implementing a national policy: a
# section listing it gathers the period's implementations before types are considered.
IMPLEMENTATIONS = "国家政策落实"


@dataclass(frozen=True)
class Section:
    """A digest section: the items whose document type is listed (`*` takes the rest)."""

    name: str
    doc_types: tuple[str, ...]

    @property
    def catch_all(self) -> bool:
        return "*" in self.doc_types


@dataclass(frozen=True)
class Digest:
    """One issue, ready to render. `number` is None until the issue is published."""

    start: date
    end: date
    items: tuple[DigestItem, ...]
    period_word: str
    publisher: str = ""
    number: int | None = None
    revision: int = 1
    topic_scope: str = "卫生信息化相关信息"
    monitoring_scope: str = "全国主流媒体及政府网站等"
    editor_note: str = ""
    correction_note: str = ""
    published_at: datetime | None = None
    draft: bool = False
    sections: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        """The issue's name in lists, feeds and e-mail subjects."""
        head = f"{self.publisher}{self.period_word}" if self.publisher else self.period_word
        number = f" 第{self.number}期" if self.number is not None else ""
        return f"{head}{number}（{self.start.isoformat()} 至 {self.end.isoformat()}）"


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware (or UTC-naive) instant."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).date()


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Inclusive Shanghai days -> the [from, until) instants they cover."""
    return (
        datetime.combine(start, time(), SHANGHAI),
        datetime.combine(end + timedelta(days=1), time(), SHANGHAI),
    )


def month_period(text: str) -> tuple[date, date]:
    """`2024-07` -> (2024-07-01, 2024-07-31); PeriodError (a ValueError) saying the form."""
    try:
        first = datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise PeriodError("bad_month", text=text) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def week_period(text: str) -> tuple[date, date]:
    """ISO week `2024-W27` -> its Monday and Sunday."""
    try:
        monday = datetime.strptime(text.strip() + "-1", "%G-W%V-%u").date()
    except ValueError:
        raise PeriodError("bad_week", text=text) from None
    return monday, monday + timedelta(days=6)


def period_word(kind: DigestKind, settings: Settings) -> str:
    """What an issue calls itself: 月报, 周报 or 专报 (custom ranges), all settings."""
    words = {
        "monthly": settings.digest_monthly_word,
        "weekly": settings.digest_weekly_word,
        "custom": settings.digest_custom_word,
    }
    return words[kind]


def parse_sections(text: str) -> tuple[Section, ...]:
    """`政策动态=政策文件,政策解读;行业动态=*` -> sections in that order; empty -> none."""
    sections = []
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, types = part.partition("=")
        doc_types = tuple(t.strip() for t in types.split(",") if t.strip())
        if not sep or not name.strip() or not doc_types:
            raise ValueError(
                f"digest section {part!r} must look like 名称=类型1,类型2 (or 名称=* for the rest)"
            )
        sections.append(Section(name.strip(), doc_types))
    return tuple(sections)


def section_rank(doc_type: str, implements: bool, sections: Sequence[Section]) -> int:
    """The position of the section an item belongs to; len(sections) when none takes it."""
    for number, section in enumerate(sections):
        if implements and IMPLEMENTATIONS in section.doc_types:
            return number
    for number, section in enumerate(sections):
        if doc_type in section.doc_types:
            return number
    return next((n for n, s in enumerate(sections) if s.catch_all), len(sections))


def _section_of(item: DigestItem, sections: Sequence[Section]) -> str | None:
    rank = section_rank(item.doc_type, bool(item.implements), sections)
    return sections[rank].name if rank < len(sections) else None


def order_items(
    items: Sequence[DigestItem],
    sections: Sequence[Section] | None = None,
    *,
    by_date: bool = True,
) -> list[DigestItem]:
    """Items by publication date ascending (or as given); with sections, grouped first.

    An item whose type no section lists (and with no `*` section) is left out: the
    operator chose to publish only those sections.
    """
    ordered = sorted(items, key=lambda i: (i.published_at, i.title)) if by_date else list(items)
    if not sections:
        return ordered
    grouped = []
    for section in sections:
        for item in ordered:
            if _section_of(item, sections) == section.name:
                grouped.append(replace(item, section=section.name))
    return grouped


def item_from_article(article: Article, published_at: datetime, implements: str = "") -> DigestItem:
    topics = tuple(
        str(topic.get("name") or topic.get("code"))
        for topic in sorted(article.topics or [], key=lambda t: -float(t.get("score", 0)))
        if isinstance(topic, dict)
    )
    return DigestItem(
        title=article.title.strip(),
        source_name=article.source_name,
        url=article.canonical_url or article.url,
        published_at=published_at,
        paragraphs=tuple(line.strip() for line in article.body.splitlines() if line.strip()),
        doc_type=article.doc_type,
        topics=topics,
        story_id=article.story_id,
        doc_id=article.id,
        implements=implements,
    )


def select_items(
    session: Session, start: date, end: date, *, sections: Sequence[Section] | None = None
) -> list[DigestItem]:
    """One item per relevant story whose canonical copy was published in [start, end]."""
    since, until = day_bounds(start, end)
    published = Article.published_at
    articles = session.scalars(
        select(Article)
        .join(Story, Story.canonical_doc_id == Article.id)
        .where(Story.relevant.is_(True))
        .where(published.is_not(None), published >= since, published < until)
    ).all()
    implementing = national_implementations(session, [a.id for a in articles])
    items = [
        item_from_article(a, a.published_at, implementing.get(a.id, ""))
        for a in articles
        if a.published_at
    ]
    return order_items(items, sections)


def digest_from_settings(
    settings: Settings,
    start: date,
    end: date,
    items: Sequence[DigestItem],
    *,
    kind: DigestKind = "monthly",
    number: int | None = None,
    revision: int = 1,
    editor_note: str = "",
    correction_note: str = "",
    published_at: datetime | None = None,
    draft: bool = False,
) -> Digest:
    """A Digest whose wording (publisher, 周报/月报, scope) comes from the settings."""
    sections = tuple(section.name for section in parse_sections(settings.digest_sections))
    return Digest(
        start=start,
        end=end,
        items=tuple(items),
        period_word=period_word(kind, settings),
        publisher=settings.digest_publisher,
        topic_scope=settings.digest_topic_scope,
        monitoring_scope=settings.digest_monitoring_scope,
        sections=sections,
        number=number,
        revision=revision,
        editor_note=editor_note,
        correction_note=correction_note,
        published_at=published_at,
        draft=draft,
    )
