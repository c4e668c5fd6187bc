"""Measure extraction against the real-world corpus (`../shared/corpus`), next to trafilatura.

Body quality is a character-level F1 (title + body where the gold text starts with the
headline, as in the cwced set): both texts become bags (multisets) of their
non-whitespace characters; precision = shared / extracted, recall = shared / gold, F1 their
harmonic mean, averaged over the pages of a set. Dates count when they fall on the same
calendar day (Beijing time) as the label; titles and policy fields count when equal after
normalising whitespace, bracket variants (〔〕 [] ［］ () （）) and date formats.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
import yaml

from classifier.extraction.blocks import element_paragraphs
from classifier.extraction.dates import BEIJING, parse_date
from classifier.extraction.page import Extraction, extract_page, trafilatura_document
from hitwatch.errors import ExtractionError
from hitwatch.sources import SourceDefinition

__all__ = [
    "EvalReport",
    "PageScore",
    "Score",
    "bench_extraction",
    "bench_pages",
    "char_f1",
    "char_scores",
    "evaluate_corpus",
    "format_report",
    "normalise_field",
]

_POLICY_FIELDS = (
    "doc_number",
    "issuer",
    "index_number",
    "topic",
    "written_date",
    "publish_date",
    "title",
)
_OPENING = str.maketrans({c: "〔" for c in "[［(（【"} | {c: "〕" for c in "]］)）】"})
_TITLE_SUFFIX = re.compile(r"[_|｜].*$")


@dataclass
class Score:
    """One cell pair of the report: our mean score and trafilatura's on the same pages."""

    dataset: str
    metric: str
    ours: float
    baseline: float | None
    count: int


@dataclass
class PageScore:
    """Body scores of one labelled page (precision and recall behind its F1)."""

    dataset: str
    page: str
    f1: float
    precision: float
    recall: float


@dataclass
class EvalReport:
    scores: list[Score] = field(default_factory=list)
    pages: list[PageScore] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pages_total: int = 0
    pages_complete: int = 0
    incomplete: list[str] = field(default_factory=list)

    def score(self, dataset: str, metric: str) -> Score:
        for score in self.scores:
            if score.dataset == dataset and score.metric == metric:
                return score
        raise KeyError(f"no score {dataset}/{metric}")


def char_scores(extracted: str, gold: str) -> tuple[float, float, float]:
    """(F1, precision, recall) of the bags of non-whitespace characters."""
    ours = Counter(c for c in extracted if not c.isspace())
    theirs = Counter(c for c in gold if not c.isspace())
    if not ours and not theirs:
        return 1.0, 1.0, 1.0
    shared = sum((ours & theirs).values())
    if not shared:
        return 0.0, 0.0, 0.0
    precision = shared / sum(ours.values())
    recall = shared / sum(theirs.values())
    return 2 * precision * recall / (precision + recall), precision, recall


def char_f1(extracted: str, gold: str) -> float:
    """Bag-of-characters F1 over non-whitespace characters (1.0 when both are empty)."""
    return char_scores(extracted, gold)[0]


def normalise_field(value: str) -> str:
    """Compare form of a label: NFKC-free bracket unification, no whitespace, dates ISO."""
    text = re.sub(r"[\s\u3000]+", "", value).translate(_OPENING)
    text = re.sub(r"\\+", "\\\\", text)
    moment = parse_date(text) if re.fullmatch(r"[\d年月日./-]+", text) else None
    return moment.strftime("%Y-%m-%d") if moment else text


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _html_text(path: Path) -> str:
    root = lxml.html.fromstring(path.read_text("utf-8"))
    return "\n".join(element_paragraphs(root))


class _Baseline:
    """trafilatura alone, given the raw bytes, as a reference point."""

    def __init__(self, raw: bytes) -> None:
        self.document = trafilatura_document(raw)

    @property
    def body(self) -> str:
        return (self.document.text or "") if self.document is not None else ""

    @property
    def date(self) -> str:
        return (self.document.date or "") if self.document is not None else ""

    @property
    def title(self) -> str:
        return (self.document.title or "") if self.document is not None else ""


def _same_day(found: str | None, gold: str) -> float:
    expected = parse_date(gold)
    got = parse_date(found) if found else None
    if expected is None:
        return 0.0
    return float(got is not None and got.astimezone(BEIJING).date() == expected.date())


# Sets whose gold text starts with the headline: their pages are scored as title + body.
_HEADLINE_IN_GOLD = frozenset({"cwced"})


def label_errata() -> dict[str, str]:
    """Corpus page (path under the corpus) -> why its gold body contradicts the spec."""
    path = Path(__file__).with_name("label_errata.yaml")
    return {str(k): str(v) for k, v in yaml.safe_load(path.read_text("utf-8")).items()}


def _labelled_pages(corpus: Path) -> Iterator[tuple[str, Path, str, str | None, str | None]]:
    """(set, page, gold body, gold date or None, gold title or None) for every labelled page."""
    pages = corpus / "pages"
    for html in sorted((pages / "cwced").glob("original_*.html")):
        key = html.stem.removeprefix("original_")
        date_file = pages / "cwced" / f"date_{key}.txt"
        date = date_file.read_text("utf-8").strip() if date_file.exists() else ""
        body = (pages / "cwced" / f"cleaned_{key}.txt").read_text("utf-8")
        yield "cwced", html, body, (date if date and date != "UNKNOWN" else None), None
    for html in sorted((pages / "netease").glob("RawHtml_*.html")):
        number = html.stem.removeprefix("RawHtml_")
        body = (pages / "netease" / f"Text_{number}.txt").read_bytes().decode("gb18030", "replace")
        yield "netease", html, body, None, None
    for html in sorted((pages / "readability").glob("*_source.html")):
        name = html.stem.removesuffix("_source")
        body = _html_text(pages / "readability" / f"{name}_expected.html")
        meta = json.loads(
            (pages / "readability" / f"{name}_expected-metadata.json").read_text("utf-8")
        )
        yield "readability", html, body, None, meta.get("title")


def _title_match(found: str, gold: str) -> float:
    """Readability's gold titles keep the <title> site suffix (_科技_腾讯网): compare without it."""
    want = _TITLE_SUFFIX.sub("", normalise_field(gold))
    return float(normalise_field(found) in {want, normalise_field(gold)})


def evaluate_corpus(
    corpus: Path, *, extract: Callable[..., Extraction] = extract_page
) -> EvalReport:
    """Score extraction on every labelled page and policy fragment under `corpus`."""
    report = EvalReport()
    body: dict[str, tuple[list[float], list[float]]] = {}
    errata = label_errata()
    clean: tuple[list[float], list[float]] = ([], [])
    dates: dict[str, tuple[list[float], list[float]]] = {}
    titles: dict[str, tuple[list[float], list[float]]] = {}
    for dataset, html, gold_body, gold_date, gold_title in _labelled_pages(corpus):
        raw = html.read_bytes()
        baseline = _Baseline(raw)
        try:
            result = extract(raw, "")
        except ExtractionError as exc:
            report.errors.append(f"{html.relative_to(corpus)}: {exc}")
            continue
        ours_text, theirs_text = result.body, baseline.body
        if dataset in _HEADLINE_IN_GOLD:
            ours_text = f"{result.title}\n{ours_text}"
            theirs_text = f"{baseline.title}\n{theirs_text}"
        ours_b, theirs_b = body.setdefault(dataset, ([], []))
        f1, precision, recall = char_scores(ours_text, gold_body)
        report.pages.append(
            PageScore(dataset, str(html.relative_to(corpus)), f1, precision, recall)
        )
        ours_b.append(f1)
        theirs_b.append(char_f1(theirs_text, gold_body))
        if str(html.relative_to(corpus)) not in errata:
            clean[0].append(ours_b[-1])
            clean[1].append(theirs_b[-1])
        if gold_date is not None:
            ours_d, theirs_d = dates.setdefault(dataset, ([], []))
            ours_d.append(
                _same_day(
                    result.published_at.isoformat() if result.published_at else None, gold_date
                )
            )
            theirs_d.append(_same_day(baseline.date, gold_date))
        if gold_title is not None:
            ours_t, theirs_t = titles.setdefault(dataset, ([], []))
            ours_t.append(_title_match(result.title, gold_title))
            theirs_t.append(_title_match(baseline.title, gold_title))
    for metric, table in (("body char-F1", body), ("date same-day", dates), ("title", titles)):
        for dataset, (ours, theirs) in table.items():
            report.scores.append(Score(dataset, metric, _mean(ours), _mean(theirs), len(ours)))
    all_body = [v for ours, _ in body.values() for v in ours]
    all_base = [v for _, theirs in body.values() for v in theirs]
    report.scores.append(
        Score("all labelled", "body char-F1", _mean(all_body), _mean(all_base), len(all_body))
    )
    report.scores.append(
        Score("w/o errata", "body char-F1", _mean(clean[0]), _mean(clean[1]), len(clean[0]))
    )
    _evaluate_policy(corpus, report, extract)
    _check_all_pages(corpus, report, extract)
    return report


def _evaluate_policy(corpus: Path, report: EvalReport, extract: Callable[..., Extraction]) -> None:
    path = corpus / "policy" / "govcn_2018_2019.jsonl"
    if not path.exists():
        return
    hits: dict[str, list[float]] = {name: [] for name in _POLICY_FIELDS}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        record = json.loads(line)
        fragment = record["html_fragment"]
        page = f"<html><head><meta charset='utf-8'></head><body>{fragment}</body></html>"
        try:
            result = extract(page.encode("utf-8"), record["url"])
        except ExtractionError as exc:
            report.errors.append(f"{path.name} line {number}: {exc}")
            continue
        policy = result.policy.model_dump() if result.policy else {}
        found = policy | {"title": result.title}
        for name in _POLICY_FIELDS:
            gold = record["office" if name == "issuer" else name]
            hits[name].append(float(normalise_field(found.get(name, "")) == normalise_field(gold)))
    for name, values in hits.items():
        report.scores.append(Score("govcn policy", name, _mean(values), None, len(values)))


def _all_pages(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "pages").rglob("*.html") if "_expected" not in p.name)


def _check_all_pages(corpus: Path, report: EvalReport, extract: Callable[..., Extraction]) -> None:
    for path in _all_pages(corpus):
        report.pages_total += 1
        try:
            result = extract(path.read_bytes(), "")
        except ExtractionError as exc:
            report.incomplete.append(f"{path.relative_to(corpus)}: {exc}")
            continue
        if result.title and result.body:
            report.pages_complete += 1
        else:
            report.incomplete.append(f"{path.relative_to(corpus)}: empty title or body")


def format_report(report: EvalReport, *, pages: bool = False) -> str:
    """The report as a plain-text table with the metric definitions above it; `pages` adds
    each labelled page's body scores, worst first within its set."""
    lines = [
        "Extraction vs gold labels; trafilatura alone on the same pages for comparison.",
        "body char-F1: F1 of the bags of non-whitespace characters, mean over pages.",
        "date same-day: published date on the labelled calendar day (UNKNOWN labels excluded).",
        "policy fields / title: exact match after normalising whitespace, brackets, dates.",
        "w/o errata: without the pages in label_errata.yaml (gold contradicts the spec):",
        *(f"  {page}: {reason}" for page, reason in label_errata().items()),
        "",
        f"{'set':<14} {'metric':<16} {'ours':>7} {'trafilatura':>12} {'pages':>6}",
    ]
    for s in report.scores:
        baseline = f"{s.baseline:.3f}" if s.baseline is not None else "-"
        lines.append(f"{s.dataset:<14} {s.metric:<16} {s.ours:>7.3f} {baseline:>12} {s.count:>6}")
    lines.append("")
    lines.append(
        f"pages with non-empty title and body: {report.pages_complete}/{report.pages_total}"
    )
    lines.extend(f"  incomplete: {item}" for item in report.incomplete)
    lines.extend(f"  error: {item}" for item in report.errors)
    if pages:
        lines += ["", f"{'page':<60} {'F1':>6} {'prec':>6} {'recall':>6}"]
        for p in sorted(report.pages, key=lambda p: (p.dataset, p.f1)):
            lines.append(f"{p.page:<60} {p.f1:>6.3f} {p.precision:>6.3f} {p.recall:>6.3f}")
    return "\n".join(lines)


def bench_extraction(
    paths: Iterable[Path], *, source: SourceDefinition | None = None, rounds: int = 3
) -> dict[str, float | int | dict[str, int]]:
    """Pages per second on one core for `paths`, extracted `rounds` times each.

    With `source` every page is extracted with that definition's rules (site method where
    the body selector matches); without it, the generic fallback only.
    """
    return bench_pages([("", "", path.read_bytes()) for path in paths], source, rounds=rounds)


def bench_pages(
    pages: Sequence[tuple[str, str, bytes]],
    source: SourceDefinition | Callable[[str], SourceDefinition | None] | None = None,
    *,
    rounds: int = 3,
) -> dict[str, float | int | dict[str, int]]:
    """Pages per second on one core for (url, content type, bytes) `pages`, with the
    source definition `source` (or the one `source(url)` gives; None: generic only)."""
    methods: Counter[str] = Counter()
    failures = 0
    started = time.process_time()
    for _ in range(rounds):
        for url, content_type, raw in pages:
            definition = source(url) if callable(source) else source
            try:
                extraction = extract_page(raw, url, content_type=content_type, source=definition)
            except ExtractionError:
                failures += 1
            else:
                methods[extraction.method] += 1
    elapsed = time.process_time() - started
    done = len(pages) * rounds
    return {
        "pages": done,
        "cpu_seconds": round(elapsed, 3),
        "pages_per_second": round(done / elapsed, 1) if elapsed else 0.0,
        "ms_per_page": round(elapsed * 1000 / done, 2) if done else 0.0,
        "failures": failures,
        "methods": dict(methods),
    }
