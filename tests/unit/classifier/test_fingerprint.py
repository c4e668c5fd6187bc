"""Fingerprints: exact hash ignores spacing/punctuation/width; signatures estimate similarity."""

from classifier.dedupe import content_fingerprint, estimate_similarity, fingerprint, title_key

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
