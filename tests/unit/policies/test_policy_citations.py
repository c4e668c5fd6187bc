"""Citations: what a document names, with the kind its context gives and where it is."""

from __future__ import annotations

from hitwatch.policies import citations_of, forwarded_names

NATIONAL = "国务院办公厅关于促进“互联网+医疗健康”发展的意见"


def test_a_provincial_document_implements_what_it_follows_with_its_position() -> None:
    body = f"各市人民政府：\n为贯彻落实《{NATIONAL}》（国办发［2018］26号）精神，结合我省实际，提出如下意见。"
    [citation] = citations_of("某省实施意见", body, doc_type="政策文件", level="provincial")
    assert citation.kind == "implements"
    assert citation.cue == "贯彻落实"
    assert citation.doc_number == "国办发〔2018〕26号"
    assert body[citation.position] == "《"
    assert citation.key == "促进互联网+医疗健康发展的意见"
    assert citation.reason.startswith(f"正文第{citation.position + 1}字：“贯彻落实”")


def test_a_bare_document_number_after_a_cue_is_a_citation() -> None:
    body = "为贯彻国办发〔2018〕26号文件精神，现提出以下实施意见。"
    [citation] = citations_of("实施意见", body, doc_type="政策文件", level="provincial")
    assert (citation.kind, citation.name, citation.doc_number) == (
        "implements",
        "",
        "国办发〔2018〕26号",
    )


def test_a_national_document_cites_and_a_plain_mention_does_not_implement() -> None:
    national = citations_of(
        "通知", f"根据《{NATIONAL}》，现通知如下。", doc_type="政策文件", level="national"
    )
    assert [c.kind for c in national] == ["cites"]
    plain = citations_of(
        "方案", f"本方案与《{NATIONAL}》相衔接。", doc_type="政策文件", level="provincial"
    )
    assert [(c.kind, c.cue) for c in plain] == [("cites", "")]


def test_repeal_and_revision() -> None:
    body = "本办法自印发之日起施行，《某省互联网医院管理办法》（某卫发〔2019〕3号）同时废止。"
    [repeal] = citations_of("办法", body, doc_type="政策文件", level="provincial")
    assert (repeal.kind, repeal.cue) == ("repeals", "同时废止")
    [revise] = citations_of(
        "关于修订《某管理办法》的通知", "", doc_type="政策文件", level="national"
    )
    assert (revise.kind, revise.field) == ("revises", "title")
    # "新修订的《X》" names the new X: it follows X, it does not revise it.
    [follow] = citations_of(
        "通知", "按照新修订的《某管理办法》，现通知如下。", doc_type="政策文件", level="provincial"
    )
    assert follow.kind == "implements"


def test_the_documents_a_notice_carries_are_the_notice_itself() -> None:
    body = "现将《互联网诊疗管理办法（试行）》、《互联网医院管理办法（试行）》印发给你们。"
    assert forwarded_names(body) == ["互联网诊疗管理办法(试行)", "互联网医院管理办法(试行)"]
    assert (
        citations_of(
            "关于印发互联网诊疗管理办法（试行）等2个文件的通知",
            body,
            doc_type="政策文件",
            level="national",
        )
        == []
    )


def test_an_interpretation_interprets_the_policy_its_title_names() -> None:
    citations = citations_of(
        f"《{NATIONAL}》政策解读",
        "根据《中华人民共和国基本医疗卫生与健康促进法》，意见提出……",
        doc_type="政策解读",
        level="",
    )
    assert [(c.kind, c.field) for c in citations] == [("interprets", "title"), ("cites", "body")]
    assert citations[0].key == "促进互联网+医疗健康发展的意见"


def test_news_names_the_documents_it_quotes() -> None:
    citations = citations_of(
        "国家医保局印发三年行动计划",
        "国家医保局印发《DRG/DIP支付方式改革三年行动计划》。据《人民日报》报道……",
        doc_type="新闻报道",
        level="",
    )
    assert [(c.kind, c.name) for c in citations] == [
        ("names", "DRG/DIP支付方式改革三年行动计划"),
        ("names", "人民日报"),
    ]
