"""Fingerprints: exact hash ignores spacing/punctuation/width; signatures estimate similarity."""

import re
import unicodedata

from classifier.dedupe import (
    BANDS,
    NUM_PERM,
    content_fingerprint,
    estimate_similarity,
    fingerprint,
    normalize_body,
    title_key,
)

TEXT = (
    "国家卫生健康委今日发布通知，要求各地加快推进全民健康信息平台建设，"
    "实现电子健康档案和电子病历的互联互通。通知指出，到2025年，"
    "二级以上医院要基本实现院内信息共享，基层医疗卫生机构要接入区域平台。"
    "各地要加强数据安全管理，落实网络安全等级保护制度，保障居民个人信息安全。"
)


def test_exact_fingerprint_ignores_whitespace_punctuation_and_width() -> None:
    variant = TEXT.replace("，", ",").replace("。", ". ").replace("2025", "２０２５") + "\n\n"
    assert content_fingerprint(variant) == content_fingerprint(TEXT)
    assert content_fingerprint(TEXT + "新增一句。") != content_fingerprint(TEXT)


def test_signature_similarity_separates_copies_from_other_texts() -> None:
    original = fingerprint(TEXT * 3)
    reprint = fingerprint("（来源：某某网）" + TEXT * 3 + "责任编辑：张三")
    other = fingerprint(
        "昨晚的联赛中主队球员打进制胜一球，球队夺冠希望大增，下一轮比赛将于周日进行。" * 3
    )
    close, _ = estimate_similarity(
        original.signature, original.shingles, reprint.signature, reprint.shingles
    )
    far, _ = estimate_similarity(
        original.signature, original.shingles, other.signature, other.shingles
    )
    assert close > 0.8
    assert far < 0.1


def test_fingerprint_is_deterministic() -> None:
    assert fingerprint(TEXT) == fingerprint(TEXT)


def test_amendment_date_is_the_edition() -> None:
    head = "2001年6月20日 国务院令第308号公布\n根据2023年7月20日《国务院关于修改和废止部分行政法规的决定》第三次修订\n"
    assert fingerprint(head + TEXT).edition == "2023-07-20"
    assert fingerprint(TEXT).edition == ""


def test_title_key_only_for_laws_and_rules_and_ignores_edition_notes() -> None:
    assert title_key("中华人民共和国国境卫生检疫法") == title_key(
        "中华人民共和国国境卫生检疫法（2024年修订）"
    )
    assert title_key("中华人民共和国国境卫生检疫法")
    assert title_key("2024中国数字医疗大会召开") == ""


def _true_jaccard(a: str, b: str) -> float:
    def grams(text: str) -> set[str]:
        norm = normalize_body(text)
        return {norm[i : i + 5] for i in range(len(norm) - 4)}

    first, second = grams(a), grams(b)
    return len(first & second) / len(first | second)


def test_one_permutation_signature_tracks_true_jaccard() -> None:
    base = TEXT * 2 + "医疗保障局推进医保信息平台建设，统一编码标准，实现跨省异地就医直接结算。"
    pairs = [
        (base, base[: len(base) * 3 // 4]),
        (base, "编者按：转载。" + base + "相关阅读"),
        (base, base.replace("安全", "保障")),
    ]
    for a, b in pairs:
        fa, fb = fingerprint(a), fingerprint(b)
        estimate, _ = estimate_similarity(fa.signature, fa.shingles, fb.signature, fb.shingles)
        assert abs(estimate - _true_jaccard(a, b)) < 0.2


def test_short_text_fills_every_bin_and_counts_distinct_shingles() -> None:
    # About 50 shingles for 63 bins: some bins stay empty and must be filled.
    short = "国家卫生健康委发布电子病历系统应用水平分级评价标准（试行）的通知，要求各地医院对照标准开展自评"
    assert 40 <= len(normalize_body(short)) - 4 < NUM_PERM
    fp = fingerprint(short)
    normalized = normalize_body(short)
    assert fp.shingles == len({normalized[i : i + 5] for i in range(len(normalized) - 4)})
    assert len(fp.signature) == 4 * NUM_PERM
    assert len(fp.buckets) == BANDS
    again = fingerprint(short + "。")
    assert again.signature == fp.signature
    other = fingerprint(
        "昨晚联赛主队球员打进制胜一球，球队夺冠希望大增，下一轮比赛将于周日晚上在主场进行，门票已售罄"
    )
    assert other.signature
    far, _ = estimate_similarity(fp.signature, fp.shingles, other.signature, other.shingles)
    assert far < 0.2


def test_repeated_text_counts_each_shingle_once() -> None:
    assert fingerprint(TEXT * 3).shingles < 2 * fingerprint(TEXT).shingles


def test_normalized_body_keeps_exactly_what_the_word_pattern_keeps() -> None:
    # normalize_body drops characters by a per-code-point table; it must agree with the
    # regular expression `[\W_]+` it replaces, for every character and for mixed text.
    word = re.compile(r"[\W_]+")
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        assert normalize_body(char) == word.sub("", unicodedata.normalize("NFKC", char).lower())
    mixed = "Ａ１_b，é\u0301 ㈱ Ⅱ\xa0医疗𠀀𝐀\u3000数据"
    assert normalize_body(mixed) == word.sub("", unicodedata.normalize("NFKC", mixed).lower())
