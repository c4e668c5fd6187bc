"""`hitwatch extract FILE [URL]` and `hitwatch eval extract`: extraction from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CORPUS,
    show_default=True,
    help="Real-world corpus: its pages/ run through the generic fallback, its gov.cn "
    "policy fragments through the gov_cn site rules (skipped when absent).",
)
@click.option("--rounds", default=3, show_default=True, help="Times each page is extracted.")
@click.option("--pages", "count", default=300, show_default=True, help="Generated pages per set.")
def bench_extract_command(corpus: Path, rounds: int, count: int) -> None:
    """Extraction CPU time per page on one core: generated pages (the pipeline benchmark's
    synthetic ones, with and without matching site rules, and pages of real size), then
    the corpus's pages, site rules and generic fallback apart."""
    import random
    import tempfile

    from classifier.extraction.evaluation import bench_extraction, bench_pages
    from classifier.extraction.samples import BenchPage, generic_page, real_page, synthetic_page
    from hitwatch.sources import find_source, load_sources

    def generated(make: Callable[[int, random.Random], BenchPage]) -> list[tuple[str, str, bytes]]:
        rng = random.Random(7)
        return [(url, ctype, raw) for url, _, ctype, raw in (make(n, rng) for n in range(count))]

    rows = {
        "synthetic, chinanews markup (site)": bench_pages(
            generated(synthetic_page), find_source, rounds=rounds
        ),
        "synthetic, generic markup": bench_pages(generated(generic_page), rounds=rounds),
        "real-size pages (30-120 KB)": bench_pages(
            generated(real_page), find_source, rounds=rounds
        ),
    }
    if (corpus / "pages").is_dir():
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
            rows["site rules (gov.cn policy pages)"] = bench_extraction(
                fragments, source=gov_cn, rounds=rounds
            )
            rows["generic fallback (same pages)"] = bench_extraction(fragments, rounds=rounds)
            rows["generic fallback (corpus/pages)"] = bench_extraction(pages, rounds=rounds)
    else:
        click.echo(f"corpus: not measured (no corpus at {corpus})")
    click.echo(
        f"{'set':<36}{'pages':>7}{'cpu s':>8}{'pages/s':>9}{'ms/page':>9}{'failed':>8}  methods"
    )
    for name, row in rows.items():
        methods = ", ".join(f"{k} {v}" for k, v in sorted(row["methods"].items()))  # type: ignore[union-attr]
        click.echo(
            f"{name:<36}{row['pages']:>7}{row['cpu_seconds']:>8}{row['pages_per_second']:>9}"
            f"{row['ms_per_page']:>9}{row['failures']:>8}  {methods}"
        )
