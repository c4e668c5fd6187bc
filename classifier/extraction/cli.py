"""`hitwatch extract FILE [URL]` and `hitwatch eval extract`: extraction from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import click

from classifier.extraction.evaluation import evaluate_corpus, format_report
from classifier.extraction.page import extract_page
from hitwatch.errors import ArticleRemovedError, ExtractionError

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
    except (ExtractionError, ArticleRemovedError) as exc:
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
@click.option("--pages", is_flag=True, help="Also list each labelled page's body scores.")
def eval_extract_command(corpus: Path, pages: bool) -> None:
    """Score extraction on the real-world corpus, next to trafilatura alone."""
    if not (corpus / "pages").is_dir():
        raise click.ClickException(
            f"no corpus at {corpus}: pass --corpus PATH (the folder holding pages/ and policy/)"
        )
    click.echo(format_report(evaluate_corpus(corpus), pages=pages))


@click.command("extract")
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared/corpus"),
    show_default=True,
    help="Real-world corpus: its pages/ run through the generic fallback, its gov.cn "
    "policy fragments through the gov_cn site rules.",
)
@click.option("--rounds", default=3, show_default=True, help="Times each page is extracted.")
def bench_extract_command(corpus: Path, rounds: int) -> None:
    """Extraction pages per second on one core: site rules and generic fallback apart."""
    import tempfile

    from classifier.extraction.evaluation import bench_extraction
    from hitwatch.sources import load_sources

    # *_expected.html files are gold labels (readability set), not pages.
    pages = sorted(p for p in (corpus / "pages").rglob("*.html") if "_expected" not in p.name)
    gov_cn = next(source for source in load_sources() if source.id == "gov_cn")
    with tempfile.TemporaryDirectory() as folder:
        fragments = []
        lines = (corpus / "policy" / "govcn_2018_2019.jsonl").read_text("utf-8").splitlines()
        for n, line in enumerate(lines):
            path = Path(folder) / f"policy_{n}.html"
            path.write_text(json.loads(line)["html_fragment"], "utf-8")
            fragments.append(path)
        rows = {
            "site rules (gov.cn policy pages)": bench_extraction(
                fragments, source=gov_cn, rounds=rounds
            ),
            "generic fallback (same pages)": bench_extraction(fragments, rounds=rounds),
            "generic fallback (corpus/pages)": bench_extraction(pages, rounds=rounds),
        }
    click.echo(f"{'set':<36}{'pages':>7}{'cpu s':>8}{'pages/s':>9}{'failed':>8}")
    for name, row in rows.items():
        click.echo(
            f"{name:<36}{row['pages']:>7}{row['cpu_seconds']:>8}{row['pages_per_second']:>9}"
            f"{row['failures']:>8}"
        )
