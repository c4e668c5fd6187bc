"""`hitwatch bench` and `hitwatch eval`: speed, memory and quality figures, printed as tables."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import click

from hitwatch.cli import LazyGroup
from hitwatch.settings import load_settings

__all__ = ["bench_group", "eval_group"]

# Benchmarks and evaluations that live with the service they measure.
SERVICE_BENCHMARKS: dict[str, str] = {
    "alerts": "hitwatch.bench.alerts:bench_command",
    "classify": "classifier.cli:bench_classify_command",
    "crawl": "crawler.cli:bench_crawl_command",
    "extract": "classifier.extraction.cli:bench_extract_command",
    "digest": "hitwatch.bench.digest:bench_command",
    "search": "hitwatch.bench.search:bench_command",
    "soak": "hitwatch.bench.soak:soak_command",
}
# The faults `hitwatch bench faults` injects by itself (hitwatch.bench.faults.FAULTS).
_FAULT_NAMES = (
    "kill-workers",
    "kill-classify",
    "kill-index",
    "kill-notify",
    "redis-restart",
    "embedded-redis-restart",
    "store-unwritable",
    "disk-full",
    "smtp-down",
    "poison",
)
EVALUATIONS: dict[str, str] = {
    "classify": "classifier.cli:eval_classify_command",
    "dedupe": "classifier.cli:eval_dedupe_command",
    "extract": "classifier.extraction.cli:eval_extract_command",
    "links": "classifier.link_evaluation:eval_links_command",
}


@click.group("bench", cls=LazyGroup, lazy=SERVICE_BENCHMARKS, lazy_help={})
def bench_group() -> None:
    """Speed and memory figures: pipeline, crawl, classify, search, digest, alerts."""


@click.group("eval", cls=LazyGroup, lazy=EVALUATIONS, lazy_help={})
def eval_group() -> None:
    """Quality figures on labelled data: extraction, classification, dedupe, policy links."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@bench_group.command("pipeline")
@click.option("--docs", default=1000, show_default=True, help="Pages to push through.")
@click.option(
    "--backend",
    type=click.Choice(["fts5", "elasticsearch", "both"]),
    default="both",
    show_default=True,
    help="Search index to measure; Elasticsearch needs ELASTICSEARCH_URL.",
)
@click.option(
    "--pages",
    type=click.Choice(["synthetic", "real", "both"]),
    default="synthetic",
    show_default=True,
    help="synthetic: small 中新网 articles; real: 30-120 KB pages with navigation, sidebars,"
    " scripts, attachment links, some GBK.",
)
@click.option(
    "--alerts", default=20, show_default=True, help="Light-load pages timed to their alert mail."
)
def pipeline_command(docs: int, backend: str, pages: str, alerts: int) -> None:
    """Documents per second through classify -> index -> notify (workers' start-up
    excluded), CPU ms per document of each stage, batch sizes, peak memory, and the
    "indexed -> alert mail handed to SMTP" latency at light load.

    Runs on its own embedded Redis and SQLite store in a temporary folder.
    """
    from hitwatch.bench.pipeline import bench_settings, run_pipeline_bench
    from hitwatch.embedded import EmbeddedRedis

    es_url = load_settings().elasticsearch_url
    backends = ["fts5", "elasticsearch"] if backend == "both" else [backend]
    if "elasticsearch" in backends and not es_url:
        if backend == "elasticsearch":
            raise click.UsageError("set ELASTICSEARCH_URL to benchmark Elasticsearch")
        click.echo("Elasticsearch: not measured (ELASTICSEARCH_URL is empty)")
        backends.remove("elasticsearch")
    kinds = ["synthetic", "real"] if pages == "both" else [pages]
    results = []
    for name in backends:
        for kind in kinds:
            with tempfile.TemporaryDirectory(prefix="hitwatch-bench-") as folder:
                workdir = Path(folder)
                server = EmbeddedRedis(workdir, _free_port())
                server.start()
                try:
                    settings = bench_settings(
                        workdir, server.url, es_url if name == "elasticsearch" else ""
                    )
                    results.append(
                        run_pipeline_bench(
                            settings,
                            docs,
                            pages=kind,
                            redis_pid=server.process.pid if server.process else None,
                            alerts=alerts,
                            echo=click.echo,
                        )
                    )
                finally:
                    server.stop()
    click.echo(
        f"\n{'backend':<14}{'pages':<11}{'docs':>6}{'seconds':>9}{'docs/s':>8}{'failed':>8}"
        f"{'peak RSS MB':>13}"
    )
    for r in results:
        click.echo(
            f"{r.backend:<14}{r.pages:<11}{r.documents:>6}{r.seconds:>9.1f}{r.per_second:>8.1f}"
            f"{r.failures:>8}{r.peak_rss_mb:>13.0f}"
        )
    click.echo(
        f"\nCPU ms per document{'':<7}{'classify':>9}{'index':>7}{'notify':>7}{'redis':>7}"
        f"{'extract':>9}{'share':>7}"
    )
    for r in results:
        cpu = r.cpu_ms
        click.echo(
            f"{r.backend + ', ' + r.pages:<26}{cpu['classify']:>9.2f}{cpu['index']:>7.2f}"
            f"{cpu['notify']:>7.2f}{cpu.get('redis', 0.0):>7.2f}{r.extraction_ms:>9.2f}"
            f"{r.extraction_share:>7.0%}"
        )
    click.echo("\nbatches (count / mean size / largest)")
    for r in results:
        seen = "   ".join(
            f"{stage} {count} / {mean:.1f} / {largest}"
            for stage, (count, mean, largest) in r.batches.items()
        )
        click.echo(f"{r.backend + ', ' + r.pages:<26}{seen}")
    click.echo("\nindexed -> alert mail handed to SMTP, light load (one page at a time)")
    for r in results:
        p50, p95 = r.alert_p(0.5), r.alert_p(0.95)
        figures = (
            f"p50 {p50:.2f} s, p95 {p95:.2f} s over {len(r.alert_latency)} mails"
            if p50 is not None and p95 is not None
            else "not measured"
        )
        click.echo(f"{r.backend + ', ' + r.pages:<26}{figures}")
    click.echo(
        "(one worker process per stage; the clock starts when the pages are queued, after"
        " the workers' start-up; CPU ms: the workers' and Redis's own time per document;"
        " extract: extraction alone per page, share: of the classify stage's CPU)"
    )


@bench_group.command("faults")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    type=click.Choice(["all", *sorted(_FAULT_NAMES)]),
    default=["all"],
    show_default=True,
    help="Fault to inject at about 30 % (repeat for several).",
)
@click.option("--items", default=300, show_default=True, help="Synthetic pages per run.")
def faults_command(faults: tuple[str, ...], items: int) -> None:
    """Nothing lost under faults: pages through the real queues and workers with a fault
    injected, then the accounting line (handed over / indexed / failures / lost /
    duplicates / alerts sent / twice).

    Runs on its own embedded Redis, SQLite store, FTS5 index and SMTP server in a
    temporary folder; `disk-full` needs root (it mounts a small tmpfs).
    """
    from aiosmtpd.controller import Controller

    from hitwatch.bench.faults import FaultStack, HarnessError, make_fault, mount_tmpfs, run_fault
    from hitwatch.bench.inbox import Inbox
    from hitwatch.embedded import EmbeddedRedis

    single_kills = {"kill-classify", "kill-index", "kill-notify"}  # kill-workers does all three
    everything = [name for name in _FAULT_NAMES if name not in single_kills]
    names = everything if "all" in faults else list(dict.fromkeys(faults))
    results = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="hitwatch-faults-") as folder:
            workdir = Path(folder)
            unmount = None
            if name == "disk-full":
                try:
                    unmount = mount_tmpfs(workdir / "data", 24)
                except HarnessError as error:
                    click.echo(f"[disk-full] not run: {error}")
                    continue
            inbox = Inbox()
            smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
            smtp.start()
            broker = EmbeddedRedis(workdir / "broker", _free_port())
            broker.start()
            stack = FaultStack(workdir, broker, inbox, smtp.port, echo=click.echo)
            try:
                results.append(run_fault(stack, make_fault(name), items))
            finally:
                broker.stop()
                smtp.stop()
                if unmount is not None:
                    unmount()
        click.echo(results[-1].line())
    click.echo("")
    for result in results:
        click.echo(("ok    " if result.holds else "BROKEN") + " " + result.line())
    if not all(r.holds for r in results):
        raise SystemExit(1)
