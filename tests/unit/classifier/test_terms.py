"""Dictionary matching rules: NFKC, aliases, ASCII word boundaries and case, longest match."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from classifier.terms import TermMatcher, nfkc

ALIASES = {"人工智能": "AI"}


def terms(matcher: TermMatcher, text: str) -> list[str]:
    return matcher.find(matcher.normalize(text))


def test_acronyms_match_only_on_word_boundaries_and_case() -> None:
    matcher = TermMatcher(["CT", "CE", "DRG", "HIS", "DIP"], ALIASES)
    assert terms(matcher, "患者做了CT检查") == ["CT"]
    assert terms(matcher, "CTO表示, service 与 his 无关, DIPLOMA 不算") == []
    assert terms(matcher, "DRG/DIP支付方式改革, HIS系统, 获CE认证") == ["DRG", "DIP", "HIS", "CE"]
    assert terms(matcher, "ct检查") == []


def test_mixed_case_ascii_terms_ignore_case() -> None:
    matcher = TermMatcher(["Copilot", "tokens"], ALIASES)
    assert terms(matcher, "医疗COPILOT处理了百万Tokens") == ["Copilot", "tokens"]


def test_ai_and_rengongzhineng_are_one_term() -> None:
    matcher = TermMatcher(["生成式AI", "AI"], ALIASES)
    assert terms(matcher, "生成式人工智能在医院落地") == ["生成式AI"]
    assert terms(matcher, "人工智能辅助诊断与AI药师") == ["AI", "AI"]
    assert terms(matcher, "OpenAI发布新模型") == []


def test_full_width_forms_are_normalised() -> None:
    matcher = TermMatcher(["互联网+医疗健康", "CT"], ALIASES)
    assert terms(matcher, "推进“互联网＋医疗健康”发展，ＣＴ影像") == ["互联网+医疗健康", "CT"]


def test_longest_match_wins() -> None:
    matcher = TermMatcher(["大模型", "医疗大模型"], ALIASES)
    assert terms(matcher, "医疗大模型与通用大模型") == ["医疗大模型", "大模型"]


def test_nfkc_equals_unicodedata_on_mixed_text() -> None:
    samples = [
        "国家卫生健康委（２０２４年）发布，ＣＴ与ＭＲＩ：第①条",
        "e\u0301中\u0301\u0323a\u0323\u0301 ﬁ ㈱ Ⅱ \xa0医疗",
        "가\u11a8中가\u11a8",
        "纯中文文本没有需要规范化的字符",
    ]
    for text in samples:
        assert nfkc(text) == unicodedata.normalize("NFKC", text)


_TERMS = ["CT", "CTO", "医疗", "医疗AI", "AI", "大模型", "医疗大模型", "Copilot", "HIS", "his"]
_PIECES = ["C", "T", "O", "医疗", "AI", "大", "模型", "HIS", "his", "Copilot", " ", "x"]


def _reference(terms: list[str], text: str) -> list[str]:
    """Leftmost-longest over every valid occurrence, by brute force."""
    alnum = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    found = []
    for term in terms:
        for start in range(len(text)):
            piece = text[start : start + len(term)]
            end = start + len(term)
            exact = term.isascii() and term.isupper()
            if (piece if exact else piece.lower()) != (term if exact else term.lower()):
                continue
            if term[0] in alnum and start > 0 and text[start - 1] in alnum:
                continue
            if term[-1] in alnum and end < len(text) and text[end] in alnum:
                continue
            found.append((start, -len(term), term))
    chosen, covered = [], 0
    for start, negative, term in sorted(found):
        if start >= covered:
            chosen.append(term)
            covered = start - negative
    return chosen


@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_matches_equal_brute_force_leftmost_longest(pieces: list[str]) -> None:
    # "HIS" and "his" are one folded key: the case-sensitive variant wins on capitals.
    matcher = TermMatcher(_TERMS)
    text = "".join(pieces)
    assert matcher.find(text) == _reference(_TERMS, text)
