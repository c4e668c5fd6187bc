"""`hitwatch extract FILE [URL]` and `hitwatch eval extract`: extraction from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import click

from classifier.extraction.evaluation import evaluate_corpus, format_report
from classifier.extraction.page import extract_page
from hitwatch.errors import ExtractionError

__all__ = ["eval_extract_command", "extract_command"]

# The corpus sits beside the checkout (../shared/corpus) in development and CI.
DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@click.command("extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("url", required=False, default="")
@click.option("--content-type", default="", help="HTTP Content-Type the page was served with.")
def extract_command(file: Path, url: str, content_type: str) -> None:
    """Extract the article of a saved page FILE and print it as JSON.

    URL (where the page came from) selects the source definition's site rules and
    resolves relative links; without it only the generic extractor runs.
    """
    try:
        result = extract_page(file.read_bytes(), url, content_type=content_type)
    except ExtractionError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))


@click.command("extract")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CORPUS,
    show_default=True,
    help="The real-world corpus folder (pages/, policy/).",
)
def eval_extract_command(corpus: Path) -> None:
    """Score extraction on the real-world corpus, next to trafilatura alone."""
    if not (corpus / "pages").is_dir():
        raise click.ClickException(
            f"no corpus at {corpus}: pass --corpus PATH (the folder holding pages/ and policy/)"
        )
    click.echo(format_report(evaluate_corpus(corpus)))
