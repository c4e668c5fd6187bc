"""Relevance as the sharpened definition states it, on notices built from public facts.

The notices are real documents (seed 003 and the bulletin's sources name them): title,
发文字号, issuer, date and the names of the documents they forward, built into the short
government page, the long page, the page with an attachment and a news report.
"""

import json
from typing import Any

import pytest

from classifier.classify import Classifier
from classifier.evaluation import DEFAULT_LABELS, load_split
from classifier.notices import NoticeFacts, load_notices, notice_forms


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


@pytest.fixture(scope="module")
def notices() -> dict[str, NoticeFacts]:
    return {facts.id: facts for facts in load_notices(DEFAULT_LABELS / "notices.yaml")}


def _judge(clf: Classifier, facts: NoticeFacts, form: str) -> tuple[bool, dict[str, object]]:
    (built,) = [f for f in notice_forms(facts) if f.form == form]
    result = clf.classify(
        built.title,
        built.body,
        source_kind=built.source_kind,
        policy=built.policy,
        attachments=built.attachments,
    )
    return result.relevant, result.evidence["relevance"]


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hit-02",  # EMR grading: 国卫办医函〔2018〕1079号, two forwarded documents
        "n-hit-05",  # 互联网诊疗管理办法（试行）等3个文件
        "n-hit-16",  # DRG/DIP three-year plan, 医保发〔2021〕48号
        "n-hit-29",  # 工信部-led smart eldercare plan: an issuer outside health
        "n-hit-33",  # a provincial government's medical-AI plan, no 发文字号 known
    ],
)
def test_health_it_notices_are_relevant_in_every_form(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, reason = _judge(clf, notices[notice], form)
    assert relevant, reason
    assert reason["decision"] == "health and IT evidence"


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hno-01",  # national nursing plan, 国卫医发〔2022〕15号
        "n-hno-02",  # essential drug list
        "n-hno-04",  # 爱国卫生
        "n-hno-06",  # insurance drug list issued by 国家医保局
        "n-hno-07",  # vaccination schedule
        "n-hno-11",  # qualification exam
    ],
)
def test_health_without_it_is_off_topic_whoever_issues_it(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, reason = _judge(clf, notices[notice], form)
    assert not relevant, reason
    assert reason["decision"] == "no IT evidence"


@pytest.mark.parametrize("notice", ["n-ito-01", "n-ito-02", "n-ito-05", "n-ito-06"])
def test_it_without_health_is_off_topic(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str
) -> None:
    for form in ("short", "long", "news"):
        relevant, reason = _judge(clf, notices[notice], form)
        assert not relevant, (form, reason)
        assert str(reason["decision"]).startswith("no health evidence")


def test_a_health_authority_as_issuer_supports_but_never_decides(clf: Classifier) -> None:
    body = "国卫医发〔2024〕1号\n各省卫生健康委：\n现将《护理工作方案》印发给你们，请认真贯彻执行。"
    result = clf.classify("关于印发护理工作方案的通知", body, source_kind="government")
    assert not result.relevant
    assert result.evidence["relevance"]["it"] == 0


ATTACHMENT_FACTS = NoticeFacts(
    id="test-attached",
    title="某市卫生健康委员会关于印发《便民就医服务改革工作方案》的通知",
    issuer="某市卫生健康委员会",
    date="2024-05-06",
    relevant=True,
    topics=("F", "N"),
    reason="written for this test",
    forwards=("便民就医服务改革工作方案",),
    points=(
        "二级以上医院全面开通互联网医院在线复诊",
        "推广电子健康卡和医保电子凭证，实现移动支付",
        "建设全市预约诊疗信息平台，检查检验结果互联互通",
    ),
    forms=("attached",),
)


def test_the_attachment_is_read_when_the_page_is_short(clf: Classifier) -> None:
    (built,) = notice_forms(ATTACHMENT_FACTS)
    with_file = clf.classify(
        built.title, built.body, source_kind="government", attachments=built.attachments
    )
    without = clf.classify(built.title, built.body, source_kind="government")
    assert with_file.relevant and not without.relevant
    assert with_file.evidence["relevance"]["attachments"] == 1
    assert "F" in [t.code for t in with_file.topics]


def test_a_long_page_is_judged_on_its_own_text(clf: Classifier) -> None:
    body = "为做好护理工作，现提出如下意见。" * 80
    result = clf.classify(
        "关于加强护理工作的意见", body, attachments=("互联网医院 电子病历 医疗大模型",)
    )
    assert not result.relevant
    assert "attachments" not in result.evidence["relevance"]


def test_a_confident_health_it_topic_is_relevant_or_says_why_not(clf: Classifier) -> None:
    # 生成式AI is a heavy topic-A keyword, but nothing here is about health.
    result = clf.classify(
        "生成式AI服务管理办法公布",
        "生成式AI服务提供者应当对训练数据进行审核，大模型生成内容应当标识。",
    )
    assert "A" in [t.code for t in result.topics]
    assert not result.relevant
    assert str(result.evidence["relevance"]["decision"]).startswith("no health evidence")


def _topics(clf: Classifier, facts: NoticeFacts, form: str) -> tuple[bool, list[str]]:
    (built,) = [f for f in notice_forms(facts) if f.form == form]
    result = clf.classify(
        built.title,
        built.body,
        source_kind=built.source_kind,
        policy=built.policy,
        attachments=built.attachments,
    )
    return result.relevant, [t.code for t in result.topics]


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hit-41",  # 电子健康卡: the card's name holds the health word (健康卡)
        "n-hit-46",  # a provincial government's 全民健康信息化 opinion
        "n-hit-47",  # a municipal 大数据局's health data centre (H only in its content)
        "n-hit-48",  # a 经信委's city-level smart-healthcare platform
        "n-hit-49",  # county 医共体 informatisation
        "n-hit-51",  # 医联体 information platform
    ],
)
def test_regional_health_it_is_relevant_with_topic_h(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    facts = notices[notice]
    relevant, topics = _topics(clf, facts, form)
    assert relevant
    if not (form == "short" and "H" in facts.content_topics):
        assert "H" in topics


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hno-28",  # 区域医疗中心 pilots: hospitals and experts, no IT
        "n-hno-30",  # construction of provincial regional medical centres
        "n-hno-31",  # village doctors (基层) workforce
    ],
)
def test_regional_reform_without_it_is_off_topic(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, _ = _judge(clf, notices[notice], form)
    assert not relevant


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
def test_an_issuer_named_in_the_title_does_not_assign_its_topic(
    clf: Classifier, notices: dict[str, NoticeFacts], form: str
) -> None:
    # 国家药监局 issues drug rules too: its drug-traceability opinion is K, not C.
    relevant, topics = _topics(clf, notices["n-hit-61"], form)
    assert relevant
    assert "K" in topics and "C" not in topics


# Topic C (AI devices, their registration and regulation) against its look-alikes: every
# notice and text below is in the tuning part (checked first), never the test part.
_C_TUNING = [
    *("n-hit-14", "n-hit-68", "n-hit-75", "n-hit-69", "n-hit-71", "n-hit-77", "n-hit-78"),
    *("n-hno-37", "n-hno-39", "n-hno-40", "n-ito-09"),
    *("w-c7", "w-k8", "w-o3", "w-e4", "w-k9"),
]


def _written(item_id: str) -> dict[str, Any]:
    for line in (DEFAULT_LABELS / "written.jsonl").read_text(encoding="utf-8").splitlines():
        raw: dict[str, Any] = json.loads(line)
        if raw["id"] == item_id:
            return raw
    raise KeyError(item_id)


def test_the_topic_c_examples_are_from_the_tuning_part() -> None:
    split = load_split(DEFAULT_LABELS)
    for group in _C_TUNING:
        assert split[group] == "tune", group


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hit-14",  # 人工智能医用软件产品分类界定指导原则: the software is the device
        "n-hit-68",  # a provincial 药监局's support for AI device registration
        "n-hit-75",  # a provincial 药监局's guidance on registering device software
    ],
)
def test_ai_device_and_device_software_notices_are_relevant_with_topic_c(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, topics = _topics(clf, notices[notice], form)
    assert relevant
    assert "C" in topics


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    ("notice", "topic"),
    [
        ("n-hit-69", "F"),  # online sales of devices: e-commerce, not approval
        ("n-hit-71", "E"),  # hospital equipment management systems
        ("n-hit-77", "K"),  # adverse-reaction reporting system (issued by a regulator)
        ("n-hit-78", "K"),  # vaccine traceability (a 药监局 issuer)
    ],
)
def test_health_it_near_device_regulation_is_not_topic_c(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, topic: str, form: str
) -> None:
    relevant, topics = _topics(clf, notices[notice], form)
    assert relevant
    assert topic in topics and "C" not in topics


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hno-37",  # licensing list of large medical equipment
        "n-hno-39",  # 药品注册管理办法 (drug registration), 国家市场监督管理总局令第27号
        "n-hno-40",  # inspection of device distributors
        "n-ito-09",  # deep synthesis rules: AI without health
    ],
)
def test_device_and_drug_regulation_without_it_and_ai_without_health_are_off_topic(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, _ = _judge(clf, notices[notice], form)
    assert not relevant


@pytest.mark.parametrize(
    ("item_id", "present", "absent"),
    [
        ("w-c7", "C", None),  # a digital-therapy app granted a 二类证
        ("w-k8", "K", "C"),  # an AI-designed drug with an FDA designation: no device
        ("w-o3", "O", "C"),  # a wearable whose certificate is named in passing
        ("w-e4", "E", "B"),  # an equipment platform counting CT and MRI scans: no AI
        ("w-k9", "K", "C"),  # a pharmacovigilance system
    ],
)
def test_written_items_near_topic_c(
    clf: Classifier, item_id: str, present: str, absent: str | None
) -> None:
    raw = _written(item_id)
    result = clf.classify(raw["title"], raw["body"], source_kind=raw["source_kind"])
    topics = [t.code for t in result.topics]
    assert result.relevant
    assert present in topics
    assert absent is None or absent not in topics
    assert result.doc_type == raw["doc_type"]


# Health IT named only by its artefact (an e-invoice, a health code, a direct-reporting
# system, a cloud clinic): every notice below is in the tuning part (checked first).
_ARTEFACT_TUNING = [
    *("n-hit-81", "n-hit-91", "n-hit-94", "n-hit-107", "n-hit-111", "n-hit-112", "n-hit-118"),
    *("n-hit-119", "n-hit-120", "n-hit-128", "n-hit-129", "n-hit-130", "n-hit-135"),
    *("n-hit-105", "n-hit-136", "n-hit-113", "n-hno-43", "n-hno-44"),
]


def test_the_artefact_examples_are_from_the_tuning_part() -> None:
    split = load_split(DEFAULT_LABELS)
    for group in _ARTEFACT_TUNING:
        assert split[group] == "tune", group


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    "notice",
    [
        "n-hit-81",  # 医疗收费电子票据: a finance ministry co-issuing
        "n-hit-91",  # 健康码 checks issued by an epidemic command, no health authority
        "n-hit-94",  # 卫生健康统计网络直报
        "n-hit-107",  # 基层“云上诊室”
        "n-hit-111",  # 医保码
        "n-hit-112",  # 社会保障卡“一卡通”, a labour department co-issuing
        "n-hit-118",  # 数据资源管理
        "n-hit-119",  # 患者个人信息保护
        "n-hit-120",  # 关键信息基础设施
        "n-hit-128",  # 信息共享, a police department co-issuing
        "n-hit-129",  # 学生健康档案电子化, an education department co-issuing
        "n-hit-130",  # “一网统管”
        "n-hit-135",  # 医共体“一码通行”
        "n-hit-113",  # 电子出生医学证明: 电子 before a document
    ],
)
def test_health_it_named_by_its_artefact_is_relevant_in_every_form(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, reason = _judge(clf, notices[notice], form)
    assert relevant, reason


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize("notice", ["n-hno-08", "n-hno-09", "n-hno-23", "n-hno-43", "n-hno-44"])
def test_disease_control_family_doctors_and_nursing_without_it_stay_off_topic(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, form: str
) -> None:
    relevant, reason = _judge(clf, notices[notice], form)
    assert not relevant, reason


@pytest.mark.parametrize("form", ["short", "long", "attached", "news"])
@pytest.mark.parametrize(
    ("notice", "topic"),
    [
        ("n-hit-91", "O"),  # 健康码: digital public health
        ("n-hit-105", "F"),  # “5G+智慧医疗”
        ("n-hit-111", "G"),  # 医保码 holds 医保: still insurance IT
        ("n-hit-120", "J"),  # 关键信息基础设施 security
        ("n-hit-136", "E"),  # “智慧病房”
    ],
)
def test_artefact_names_assign_their_topic(
    clf: Classifier, notices: dict[str, NoticeFacts], notice: str, topic: str, form: str
) -> None:
    relevant, topics = _topics(clf, notices[notice], form)
    assert relevant
    assert topic in topics


def test_e_cigarettes_are_no_it_evidence(clf: Classifier) -> None:
    facts = NoticeFacts(
        id="test-ecig",
        title="某市卫生健康委员会关于加强电子烟危害宣传和控烟工作的通知",
        issuer="某市卫生健康委员会",
        date="2024-05-31",
        relevant=False,
        topics=(),
        reason="written for this test: tobacco control, no IT",
        forms=("short",),
    )
    relevant, reason = _judge(clf, facts, "short")
    assert not relevant, reason
