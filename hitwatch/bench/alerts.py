"""`hitwatch bench alerts`: how fast new documents are matched against many alert rules.

Rules are drawn from the words of the seed pages (as `bench search` draws its documents)
in a mix of shapes people write: one word, two words, alternatives, a word with a
filter, a word with an exclusion, a quoted phrase. Documents are `bench search`'s
synthetic articles (~1,500 characters). Figures are CPU seconds of this process
(`time.process_time`), so other load on the machine does not count.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import click

from hitwatch.bench.search import SEEDS, synthetic_documents, vocabulary
from hitwatch.search.matching import CompiledRule, RuleMatcher, compile_rule
from hitwatch.search.memory import evaluate, tokenize_document

__all__ = ["bench_command", "random_rules", "run_alerts_bench"]

NAIVE_SAMPLE = 10


def random_rules(words: list[str], count: int, seed: int = 11) -> list[str]:
    """`count` rule queries of the usual shapes, words picked uniformly from `words`."""
    rng = random.Random(seed)
    shapes: list[Callable[[], str]] = [
        lambda: rng.choice(words),
        lambda: rng.choice(words),
        lambda: f"{rng.choice(words)} {rng.choice(words)}",
        lambda: " | ".join(rng.sample(words, 3)),
        lambda: f"{rng.choice(words)} source:source-{rng.randrange(12)}",
        lambda: f"{rng.choice(words)} -{rng.choice(words)}",
        lambda: f'"{rng.choice(words)}{rng.choice(words)}"',
        lambda: f"({rng.choice(words)} | {rng.choice(words)}) {rng.choice(words)}",
    ]
    return [rng.choice(shapes)() for _ in range(count)]


def run_alerts_bench(
    rules: int, docs: int, *, echo: Callable[[str], None] = print
) -> dict[str, Any]:
    if not any(SEEDS.glob("*.txt")):
        reason = f"no seed pages in {SEEDS}: the word list comes from them"
        echo(f"alerts bench skipped: {reason}")
        return {"skipped": reason}
    counts = vocabulary()
    words = sorted(word for word in counts if len(word) >= 2)
    documents = synthetic_documents(counts, docs)
    queries = random_rules(words, rules)

    began = time.process_time()
    compiled = [compile_rule(n, text) for n, text in enumerate(queries)]
    matcher = RuleMatcher(compiled)
    compile_seconds = time.process_time() - began

    began = time.process_time()
    matched = sum(len(matcher.match(document)) for document in documents)
    match_seconds = time.process_time() - began

    naive_docs = documents[:NAIVE_SAMPLE]
    began = time.process_time()
    naive_matched = _naive(compiled, naive_docs)
    naive_seconds = time.process_time() - began
    sample_matched = sum(len(matcher.match(document)) for document in naive_docs)
    if naive_matched != sample_matched:
        raise click.ClickException(
            f"matcher disagrees with the in-memory evaluator: {sample_matched} != {naive_matched}"
        )
    result = {
        "rules": rules,
        "docs": docs,
        "compile_seconds": compile_seconds,
        "match_seconds": match_seconds,
        "docs_per_second": docs / match_seconds,
        "matches": matched,
        "matches_per_second": matched / match_seconds,
        "rule_checks_per_second": rules * docs / match_seconds,
        "naive_docs_per_second": len(naive_docs) / naive_seconds,
    }
    echo(f"alert rules: {rules:,}  documents: {docs:,} (~1,500 characters)  CPU time")
    echo(f"  parse + index rules      {compile_seconds:8.2f} s")
    echo(f"  match                    {match_seconds:8.2f} s")
    echo(f"  documents per second     {result['docs_per_second']:10,.1f}")
    echo(f"  rule matches             {matched:10,}  ({matched / docs:.1f} per document)")
    echo(f"  rules matched per second {result['matches_per_second']:10,.0f}")
    echo(f"  rule x document checks/s {result['rule_checks_per_second']:10,.0f}")
    echo(
        f"  every rule evaluated on every document (memory.evaluate, {len(naive_docs)} docs): "
        f"{result['naive_docs_per_second']:.2f} documents per second"
    )
    return result


def _naive(rules: list[CompiledRule], documents: list[Any]) -> int:
    total = 0
    for document in documents:
        tokenized = tokenize_document(document)
        total += sum(1 for rule in rules if evaluate(rule.query, tokenized) is not None)
    return total


@click.command("alerts")
@click.option("--rules", default=10_000, show_default=True, help="Alert rules to match against.")
@click.option("--docs", default=1_000, show_default=True, help="New documents to match.")
def bench_command(rules: int, docs: int) -> None:
    """Alert matching speed: documents per second and rule matches per second for N rules."""
    run_alerts_bench(rules, docs, echo=click.echo)
