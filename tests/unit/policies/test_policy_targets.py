"""Targets and deadlines: year, measure, level and the sentence."""

from __future__ import annotations

from hitwatch.policies import find_targets


def test_a_quantified_target_and_a_deadline() -> None:
    text = (
        "一、总体要求。到2025年，三级医院电子病历系统应用水平平均达到4级以上。"
        "2023年底前，各地完成区域全民健康信息平台升级改造；"
        "到2030年，二级以上医院预约诊疗率不低于90%。"
    )
    targets = find_targets(text)
    assert [(t.year, t.measure, t.level, t.kind) for t in targets] == [
        (2025, "三级医院电子病历系统应用水平", "4级以上", "target"),
        (2023, "各地", "完成区域全民健康信息平台升级改造", "deadline"),
        (2030, "二级以上医院预约诊疗率", "90%", "target"),
    ]
    assert targets[0].sentence == "到2025年,三级医院电子病历系统应用水平平均达到4级以上"


def test_dates_and_years_without_a_horizon_are_no_targets() -> None:
    text = "2024年3月1日，国家卫生健康委印发通知。2023年全省医院共接诊1200万人次。到2025年，持续推进建设。"
    assert find_targets(text) == []
