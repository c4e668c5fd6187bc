"""The labelled link set: its size and split, and the figures it must reach."""

from __future__ import annotations

from collections import Counter

from classifier.link_evaluation import (
    evaluate_links,
    load_link_facts,
    load_link_split,
)


def test_the_set_is_large_enough_and_split_once_into_two_parts() -> None:
    facts = load_link_facts()
    split = load_link_split()
    assert sum(len(f.links) for f in facts) >= 60
    assert set(split) == {f.id for f in facts}
    kinds = Counter((split[f.id], kind) for f in facts for _target, kind in f.links)
    for kind in ("implements", "interprets", "names"):
        assert kinds[("test", kind)] and kinds[("tune", kind)]


def test_precision_and_recall_reach_the_targets_on_the_test_part() -> None:
    scores = evaluate_links(load_link_facts(), load_link_split())
    assert scores["test"].precision >= 0.97, scores["test"].wrong
    assert scores["test"].recall >= 0.85, scores["test"].missed


def test_the_arrival_order_does_not_change_the_links() -> None:
    facts, split = load_link_facts(), load_link_split()
    first = evaluate_links(facts, split, order_seed=1)
    second = evaluate_links(facts, split, order_seed=2)
    assert (first["test"].correct, first["test"].found) == (
        second["test"].correct,
        second["test"].found,
    )
