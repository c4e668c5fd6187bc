"""Quality of classification, measured on labelled data (dedupe: `dedupe_evaluation`,
speed: `bench`).

Labels live in `classifier/labels/`: `written.jsonl` holds short texts written for the
project (categories the corpus lacks); `corpus.jsonl` points into the real-world corpus
and seeds (path + line/index + sha256) without copying them; `notices.yaml` holds the
public facts of government notices, built into their forms by `classifier.notices`. An
item whose source is absent or changed (checksum) is skipped and counted.

`split.json` puts every labelled group (a document and all its forms) once into the
tuning part or the test part, stratified by source and document type with a fixed seed;
rules and the learned model are tuned on the tuning part only, and the test part is
reported first.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import lxml.html

from classifier.classify import Classification, Classifier
from classifier.linear import RelevanceModel, model_text, train_relevance
from classifier.notices import load_notices, notice_forms
from classifier.taxonomy import load_taxonomy
from hitwatch.messages import PolicyMeta

__all__ = [
    "DEFAULT_LABELS",
    "ClassificationReport",
    "Counts",
    "Judge",
    "LabelledItem",
    "ModelAlone",
    "corpus_root",
    "cross_validate",
    "evaluate_classification",
    "fold_groups",
    "format_classification_report",
    "load_labelled_items",
    "load_split",
    "load_tune_only",
    "make_split",
    "save_split",
    "score_items",
    "train_from_labels",
]

DEFAULT_LABELS = Path(__file__).with_name("labels")
SPLIT_SEED = 17


@dataclass(frozen=True)
class LabelledItem:
    id: str
    title: str
    body: str
    source_kind: str
    relevant: bool
    topics: tuple[str, ...]
    doc_type: str | None
    policy: PolicyMeta | None = None
    weak_topics: tuple[str, ...] = ()
    # hit (health IT), health (health without IT), it (IT without health), other.
    subject: str = "other"
    # What the split keeps together (a notice's forms) and stratifies on.
    group: str = ""
    source: str = ""
    form: str = ""
    attachments: tuple[str, ...] = ()
    part: str = "tune"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _html_text(html: str) -> str:
    if not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    for junk in root.xpath("//script|//style"):
        junk.drop_tree()
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


def _resolve(raw: dict[str, Any], shared: Path | None) -> LabelledItem | None:
    """The item's text, or None when its source is absent or no longer matches."""
    base = {
        "id": raw["id"],
        "source_kind": raw.get("source_kind", "media"),
        "relevant": bool(raw["relevant"]),
        "topics": tuple(raw.get("topics") or ()),
        "weak_topics": tuple(raw.get("weak_topics") or ()),
        "doc_type": raw.get("doc_type"),
        "subject": raw.get("subject", "hit" if raw["relevant"] else "other"),
        "group": raw["id"],
        "source": raw.get("kind", "written"),
    }
    kind = raw.get("kind", "written")
    if kind == "written":
        return LabelledItem(title=raw["title"], body=raw["body"], **base)
    if shared is None or not (shared / raw["path"]).is_file():
        return None
    data = (shared / raw["path"]).read_bytes()
    if kind == "seed_lines":
        first, last = raw["lines"]
        segment = "\n".join(data.decode("utf-8").split("\n")[first - 1 : last])
        if _sha(segment.encode("utf-8")) != raw["sha256"]:
            return None
        # The seed is a PDF extraction: a hard wrap every ~35 characters, blank lines between.
        body = "".join(line.strip() for line in segment.splitlines())
        return LabelledItem(title=raw["title"], body=body, **base)
    if kind == "govcn":
        line = data.split(b"\n")[raw["index"]]
        if _sha(line) != raw["sha256"]:
            return None
        doc = json.loads(line)
        policy = PolicyMeta(
            doc_number=doc.get("doc_number", ""),
            issuer=doc.get("office", ""),
            index_number=doc.get("index_number", ""),
            written_date=doc.get("written_date", ""),
            publish_date=doc.get("publish_date", ""),
        )
        text = _html_text(doc["html_fragment"])
        return LabelledItem(title=doc["title"], body=text, policy=policy, **base)
    if kind == "beijing_tcm":
        notice = json.loads(data)[raw["index"]]
        encoded = json.dumps(notice, ensure_ascii=False, sort_keys=True).encode("utf-8")
        if _sha(encoded) != raw["sha256"]:
            return None
        return LabelledItem(title=notice["title"], body=_html_text(notice["article"] or ""), **base)
    if kind == "headline":
        line = data.split(b"\n")[raw["line"] - 1]
        if _sha(line) != raw["sha256"]:
            return None
        _, _, words = line.decode("utf-8").partition("\t")
        return LabelledItem(title=words.replace(" ", ""), body="", **base)
    if kind == "law":
        if _sha(data) != raw["sha256"]:
            return None
        text = data.decode("utf-8")
        # File names read <kind>_<title>(<date>).md; the body follows the header lines.
        title = Path(raw["path"]).stem.rsplit("(", 1)[0].rsplit("_", 1)[-1]
        return LabelledItem(title=title, body=text, **base)
    if kind == "page":
        if _sha(data) != raw["sha256"]:
            return None
        from classifier.extraction import extract_page

        page = extract_page(data, "")
        return LabelledItem(title=page.title, body=page.body, policy=page.policy, **base)
    raise ValueError(f"{raw['id']}: unknown label kind {kind!r}")


def _notice_items(path: Path) -> list[LabelledItem]:
    items = []
    for facts in load_notices(path):
        subject = "hit" if facts.relevant else "health"
        if facts.id.startswith("n-ito"):
            subject = "it"
        for built in notice_forms(facts):
            weak = facts.content_topics if built.form == "short" else ()
            required = tuple(t for t in facts.topics if t not in weak)
            items.append(
                LabelledItem(
                    id=f"{facts.id}-{built.form}",
                    title=built.title,
                    body=built.body,
                    source_kind=built.source_kind,
                    relevant=facts.relevant,
                    topics=required if facts.relevant else (),
                    weak_topics=weak,
                    doc_type=built.doc_type,
                    policy=built.policy,
                    subject=subject,
                    group=facts.id,
                    source=f"notice-{subject}",
                    form=built.form,
                    attachments=built.attachments,
                )
            )
    return items


def _stratum(item: LabelledItem) -> str:
    return f"{item.source}/{item.doc_type or '-'}/{item.relevant}"


def make_split(
    items: list[LabelledItem], existing: dict[str, str], *, seed: int = SPLIT_SEED
) -> dict[str, str]:
    """group -> "tune" | "test": `existing` kept, new groups split half and half per stratum.

    A group's stratum is that of its first item (source, document type, relevance); the
    groups of a stratum are shuffled with `seed` and alternate between the parts, so
    each part holds about half of every stratum.
    """
    parts = dict(existing)
    strata: dict[str, list[str]] = {}
    seen = set(parts)
    for item in items:
        if item.group not in seen:
            seen.add(item.group)
            strata.setdefault(_stratum(item), []).append(item.group)
    rng = random.Random(seed)
    for stratum in sorted(strata):
        groups = sorted(strata[stratum])
        rng.shuffle(groups)
        for index, group in enumerate(groups):
            parts[group] = "test" if index % 2 == 0 else "tune"
    return parts


def load_labelled_items(labels_dir: Path, shared: Path | None) -> tuple[list[LabelledItem], int]:
    """(items whose text is available, number skipped because the source is absent).

    Each item carries its part from `split.json` (a group not listed there is tuning).
    """
    items: list[LabelledItem] = []
    skipped = 0
    for path in sorted(labels_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = _resolve(json.loads(line), shared)
            if item is None:
                skipped += 1
            else:
                items.append(item)
    if (labels_dir / "notices.yaml").is_file():
        items += _notice_items(labels_dir / "notices.yaml")
    split = load_split(labels_dir)
    return [replace(item, part=split.get(item.group, "tune")) for item in items], skipped


def _split_data(labels_dir: Path) -> dict[str, Any]:
    path = labels_dir / "split.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"parts": {}}


def load_split(labels_dir: Path) -> dict[str, str]:
    """group -> "tune" | "test", the tuning-only rounds (`load_tune_only`) as "tune"."""
    data = _split_data(labels_dir)
    parts = {group: part for part, groups in data["parts"].items() for group in groups}
    parts.update((group, "tune") for group in data.get("tune_only", ()))
    return parts


def load_tune_only(labels_dir: Path) -> frozenset[str]:
    """Groups that joined the tuning part alone after the split: rounds written to find
    and fix failures (probes, cross-validation misses), which the test part never holds;
    they are outside the split's stratification."""
    return frozenset(_split_data(labels_dir).get("tune_only", ()))


def save_split(
    labels_dir: Path,
    parts: dict[str, str],
    *,
    tune_only: frozenset[str] = frozenset(),
    seed: int = SPLIT_SEED,
) -> None:
    by_part: dict[str, list[str]] = {"test": [], "tune": []}
    for group, part in sorted(parts.items()):
        if group not in tune_only:
            by_part[part].append(group)
    data = {"seed": seed, "parts": by_part, "tune_only": sorted(tune_only)}
    text = json.dumps(data, ensure_ascii=False, indent=1)
    (labels_dir / "split.json").write_text(text + "\n", encoding="utf-8")


@dataclass
class Counts:
    """True and false positives and negatives, with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


class Judge(Protocol):
    """What the evaluation scores: the keyword classifier, the learned model, or both."""

    def classify(
        self,
        title: str,
        body: str,
        *,
        source_kind: str = ...,
        policy: PolicyMeta | None = ...,
        attachments: Sequence[str] = ...,
    ) -> Classification: ...


@dataclass
class ModelAlone:
    """The classifier with relevance decided by the learned model's probability alone
    (for comparison in `hitwatch eval classify --compare`)."""

    classifier: Classifier

    def classify(
        self,
        title: str,
        body: str,
        *,
        source_kind: str = "media",
        policy: PolicyMeta | None = None,
        attachments: Sequence[str] = (),
    ) -> Classification:
        result = self.classifier.classify(
            title, body, source_kind=source_kind, policy=policy, attachments=attachments
        )
        probability = float(result.evidence["relevance"]["model"]["probability"])
        threshold = self.classifier.taxonomy.relevance_threshold
        return replace(result, relevant=probability >= threshold, relevance=probability)


def _train_on(
    items: Sequence[LabelledItem], note: str, neutral: Sequence[str] | None = None
) -> dict[str, Any]:
    """Health IT against health without IT (the contrast the rules find hardest), read
    without the taxonomy's neutral phrases (default: those of `hitwatch/taxonomy.yaml`)."""
    if neutral is None:
        neutral = load_taxonomy().neutral_terms
    chosen = [i for i in items if i.subject in ("hit", "health")]
    return train_relevance(
        [model_text(i.title, i.body, i.attachments, neutral) for i in chosen],
        [i.relevant for i in chosen],
        note=f"{note}, health IT against health without IT: {len(chosen)} items",
        neutral=neutral,
    )


def train_from_labels(labels_dir: Path, shared: Path) -> dict[str, Any]:
    """The learned relevance model, fit on the tuning part's health-IT items against its
    health-without-IT items (what `hitwatch train` writes)."""
    items, skipped = load_labelled_items(labels_dir, shared)
    return _train_on(
        [i for i in items if i.part == "tune"],
        f"tuning part of {labels_dir.name} ({skipped} labelled items skipped, source absent)",
    )


def fold_groups(
    items: Sequence[LabelledItem], folds: int, *, seed: int = SPLIT_SEED
) -> dict[str, int]:
    """group -> fold (0 .. folds-1), stratified as `make_split` is.

    The groups of each stratum (source, document type, relevance of a group's first item)
    are shuffled with `seed` and dealt out in turn, the deal carrying on from one stratum
    to the next, so every fold holds about 1/folds of every stratum and of the whole.
    """
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, not {folds}")
    strata: dict[str, list[str]] = {}
    seen: set[str] = set()
    for item in items:
        if item.group not in seen:
            seen.add(item.group)
            strata.setdefault(_stratum(item), []).append(item.group)
    rng = random.Random(seed)
    assigned: dict[str, int] = {}
    turn = 0
    for stratum in sorted(strata):
        groups = sorted(strata[stratum])
        rng.shuffle(groups)
        for group in groups:
            assigned[group] = turn % folds
            turn += 1
    return assigned


def cross_validate(
    items: Sequence[LabelledItem],
    base: Classifier,
    *,
    folds: int = 5,
    seed: int = SPLIT_SEED,
    skipped: int = 0,
    train: Callable[[Sequence[LabelledItem], str], dict[str, Any]] | None = None,
) -> ClassificationReport:
    """Out-of-fold scores of `items` (the tuning part): for each fold, the learned model
    is trained on the other folds' items and the fold is judged by `base`'s rules with
    that model, so no item is judged by a model that saw it. (The rules themselves were
    tuned on the tuning part, so they keep an in-sample advantage.)"""
    if train is None:
        train = functools.partial(_train_on, neutral=base.taxonomy.neutral_terms)
    assigned = fold_groups(items, folds, seed=seed)
    report = _empty_report(len(items), skipped, f"tune-cv{folds}")
    for fold in range(folds):
        held = [i for i in items if assigned[i.group] == fold]
        rest = [i for i in items if assigned[i.group] != fold]
        model = RelevanceModel(train(rest, f"folds other than {fold + 1} of {folds}"))
        judge = Classifier(base.taxonomy, base.dictionary, model)
        for item in held:
            _score_one(report, item, _judge(judge, item))
    return report


@dataclass
class ClassificationReport:
    items: int
    skipped: int
    relevance: Counts
    topics: dict[str, Counts]
    doc_type_correct: int
    doc_type_total: int
    errors: list[str] = field(default_factory=list)
    # The relevance misses alone (also in `errors`), each with the judge's reason.
    misses: list[str] = field(default_factory=list)
    part: str = "all"
    # Gold-relevant government policy documents (政策文件): judged relevant / all.
    policy_found: int = 0
    policy_total: int = 0
    # Health without IT: judged relevant / all.
    health_relevant: int = 0
    health_total: int = 0
    doc_types: dict[str, Counts] = field(default_factory=dict)
    # (gold, predicted) -> count, for relevance ("relevant"/"off-topic") and doc types.
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def topic_micro(self) -> Counts:
        total = Counts()
        for counts in self.topics.values():
            total.tp += counts.tp
            total.fp += counts.fp
            total.fn += counts.fn
        return total

    @property
    def doc_type_accuracy(self) -> float:
        return self.doc_type_correct / self.doc_type_total if self.doc_type_total else 1.0

    @property
    def policy_recall(self) -> float:
        return self.policy_found / self.policy_total if self.policy_total else 1.0

    @property
    def health_share(self) -> float:
        return self.health_relevant / self.health_total if self.health_total else 0.0


def corpus_root(corpus: Path | None) -> Path | None:
    # Labels name paths relative to the shared folder (seeds/…, corpus/…).
    return corpus.parent if corpus is not None and corpus.is_dir() else None


def _reason(result: Classification) -> str:
    reason = result.evidence.get("relevance") or {}
    model = reason.get("model") or {}
    shown = [f"{key} {reason[key]}" for key in ("health", "it", "offtopic") if key in reason]
    if model:
        shown.append(f"model p {model['probability']}")
    return ", ".join([*shown, str(reason.get("decision", ""))])


def _relevance_name(relevant: bool) -> str:
    return "relevant" if relevant else "off-topic"


def _empty_report(items: int, skipped: int, part: str) -> ClassificationReport:
    return ClassificationReport(
        items=items,
        skipped=skipped,
        relevance=Counts(),
        topics={},
        doc_type_correct=0,
        doc_type_total=0,
        part=part,
    )


def _judge(judge: Judge, item: LabelledItem) -> Classification:
    return judge.classify(
        item.title,
        item.body,
        source_kind=item.source_kind,
        policy=item.policy,
        attachments=item.attachments,
    )


def score_items(
    items: list[LabelledItem], judge: Judge, *, skipped: int = 0, part: str = "all"
) -> ClassificationReport:
    report = _empty_report(len(items), skipped, part)
    for item in items:
        _score_one(report, item, _judge(judge, item))
    return report


def _score_one(report: ClassificationReport, item: LabelledItem, result: Classification) -> None:
    relevance = report.relevance
    report.confusion[(_relevance_name(item.relevant), _relevance_name(result.relevant))] += 1
    if result.relevant and item.relevant:
        relevance.tp += 1
    elif result.relevant:
        relevance.fp += 1
        report.errors.append(
            f"{item.id}: relevant {result.relevance} (gold off-topic, {item.subject}) {item.title}"
        )
        report.misses.append(f"{report.errors[-1]} [{_reason(result)}]")
    elif item.relevant:
        relevance.fn += 1
        report.errors.append(
            f"{item.id}: off-topic {result.relevance} (gold relevant) {item.title}"
        )
        report.misses.append(f"{report.errors[-1]} [{_reason(result)}]")
    if item.subject == "health":
        report.health_total += 1
        report.health_relevant += int(result.relevant)
    if item.relevant and item.doc_type == "政策文件" and item.source_kind == "government":
        report.policy_total += 1
        report.policy_found += int(result.relevant)
    if item.relevant:
        # A weak gold topic (taxonomy.md's "(N weak)") is neither required nor wrong.
        predicted = {t.code for t in result.topics} - set(item.weak_topics)
        gold = set(item.topics)
        for code in predicted | gold:
            counts = report.topics.setdefault(code, Counts())
            if code in predicted and code in gold:
                counts.tp += 1
            elif code in predicted:
                counts.fp += 1
            else:
                counts.fn += 1
        if predicted != gold:
            report.errors.append(
                f"{item.id}: topics {sorted(predicted)} gold {sorted(gold)} {item.title[:30]}"
            )
    # Off-topic pages are dropped before anyone reads their type.
    if item.doc_type is not None and item.relevant:
        report.doc_type_total += 1
        report.confusion[(item.doc_type, result.doc_type)] += 1
        gold_counts = report.doc_types.setdefault(item.doc_type, Counts())
        if result.doc_type == item.doc_type:
            report.doc_type_correct += 1
            gold_counts.tp += 1
        else:
            gold_counts.fn += 1
            report.doc_types.setdefault(result.doc_type, Counts()).fp += 1
            report.errors.append(
                f"{item.id}: {result.doc_type} gold {item.doc_type} {item.title[:30]}"
            )


def evaluate_classification(
    labels_dir: Path = DEFAULT_LABELS,
    corpus: Path | None = None,
    classifier: Judge | None = None,
    *,
    part: str | None = None,
) -> ClassificationReport:
    """Scores on the labelled items of `part` ("test", "tune"; None: all of them)."""
    clf: Judge = classifier or Classifier.load()
    items, skipped = load_labelled_items(labels_dir, corpus_root(corpus))
    chosen = [item for item in items if part is None or item.part == part]
    return score_items(chosen, clf, skipped=skipped, part=part or "all")


_PART_NAMES = {"test": "TEST part", "tune": "TUNING part", "all": "all labelled items"}


def _part_name(part: str) -> str:
    if part.startswith("tune-cv"):
        folds = part.removeprefix("tune-cv")
        return f"TUNING part, {folds}-fold cross-validation (out-of-fold)"
    return _PART_NAMES.get(part, part)


def format_classification_report(report: ClassificationReport, *, verbose: bool = False) -> str:
    micro = report.topic_micro
    lines = [
        f"== {_part_name(report.part)}: {report.items} items evaluated,"
        f" {report.skipped} skipped (source absent)",
        f"relevance  P {report.relevance.precision:.3f}  R {report.relevance.recall:.3f}"
        f"  F1 {report.relevance.f1:.3f}   (target F1 >= 0.97)",
        f"relevance recall on government policy documents {report.policy_recall:.3f}"
        f" ({report.policy_found}/{report.policy_total})   (target >= 0.98)",
        f"health without IT judged relevant {report.health_share:.3f}"
        f" ({report.health_relevant}/{report.health_total})   (target <= 0.03)",
        f"topic micro  P {micro.precision:.3f}  R {micro.recall:.3f}  F1 {micro.f1:.3f}"
        "   (target >= 0.90, no topic < 0.80)",
        f"doc type accuracy {report.doc_type_accuracy:.3f} on {report.doc_type_total}"
        "   (target >= 0.97)",
        "",
        f"{'topic':<9}{'P':>7}{'R':>7}{'F1':>7}{'gold':>6}",
    ]
    for code, counts in sorted(report.topics.items()):
        lines.append(
            f"{code:<9}{counts.precision:>7.3f}{counts.recall:>7.3f}{counts.f1:>7.3f}"
            f"{counts.tp + counts.fn:>6}"
        )
    lines += ["", f"{'doc type':<9}{'P':>7}{'R':>7}{'F1':>7}{'gold':>6}"]
    for name, counts in sorted(report.doc_types.items()):
        lines.append(
            f"{name:<9}{counts.precision:>7.3f}{counts.recall:>7.3f}{counts.f1:>7.3f}"
            f"{counts.tp + counts.fn:>6}"
        )
    wrong = [(pair, n) for pair, n in report.confusion.most_common() if pair[0] != pair[1]]
    lines += ["", "confusions (gold -> predicted):"]
    lines += [f"  {gold} -> {predicted}: {n}" for (gold, predicted), n in wrong] or ["  none"]
    if report.part.startswith("tune-cv"):
        # Out-of-fold misses of the tuning part: what to learn from (never the test part's).
        lines += ["", "out-of-fold relevance misses:"]
        lines += [f"  {miss}" for miss in report.misses] or ["  none"]
    if verbose and report.errors:
        lines += ["", "disagreements:", *(f"  {e}" for e in report.errors)]
    return "\n".join(lines)


# --- dedupe -------------------------------------------------------------------------
