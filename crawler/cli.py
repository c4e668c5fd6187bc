"""Commands `hitwatch crawl`, `hitwatch sources` and `hitwatch mirror`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import unicodedata
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy.exc

from hitwatch.clock import SHANGHAI, ZONE_LABEL, beijing_time
from hitwatch.settings import Settings, load_settings
from hitwatch.sources import SourceDefinition, configured_sources
from hitwatch.store.db import open_database

__all__ = ["crawl_command", "mirror_command", "sources_command"]


def _select(settings: Settings, ids: tuple[str, ...], demo: bool) -> list[SourceDefinition]:
    sources = list(configured_sources(settings))
    known = {s.id: s for s in sources}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown source(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            param_hint="--source",
        )
    if ids:
        return [known[i] for i in ids]
    chosen = [s for s in sources if s.enabled and (s.demo or not demo)]
    if not chosen:
        raise click.UsageError("no enabled source definitions; add one in hitwatch/sources/")
    return chosen


def _pad(text: str, width: int) -> str:
    """Left-align `text` in `width` terminal columns (Chinese characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _progress_line(runs: list) -> str:  # type: ignore[type-arg]
    pages = sum(r.list_pages + r.articles_fetched for r in runs)
    sent = sum(r.items_sent for r in runs)
    errors = sum(r.errors for r in runs)
    return f"  crawling: {pages} pages fetched, {sent} items sent, {errors} errors"


@click.command("crawl")
@click.option(
    "--source",
    "source_ids",
    multiple=True,
    metavar="ID",
    help="Crawl only this source (repeatable).",
)
@click.option(
    "--demo/--live",
    "demo",
    default=None,
    help="Crawl the bundled mirror site or the real sites (default: CRAWL_MODE).",
)
@click.option(
    "--once", is_flag=True, help="Crawl once and exit (default: repeat at the sources' intervals)."
)
@click.option(
    "--recheck",
    is_flag=True,
    help="Fetch known articles again and re-send those whose content changed.",
)
@click.option(
    "--run-id", default="", help="Join a run shared with other crawler processes (same id on each)."
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="Fetch just this article page of the one --source (repeatable); implies --once.",
)
def crawl_command(
    source_ids: tuple[str, ...],
    demo: bool | None,
    once: bool,
    recheck: bool,
    run_id: str,
    urls: tuple[str, ...],
) -> None:
    """Crawl the configured sources and hand new articles to the classify queue."""
    settings = load_settings()
    demo = settings.crawl_mode == "demo" if demo is None else demo
    sources = _select(settings, source_ids, demo)
    if urls and len(source_ids) != 1:
        raise click.UsageError("--url needs exactly one --source (whose page it is)")
    if urls and not demo:
        # Said before the crawl starts; the crawler's fetch guard checks redirects too.
        from hitwatch.addresses import FetchGuard
        from hitwatch.errors import HitwatchError

        guard = FetchGuard.from_settings(settings)
        for url in urls:
            try:
                guard.check_url(url)
            except HitwatchError as exc:
                raise click.ClickException(str(exc)) from exc
    if not once and not urls:
        _repeat(settings, sources, demo, recheck)
        return
    from crawler.run import CrawlError, mirror_base, run_crawl

    where = f"the mirror at {mirror_base(settings)}" if demo else "the real sites"
    click.echo(f"crawling {len(sources)} source(s) from {where} ...")
    started = time.monotonic()
    try:
        runs = run_crawl(
            settings,
            sources,
            demo=demo,
            run_id=run_id,
            recheck=recheck,
            articles=urls,
            progress=lambda r: click.echo(_progress_line(r)),
        )
    except CrawlError as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlalchemy.exc.OperationalError as exc:
        raise click.ClickException(
            f"the database is not ready ({exc.orig}); run `hitwatch migrate` first"
        ) from exc
    names = {s.id: s.name for s in sources}
    columns = ("lists", "links", "fetched", "sent", "updated", "errors")
    click.echo(f"{'source':<14} {_pad('name', 16)}" + " ".join(f"{c:>7}" for c in columns))
    for r in runs:
        counts = (
            r.list_pages,
            r.links_found,
            r.articles_fetched,
            r.items_sent,
            r.items_updated,
            r.errors,
        )
        click.echo(
            f"{r.source_id:<14} {_pad(names[r.source_id], 16)}"
            + " ".join(f"{n:>7}" for n in counts)
        )
        for problem in r.problems:
            click.secho(f"    ! {problem}", fg="yellow")
        for problem in r.feed_problems:
            click.secho(f"    ! feed: {problem}", fg="red")
        if r.removed:
            click.echo(f"    {r.removed} article(s) removed by the publisher or blocked (not sent)")
    total = sum(r.items_sent for r in runs)
    errors = sum(r.errors for r in runs)
    removed = sum(r.removed for r in runs)
    elapsed = time.monotonic() - started
    note = f", {removed} removed by their publisher" if removed else ""
    click.echo(f"done in {elapsed:.1f}s: {total} items sent to classify, {errors} errors{note}")
    if errors:
        click.echo("failed pages are kept: `hitwatch failures list`")


def _repeat(settings: Settings, sources: list[SourceDefinition], demo: bool, recheck: bool) -> None:
    """Crawl again and again; each round is a child process (Twisted cannot restart)."""
    hitwatch = shutil.which("hitwatch", path=str(Path(sys.executable).parent)) or "hitwatch"
    interval = min(s.interval_minutes for s in sources) * 60
    args = [hitwatch, "crawl", "--once", "--demo" if demo else "--live"]
    args += [f"--source={s.id}" for s in sources] + (["--recheck"] if recheck else [])
    try:
        while True:
            subprocess.run(args, check=False)
            click.echo(f"next crawl in {interval // 60} min (Ctrl-C to stop)")
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("stopped.")


@click.command("sources")
def sources_command() -> None:
    """Show every source definition and its health after the latest crawls."""
    from crawler.health import list_health, upsert_sources

    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    try:
        upsert_sources(database, configured_sources(settings))
        rows = list_health(database)
    except sqlalchemy.exc.OperationalError as exc:
        raise click.ClickException(
            f"the database is not ready ({exc.orig}); run `hitwatch migrate` first"
        ) from exc
    finally:
        database.dispose()
    header = f"{'state':<7} {'last success':<17} {'items':>5} {'errors':>6}  note"
    click.echo(f"{'id':<14} {_pad('名称', 16)}{'kind':<11} {header}")
    for row in rows:
        success = beijing_time(row.last_success_at) or "never"
        name = _pad(row.name, 16)
        color = {"broken": "red", "ok": "green"}.get(row.state)
        state = click.style(f"{row.state:<7}", fg=color) if color else f"{row.state:<7}"
        counts = f"{row.last_items:>5} {row.last_errors:>6}"
        click.echo(
            f"{row.id:<14} {name}{row.kind:<11} {state} {success:<17} {counts}  {row.state_reason}"
        )
    click.echo(f"times are Beijing time ({ZONE_LABEL})")
    broken = sum(1 for row in rows if row.state == "broken")
    if broken:
        click.secho(
            f"{broken} source(s) broken: check their list selectors in hitwatch/sources/<id>.yaml"
            " (a 公众号: its bridge and the bridge's login)",
            fg="red",
        )


def _news_file(settings: Settings) -> Path:
    return settings.data_dir / "mirror-news.yaml"


@click.group("mirror", invoke_without_command=True)
@click.option("--port", type=int, help="Port (default MIRROR_PORT).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.pass_context
def mirror_command(ctx: click.Context, port: int | None, host: str) -> None:
    """Serve the bundled mirror of the watched sites (demo mode crawls it).

    `hitwatch mirror publish TITLE` adds a news article to the running mirror.
    """
    if ctx.invoked_subcommand is not None:
        return
    from waitress import serve

    from crawler.mirror.app import MirrorConfig, create_app

    settings = load_settings()
    port = port or settings.mirror_port
    click.echo(f"mirror site on http://{host}:{port}/ (e.g. /www.gov.cn/zhengce/zuixin/)")
    app = create_app(MirrorConfig(news_file=_news_file(settings)))
    serve(app, host=host, port=port, threads=8, _quiet=True)


@mirror_command.command("publish")
@click.argument("title")
@click.option(
    "--text", "paragraphs", multiple=True, help="A paragraph of the body (repeat for more)."
)
def mirror_publish_command(title: str, paragraphs: tuple[str, ...]) -> None:
    """Publish a made-up article on the demo mirror's 新京报 list (to see an alert fire):
    the next crawl (`hitwatch crawl --demo --once`, or the scheduler's) picks it up."""
    from crawler.mirror.content import publish_news

    settings = load_settings()
    body = list(paragraphs) or [title]
    article = publish_news(_news_file(settings), title, body, datetime.now(SHANGHAI))
    click.echo(
        f"published {article.url} on the demo mirror; crawl it with: hitwatch crawl --demo --once"
    )


@click.command("crawl")
@click.option("--pages", default=1000, show_default=True, help="Article pages on the bench list.")
def bench_crawl_command(pages: int) -> None:
    """Pages per second crawling a local mirror with throttling off (own embedded Redis)."""
    import socket
    import tempfile

    from crawler.bench import run_crawl_bench
    from hitwatch.embedded import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="hitwatch-bench-") as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        server = EmbeddedRedis(Path(folder), port)
        server.start()
        try:
            run_crawl_bench(load_settings(data_dir=Path(folder), redis_url=server.url), pages)
        finally:
            server.stop()
