"""`hitwatch reindex`: rebuild the search index from the store of record, without downtime.

The new index is filled beside the live one (`SearchIndex.rebuild`: Elasticsearch's next
`<alias>-vN`, FTS5's `documents_next` tables) while searches keep using the live one,
then put in its place in one step. Workers keep indexing meanwhile, into the live index;
so that nothing they write is lost, every article the store changed since the rebuild
began (its `updated_at`, with a margin for clocks of other machines) is copied again:
once into the new index before the swap, and once through the live index after it, for
what a worker wrote into the old index between those two moments. A worker stores an
article before it indexes it, so anything written to the old index after the second
copy began is written after the swap, into the new one. Copies are upserts by doc_id:
copying an article twice is harmless, and an interrupted reindex leaves the live index
as it was and its unfinished build is discarded by the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select, tuple_

from hitwatch.policies import policy_views
from hitwatch.search import SearchDocument, SearchIndex, article_document, open_search_index
from hitwatch.settings import load_settings
from hitwatch.store import Database, open_database
from hitwatch.store.models import Article, utcnow

__all__ = ["ReindexReport", "reindex", "reindex_command"]

BATCH = 500
# Articles changed this long before the rebuild began are copied again too: a worker on
# another machine stamps `updated_at` with its own clock.
CLOCK_MARGIN = timedelta(minutes=5)

Progress = Callable[[int, int], None]  # (copied so far, total)


def _quiet(_done: int, _total: int) -> None:
    pass


@dataclass
class ReindexReport:
    copied: int = 0  # the full copy
    caught_up: int = 0  # changed during the copy, copied again before the swap
    after_swap: int = 0  # changed since the rebuild began, copied again after the swap
    seconds: float = 0.0


def _batches(
    database: Database, batch: int, changed_since: datetime | None = None
) -> Iterator[list[SearchDocument]]:
    """Stored articles as search documents, oldest indexed first (FTS5 ranks the most
    recently indexed first, as the live index had them), a batch per session."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(Article).order_by(Article.indexed_at, Article.id).limit(batch)
        if changed_since is not None:
            query = query.where(Article.updated_at >= changed_since)
        if after is not None:
            query = query.where(tuple_(Article.indexed_at, Article.id) > after)
        with database.session() as session:
            articles = session.scalars(query).all()
            # Status and links are the store's too: `status:` and `implements:` survive.
            views = policy_views(session, [article.id for article in articles])
            documents = [
                article_document(article, views[article.id].status, views[article.id].links)
                for article in articles
            ]
            if articles:
                after = (articles[-1].indexed_at, articles[-1].id)
        if not documents:
            return
        yield documents
        if len(documents) < batch:
            return


def _copy(
    database: Database,
    write: Callable[[Sequence[SearchDocument]], None],
    batch: int,
    changed_since: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    copied = 0
    for documents in _batches(database, batch, changed_since):
        write(documents)
        copied += len(documents)
        if progress is not None:
            progress(copied)
    return copied


def reindex(
    database: Database,
    search: SearchIndex,
    *,
    batch: int = BATCH,
    progress: Progress = _quiet,
    clock_margin: timedelta = CLOCK_MARGIN,
) -> ReindexReport:
    """Rebuild `search` from the store and swap it in; see the module's docstring."""
    started = time.monotonic()
    search.ensure()
    began = utcnow() - clock_margin
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Article)) or 0
    report = ReindexReport()
    build = search.rebuild()
    try:
        report.copied = _copy(
            database, build.write, batch, progress=lambda done: progress(done, total)
        )
        report.caught_up = _copy(database, build.write, batch, changed_since=began)
        build.swap()
    except BaseException:
        build.abandon()
        raise
    report.after_swap = _copy(database, search.index, batch, changed_since=began)
    search.refresh()
    report.seconds = time.monotonic() - started
    return report


@click.command("reindex")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=BATCH,
    show_default=True,
    help="Articles per bulk write.",
)
def reindex_command(batch: int) -> None:
    """Rebuild the search index from the store of record and swap it in without downtime."""
    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    search = open_search_index(settings)
    backend = "Elasticsearch" if settings.elasticsearch_url else "SQLite FTS5"
    with click.progressbar(length=1, label=f"reindex ({backend})") as bar:

        def report(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        result = reindex(database, search, batch=batch, progress=report)
    search.close()
    click.echo(
        f"reindexed {result.copied} articles in {result.seconds:.1f}s and swapped the new index"
        f" in; copied again for writes during the rebuild: {result.caught_up} before the swap,"
        f" {result.after_swap} after it"
    )
