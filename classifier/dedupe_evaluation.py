"""Dedupe quality on the real-world corpus: pairs of copies (reprints, edits, truncations)
made from real pages, scored for pair precision and recall (`hitwatch eval dedupe`)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from classifier.dedupe import (
    fingerprint,
    same_text,
)
from classifier.evaluation import DEFAULT_LABELS, Counts, load_labelled_items

__all__ = ["DedupeReport", "evaluate_dedupe", "format_dedupe_report"]


_THEPAPER = ("thepaper_2.html", "thepaper_4.html", "visiable_test_thepaper_1.html")


@dataclass
class DedupeReport:
    positives: int
    negatives: int
    counts: Counts
    by_variant: dict[str, tuple[int, int]]  # variant -> (detected, total)
    misses: list[str] = field(default_factory=list)


def _page_text(path: Path) -> str:
    import trafilatura

    extracted = trafilatura.extract(path.read_bytes(), include_comments=False)
    return extracted or ""


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def _variants(text: str, donor: str, rng: random.Random) -> dict[str, str]:
    """Reprints as sites make them: furniture, cuts, edits, reordering, width changes."""
    paragraphs = _paragraphs(text)
    donor_paragraphs = _paragraphs(donor) or [donor[:200]]
    dropped = list(paragraphs)
    if len(dropped) > 3:
        dropped.pop(rng.randrange(1, len(dropped) - 1))
    added = list(paragraphs)
    # An inserted paragraph (related reading, a quote) lands in the second half: one at
    # the very top would be an editor's note, a variant of its own.
    added.insert(rng.randrange(len(added) // 2, len(added) + 1), rng.choice(donor_paragraphs)[:150])
    swapped = list(paragraphs)
    if len(swapped) > 2:
        i = rng.randrange(0, len(swapped) - 1)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    width = text.translate(str.maketrans("0123456789,.:;()", "０１２３４５６７８９，。：；（）"))
    width = width.replace("，", ",", 3)
    return {
        "furniture": "来源：某某网 2024-07-12 10:31 分享到：微信 微博\n"
        + text
        + "\n责任编辑：王五 扫一扫在手机打开当前页 相关阅读 热点推荐",
        "editor_note": "【编者按】本文经授权转载，略有删节。\n" + text,
        "truncated": text[: len(text) * 3 // 4],
        "paragraph_dropped": "\n".join(dropped),
        "paragraph_added": "\n".join(added),
        "reordered": "\n".join(swapped),
        "punctuation_width": width,
    }


def evaluate_dedupe(corpus: Path, *, seed: int = 7) -> DedupeReport:
    """Pair precision/recall of the dedupe decision (LSH candidacy + verification)."""
    rng = random.Random(seed)
    shared = corpus.parent
    laws_dir = corpus / "policy" / "laws"
    laws = {p.name: p.read_text(encoding="utf-8") for p in sorted(laws_dir.glob("*.md"))}
    base_texts: list[tuple[str, str]] = [(name, text) for name, text in laws.items()]
    items, _ = load_labelled_items(DEFAULT_LABELS, shared)
    base_texts += [(i.id, i.body) for i in items if len(i.body) >= 400]
    counts = Counts()
    by_variant: dict[str, list[int]] = {}
    misses: list[str] = []

    def judge(name: str, a: str, b: str, expected: bool) -> None:
        decided = same_text(fingerprint(a), fingerprint(b))
        if expected:
            stats = by_variant.setdefault(name, [0, 0])
            stats[1] += 1
            if decided:
                stats[0] += 1
                counts.tp += 1
            else:
                counts.fn += 1
                misses.append(f"missed {name}")
        elif decided:
            counts.fp += 1
            misses.append(f"false merge {name}")

    pages = corpus / "pages" / "gne"
    captures = [_page_text(pages / name) for name in _THEPAPER if (pages / name).is_file()]
    for a, b in combinations(captures, 2):
        judge("thepaper_captures", a, b, True)
    for index, (_name, text) in enumerate(base_texts):
        donor = base_texts[(index + 1) % len(base_texts)][1]
        for variant, copy in _variants(text, donor, rng).items():
            judge(variant, text, copy, True)
    # Negatives: amended laws (same title, new version), different reports of one event,
    # the 163 articles among themselves, random pairs.
    by_title: dict[str, list[str]] = {}
    for name in laws:
        by_title.setdefault(name.rsplit("(", 1)[0], []).append(name)
    negatives = 0
    for versions in by_title.values():
        for a, b in combinations(versions, 2):
            judge(f"amended law {a} / {b}", laws[a], laws[b], False)
            negatives += 1
    bulletin = {i.id: i.body for i in items if i.id.startswith("bulletin-")}
    if {"bulletin-2", "bulletin-4"} <= bulletin.keys():
        judge("same event bulletin 2/4", bulletin["bulletin-2"], bulletin["bulletin-4"], False)
        negatives += 1
    netease = [_page_text(p) for p in sorted(pages.glob("163_*.html"))]
    # The three thepaper captures are one article: only the first joins the random pool.
    others = [
        _page_text(p)
        for p in sorted(pages.glob("*.html"))
        if not p.name.startswith("list_") and p.name not in _THEPAPER[1:]
    ]
    for a, b in combinations([t for t in netease if t], 2):
        judge("163 pages", a, b, False)
        negatives += 1
    pool = [t for _, t in base_texts] + [t for t in others if t]
    for _ in range(2000):
        first, second = rng.sample(range(len(pool)), 2)
        if pool[first] != pool[second]:
            judge("random pair", pool[first], pool[second], False)
            negatives += 1
    return DedupeReport(
        positives=counts.tp + counts.fn,
        negatives=negatives,
        counts=counts,
        by_variant={k: (v[0], v[1]) for k, v in by_variant.items()},
        misses=misses,
    )


def format_dedupe_report(report: DedupeReport) -> str:
    lines = [
        f"pairs: {report.positives} copies, {report.negatives} different texts",
        f"precision {report.counts.precision:.4f}   (target >= 0.995)",
        f"recall    {report.counts.recall:.4f}   (target >= 0.98)",
        "",
        f"{'variant':<22}{'found':>7}{'of':>6}",
    ]
    for name, (found, total) in sorted(report.by_variant.items()):
        lines.append(f"{name:<22}{found:>7}{total:>6}")
    if report.misses:
        tally = Counter(report.misses)
        lines += ["", "errors:", *(f"  {n} x {m}" for m, n in tally.most_common(15))]
    return "\n".join(lines)


# --- speed --------------------------------------------------------------------------
