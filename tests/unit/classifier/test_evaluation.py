"""The labelled set and the evaluation: own texts always, corpus items only when present."""

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from classifier.classify import Classifier
from classifier.cli import classify_command, eval_classify_command
from classifier.dedupe_evaluation import evaluate_dedupe
from classifier.evaluation import (
    DEFAULT_LABELS,
    LabelledItem,
    ModelAlone,
    cross_validate,
    evaluate_classification,
    fold_groups,
    format_classification_report,
    load_labelled_items,
    load_split,
    load_tune_only,
    make_split,
    save_split,
)
from classifier.linear import model_text, train_relevance
from tests.factories import HEALTH_IT_TITLES, HEALTH_TITLES


def test_items_pointing_into_an_absent_corpus_are_skipped_and_counted(tmp_path: Path) -> None:
    items, skipped = load_labelled_items(DEFAULT_LABELS, tmp_path / "no-shared")
    # The project's own texts and the notices rebuilt from public facts remain.
    assert items and all(item.id.startswith(("w-", "n-")) for item in items)
    assert skipped >= 350


def test_every_labelled_group_was_split_once_and_the_split_is_stratified() -> None:
    items, _ = load_labelled_items(DEFAULT_LABELS, None)
    split = load_split(DEFAULT_LABELS)
    tune_only = load_tune_only(DEFAULT_LABELS)
    assert {item.group for item in items} <= split.keys()
    assert tune_only and all(split[group] == "tune" for group in tune_only)
    # A notice's forms share one part: no document is tuned on and tested at once.
    for group in {item.group for item in items}:
        assert len({item.part for item in items if item.group == group}) == 1
    split_items = [item for item in items if item.group not in tune_only]
    for source in ("notice-hit", "notice-health", "notice-it", "written"):
        parts = [i.part for i in split_items if i.source == source and i.form != "news"]
        assert 0.3 <= parts.count("test") / len(parts) <= 0.7, source


def test_a_new_label_joins_a_part_without_moving_the_others() -> None:
    items, _ = load_labelled_items(DEFAULT_LABELS, None)
    existing = load_split(DEFAULT_LABELS)
    new = replace(items[0], id="w-new", group="w-new")
    parts = make_split([*items, new], existing)
    assert {k: v for k, v in parts.items() if k != "w-new"} == existing
    assert parts["w-new"] in ("test", "tune")


def test_a_tuning_only_round_stays_in_the_tuning_part_when_the_split_is_saved(
    tmp_path: Path,
) -> None:
    save_split(tmp_path, {"a": "test", "b": "tune", "c": "tune"}, tune_only=frozenset({"c"}))
    assert load_split(tmp_path) == {"a": "test", "b": "tune", "c": "tune"}
    assert load_tune_only(tmp_path) == {"c"}
    # Extending the split never moves a tuning-only group into the test part.
    assert make_split([], load_split(tmp_path))["c"] == "tune"


def test_changed_source_text_is_skipped(tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "x.txt").write_text("第一行\n第二行\n", encoding="utf-8")
    (labels / "a.jsonl").write_text(
        '{"id": "s", "kind": "seed_lines", "path": "seeds/x.txt", "lines": [1, 2],'
        ' "sha256": "0000", "title": "t", "relevant": true, "topics": [], "doc_type": null}\n',
        encoding="utf-8",
    )
    assert load_labelled_items(labels, tmp_path) == ([], 1)


def test_own_texts_meet_the_targets_without_the_corpus(tmp_path: Path) -> None:
    report = evaluate_classification(DEFAULT_LABELS, None)
    assert report.relevance.f1 >= 0.95
    assert report.topic_micro.f1 >= 0.85
    assert report.doc_type_accuracy >= 0.95


def test_eval_command_prints_the_report() -> None:
    result = CliRunner().invoke(eval_classify_command, ["--corpus", "/nonexistent"])
    assert result.exit_code == 0, result.output
    assert "relevance" in result.output and "micro" in result.output
    assert result.output.index("TEST part") < result.output.index("TUNING part")
    assert "health without IT judged relevant" in result.output


def test_eval_command_compares_rules_alone_and_the_model_alone() -> None:
    result = CliRunner().invoke(eval_classify_command, ["--corpus", "/nonexistent", "--compare"])
    assert result.exit_code == 0, result.output
    headings = [line for line in result.output.splitlines() if line.startswith("#####")]
    assert headings == [
        "##### keyword rules with the learned model",
        "##### keyword rules alone",
        "##### learned model alone",
    ]
    assert result.output.count("TEST part") == 3


def test_classify_command_prints_json(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>医院上线医学影像AI辅助诊断系统</title></head><body>"
        "<h1>医院上线医学影像AI辅助诊断系统</h1><div class='article'>"
        + "<p>某三甲医院上线医学影像AI辅助诊断系统，可在CT影像中自动识别肺结节，"
        "阅片时间缩短一半，医生复核后出具报告。医院信息科表示系统已与PACS对接。</p>"
        * 3
        + "</div></body></html>",
        encoding="utf-8",
    )
    result = CliRunner().invoke(classify_command, [str(page), "https://www.example.cn/a.html"])
    assert result.exit_code == 0, result.output
    assert '"relevant": true' in result.output and '"code": "B"' in result.output


@pytest.mark.corpus
def test_corpus_classification_meets_targets_on_the_test_part(corpus: Path) -> None:
    report = evaluate_classification(DEFAULT_LABELS, corpus, part="test")
    assert report.skipped == 0
    assert report.items >= 300
    assert report.relevance.f1 >= 0.97
    assert report.policy_recall >= 0.98
    assert report.health_share <= 0.03
    assert report.topic_micro.f1 >= 0.90
    assert min(counts.f1 for counts in report.topics.values()) >= 0.80
    assert report.doc_type_accuracy >= 0.97


@pytest.mark.corpus
def test_rules_with_the_model_beat_each_alone_on_the_test_part(corpus: Path) -> None:
    """What ships is the better judge (issue #17: keep the better one, or combine them)."""
    shipped = evaluate_classification(DEFAULT_LABELS, corpus, part="test")
    rules = evaluate_classification(
        DEFAULT_LABELS, corpus, Classifier.load(model_path=None), part="test"
    )
    model = evaluate_classification(
        DEFAULT_LABELS, corpus, ModelAlone(Classifier.load()), part="test"
    )
    for alone in (rules, model):
        assert shipped.relevance.f1 > alone.relevance.f1
    assert shipped.policy_recall > max(rules.policy_recall, model.policy_recall)
    assert shipped.health_share <= 0.03


@pytest.mark.corpus
def test_corpus_dedupe_meets_targets(corpus: Path) -> None:
    report = evaluate_dedupe(corpus)
    assert report.counts.precision >= 0.995
    assert report.counts.recall >= 0.98
    assert report.by_variant["thepaper_captures"] == (3, 3)


def _small_set() -> list[LabelledItem]:
    """Twelve labelled groups (two forms each): health IT against health without IT."""
    items = []
    for index, title in enumerate(HEALTH_IT_TITLES + HEALTH_TITLES):
        relevant = index < len(HEALTH_IT_TITLES)
        for form in ("short", "news"):
            items.append(
                LabelledItem(
                    id=f"g{index}-{form}",
                    title=title,
                    body=f"{title}，请各医疗卫生机构认真贯彻执行。",
                    source_kind="government" if form == "short" else "media",
                    relevant=relevant,
                    topics=(),
                    doc_type="政策文件" if form == "short" else "新闻报道",
                    subject="hit" if relevant else "health",
                    group=f"g{index}",
                    source="notice-hit" if relevant else "notice-health",
                    form=form,
                )
            )
    return items


def test_folds_keep_groups_whole_and_are_stratified_and_fixed() -> None:
    items = _small_set()
    folds = fold_groups(items, 3)
    assert folds == fold_groups(list(reversed(items)), 3)
    assert set(folds.values()) == {0, 1, 2}
    for fold in range(3):
        groups = [g for g, f in folds.items() if f == fold]
        relevant = {item.group for item in items if item.relevant}
        # Six groups of each kind over three folds: two of each kind per fold.
        assert len(set(groups) & relevant) == 2 and len(groups) == 4
    assert fold_groups(items, 3, seed=1) != folds or fold_groups(items, 3, seed=2) != folds
    with pytest.raises(ValueError, match="at least 2 folds"):
        fold_groups(items, 1)


def test_cross_validation_never_judges_an_item_by_a_model_that_saw_it() -> None:
    items = _small_set()
    folds = fold_groups(items, 3)
    seen: list[set[str]] = []

    def train(chosen: Sequence[LabelledItem], note: str) -> dict[str, Any]:
        seen.append({item.group for item in chosen})
        return train_relevance(
            [model_text(i.title, i.body) for i in chosen], [i.relevant for i in chosen]
        )

    report = cross_validate(items, Classifier.load(), folds=3, train=train)
    assert len(seen) == 3
    for fold, groups in enumerate(seen):
        held = {g for g, f in folds.items() if f == fold}
        assert groups == set(folds) - held
    # Every item judged exactly once, out of fold.
    judged = report.relevance.tp + report.relevance.fp + report.relevance.fn
    judged += report.confusion[("off-topic", "off-topic")]
    assert judged == len(items) == report.items
    assert report.health_total == 12 and report.policy_total == 6
    assert len(report.misses) == report.relevance.fp + report.relevance.fn


def test_cross_validation_lists_its_misses_with_their_reasons() -> None:
    items = _small_set()
    # A model that always says health IT: the health notices' misses are the rules' only.
    flat = {"terms": ["医院"], "idf": [1.0], "coef": [0.0], "intercept": 9.0}
    report = cross_validate(items, Classifier.load(), folds=2, train=lambda _, __: flat)
    text = format_classification_report(report)
    assert "2-fold cross-validation (out-of-fold)" in text
    assert "out-of-fold relevance misses:" in text
    for miss in report.misses:
        assert "(gold" in miss and "model p 1.0" in miss and miss in text


def test_eval_command_cross_validates_the_tuning_part_alone() -> None:
    result = CliRunner().invoke(eval_classify_command, ["--corpus", "/nonexistent", "--folds", "3"])
    assert result.exit_code == 0, result.output
    assert "TUNING part, 3-fold cross-validation" in result.output
    assert "TEST part" not in result.output
    assert "out-of-fold relevance misses:" in result.output
