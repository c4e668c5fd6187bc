"""Policy names: the forms one policy is written in meet on one key; levels from issuers."""

from __future__ import annotations

import pytest

from hitwatch.policies import edition_of, issuer_level, policy_key, policy_name

X = "电子病历系统应用水平分级评价管理办法"


@pytest.mark.parametrize(
    ("title", "interpretation"),
    [
        (f"国家卫生健康委办公厅关于印发{X}的通知", False),
        (f"国家卫生健康委办公厅关于印发《{X}》的通知", False),
        (X, False),
        (f"{X}（试行）", False),
        (f"{X}(试行)", False),
        (f"{X}（2024年版）", False),
        (f"《{X}》解读", True),
        (f"关于《{X}（试行）》的解读", True),
        (f"一图读懂{X}", True),
        (f"{X}政策解读", True),
    ],
)
def test_the_forms_of_a_title_meet_on_one_key(title: str, interpretation: bool) -> None:
    assert policy_key(policy_name(title, interpretation=interpretation)) == X


def test_the_issuer_before_about_and_the_quotation_marks_are_not_part_of_the_key() -> None:
    assert policy_key("《国务院办公厅关于促进“互联网+医疗健康”发展的意见》") == policy_key(
        '关于促进"互联网+医疗健康"发展的意见'
    )
    # A different document stays different: the provinces' 实施意见 is not the 意见.
    assert policy_key("关于促进“互联网+医疗健康”发展的实施意见") != policy_key(
        "关于促进“互联网+医疗健康”发展的意见"
    )


def test_year_ranges_are_part_of_the_name_editions_are_not() -> None:
    assert policy_key("行动计划（2018—2020年）") != policy_key("行动计划（2021—2023年）")
    assert edition_of(f"{X}（2024年版）") == "2024年版"
    assert edition_of(f"{X}（试行）") == "试行"
    assert edition_of(X) == ""


@pytest.mark.parametrize(
    ("issuer", "level"),
    [
        ("国务院办公厅", "national"),
        ("国家卫生健康委员会、国家中医药管理局", "national"),
        ("工业和信息化部", "national"),
        ("广东省人民政府办公厅", "provincial"),
        ("北京市卫生健康委员会", "provincial"),
        ("宁夏回族自治区卫生健康委员会", "provincial"),
        ("四川省市场监督管理局", "provincial"),
        ("广东省深圳市卫生健康委员会", "municipal"),
        ("北京市朝阳区卫生健康委员会", "municipal"),
        ("深圳市人民政府", "municipal"),
        ("", ""),
        ("某科技有限公司", ""),
    ],
)
def test_level_from_the_lead_issuer(issuer: str, level: str) -> None:
    assert issuer_level(issuer) == level
