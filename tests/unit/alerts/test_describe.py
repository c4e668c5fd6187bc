"""An alert without a name is called by its query in words: labels and topic names."""

from __future__ import annotations

import pytest

from hitwatch.alerts.describe import describe_query
from hitwatch.alerts.mail import wording


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("topic:A", "主题：医疗大模型与生成式AI"),
        ("topic:医保信息化", "主题：医保信息化"),  # part of a name stays as typed
        ("电子病历 -广告", "电子病历、不含广告"),
        ("(医保 | DRG) type:政策文件", "（医保 或 DRG）、类型：政策文件"),
        ('"互联网医院" source:nhc', "“互联网医院”、来源：nhc"),
        ("after:2024-07-01 电子病历", "2024-07-01起、电子病历"),
        ("医保 OR 医疗", "医保 或 医疗"),
        ("(电子病历", "(电子病历"),  # does not parse: shown as stored
    ],
)
def test_queries_read_as_words(query: str, words: str) -> None:
    assert describe_query(query, wording()) == words
