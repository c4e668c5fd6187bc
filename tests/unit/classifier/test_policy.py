"""Policy metadata normalisation: 发文字号 brackets, issuer names, dates."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifier.classify import Classifier
from classifier.policy import _DOC_NUMBER, find_doc_number, normalize_date, normalize_doc_number
from hitwatch.messages import PolicyMeta


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("国办发〔2019〕4号", "国办发〔2019〕4号"),
        ("国办发[2019]4号", "国办发〔2019〕4号"),
        ("国办发［2019］4号", "国办发〔2019〕4号"),
        ("国卫办规划发（2024）12号", "国卫办规划发〔2024〕12号"),
        ("医保发(2021) 第 5 号", "医保发〔2021〕5号"),
        ("吉政明电【2022】1号", "吉政明电〔2022〕1号"),
        ("国令 第 707 号", "国令第707号"),
        ("", ""),
    ],
)
def test_doc_numbers_get_one_spelling(raw: str, expected: str) -> None:
    assert normalize_doc_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019年1月30日", "2019-01-30"),
        ("2019-1-30", "2019-01-30"),
        ("2019.01.30", "2019-01-30"),
        ("二〇一九年一月三十日", "2019-01-30"),
        ("二〇二四年十二月五日", "2024-12-05"),
        ("日期不详", ""),
    ],
)
def test_dates_become_iso_days(raw: str, expected: str) -> None:
    assert normalize_date(raw) == expected


def test_doc_number_found_in_a_body_head() -> None:
    assert (
        find_doc_number("各省卫生健康委：\n国卫办医政函[2023] 178号\n为贯彻…")
        == "国卫办医政函〔2023〕178号"
    )


def test_classifier_normalises_issuers_and_fills_publish_date() -> None:
    from datetime import datetime

    clf = Classifier.load()
    result = clf.classify(
        "国家医疗保障局 国家卫生健康委员会关于做好医保信息平台建设工作的通知",
        "各省医疗保障局：为推进医保信息化建设，医保信息平台……",
        source_kind="government",
        policy=PolicyMeta(
            doc_number="医保发[2020]12号",
            issuer="国家医疗保障局、国家卫生健康委员会",
            written_date="2020年3月2日",
        ),
        published_at=datetime(2020, 3, 5, 9, 30),
    )
    assert result.policy == PolicyMeta(
        doc_number="医保发〔2020〕12号",
        issuer="国家医保局、国家卫生健康委",
        written_date="2020-03-02",
        publish_date="2020-03-05",
    )
    assert result.doc_type == "政策文件"


_PIECES = [
    "国办发",
    "卫",
    "令",
    "第",
    "号",
    "〔",
    "〕",
    "[",
    "]",
    "(",
    ")",
    "2019",
    "4",
    " ",
    "\n",
    "，",
    "医保局",
    "12",
    "年",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_doc_number_search_equals_the_plain_pattern(pieces: list[str]) -> None:
    text = "".join(pieces)
    match = _DOC_NUMBER.search(unicodedata.normalize("NFKC", text))
    assert find_doc_number(text) == (normalize_doc_number(match.group()) if match else "")


def test_a_table_is_read_only_where_two_fields_are_named() -> None:
    import lxml.html

    from classifier.extraction.policy import policy_from_table

    one_field = lxml.html.fromstring("<div><p>发布日期：2024-07-01</p><p>正文。</p></div>")
    assert policy_from_table(one_field) is None
    spaced = lxml.html.fromstring(
        "<table><tr><td>发 文 字 号：</td><td>国卫规划发〔2024〕3号</td></tr>"
        "<tr><td>发文机关</td><td>国家卫生健康委</td></tr></table>"
    )
    found = policy_from_table(spaced)
    assert found is not None
    assert found.meta.doc_number == "国卫规划发〔2024〕3号"
    assert found.meta.issuer == "国家卫生健康委"
