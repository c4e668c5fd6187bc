"""Relevance, topics, document type, entities and region on texts written for these tests
and on tuning-part items of the labelled set."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from classifier.classify import Classifier
from classifier.entities import DEFAULT_REGIONS
from classifier.evaluation import DEFAULT_LABELS
from classifier.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


IMAGING = (
    "某三甲医院上线医学影像AI辅助诊断系统。该系统可在CT影像中自动识别肺结节，"
    "阅片时间缩短一半，医生复核后出具报告。医院信息科表示，系统已与PACS对接。"
)


def test_health_it_article_is_relevant_with_topics_and_evidence(clf: Classifier) -> None:
    result = clf.classify("医院上线影像AI辅助诊断系统", IMAGING)
    assert result.relevant
    codes = [t.code for t in result.topics]
    assert "B" in codes
    assert "CT" in result.evidence["B"]
    assert result.doc_type == "新闻报道"


def test_sports_page_mentioning_a_hospital_once_is_off_topic(clf: Classifier) -> None:
    body = (
        "昨晚的联赛中，主队球员在第80分钟打进制胜一球，球队夺冠希望大增。"
        "一名球员赛后被送往医院检查，并无大碍。下一轮比赛将于周日进行，球迷热情高涨。"
    )
    result = clf.classify("主队逆转取胜 冠军悬念延续", body)
    assert not result.relevant
    assert result.relevance < 0.5


def test_stock_tips_are_off_topic(clf: Classifier) -> None:
    result = clf.classify(
        "医药板块午后拉升 三只牛股涨停",
        "今日大盘震荡，医药板块午后拉升，多只个股涨停，股民关注后市。",
    )
    assert not result.relevant


def test_one_ambiguous_word_does_not_flag_a_topic(clf: Classifier) -> None:
    result = clf.classify("社区通知", "社区发布通知，提醒居民注意用电安全并提出意见。")
    assert result.topics == []


@pytest.mark.parametrize(
    ("title", "source_kind", "expected"),
    [
        ("国家卫生健康委关于印发电子病历系统应用水平分级评价标准的通知", "government", "政策文件"),
        ("关于加强三级公立医院绩效考核工作的意见", "government", "政策文件"),
        ("医疗机构管理条例", "government", "政策文件"),
        ("《全国医疗卫生服务体系规划纲要》解读", "government", "政策解读"),
        ("国家医保局相关负责人就医保信息平台建设答记者问", "media", "政策解读"),
        ("2024中国数字医疗大会在京召开", "media", "会议活动"),
        ("国家卫健委举行新闻发布会", "government", "会议活动"),
        ("某医疗AI公司完成B轮融资", "media", "企业动态"),
        ("某医疗AI企业召开产品发布会", "media", "企业动态"),
        ("2024医疗大模型白皮书", "media", "研究报告"),
        ("关于2024年第三批医疗器械注册审批结果的公告", "government", "审批公告"),
        ("拟入选人员名单的公示", "government", "审批公告"),
        ("用大数据看病，可信吗？", "media", "新闻报道"),
        ("数字疗法软件获二类证 用于失眠认知行为治疗", "media", "审批公告"),
        ("医学装备管理平台上线 大型设备开机率实时可查", "media", "新闻报道"),
        ("智慧后勤与医院运营管理平台上线", "media", "新闻报道"),
    ],
)
def test_doc_types_from_titles(
    clf: Classifier, title: str, source_kind: str, expected: str
) -> None:
    assert clf.classify(title, "正文。", source_kind=source_kind).doc_type == expected


def test_entities_match_variants_and_record_display_names(clf: Classifier) -> None:
    body = "谷歌的Med-PaLM2与Med-PaLM 2是同一模型；医联推出MedGPT，医联体建设继续推进；北京协和医院参与。"
    result = clf.classify("大模型观察", body)
    assert result.entities["product"][:2] == ["Med-PaLM 2", "MedGPT"]
    assert result.entities["company"] == ["Google", "医联"]
    assert result.entities["hospital"] == ["北京协和医院"]


def test_region_only_when_the_text_names_one(clf: Classifier) -> None:
    named = clf.classify(
        "深圳市推进智慧医院建设", "广东省深圳市卫生健康委员会表示，深圳将建设智慧医院。"
    )
    assert named.region == "广东省深圳市"
    assert clf.classify("智慧医院建设提速", "多地推进智慧医院建设。").region == ""
    many = "北京、上海、广东、浙江、江苏、四川、湖北等地开展试点。"
    assert clf.classify("试点名单公布", many).region == ""


def test_a_heavy_title_keyword_assigns_its_topic_alone(clf: Classifier) -> None:
    # 智慧服务 (weight 2) alone in a headline, and no other D term: by score alone it
    # would need a second term; as a headline keyword it assigns D.
    title, body = "医院智慧服务工作部署", "会议部署了下半年重点工作，要求各地抓好落实。"
    assert "D" in [t.code for t in clf.classify(title, body).topics]
    plain = Classifier(replace(clf.taxonomy, title_keyword_weight=0.0), clf.dictionary)
    assert "D" not in [t.code for t in plain.classify(title, body).topics]
    assert "D" not in [t.code for t in clf.classify("部署下半年工作", "智慧服务" + body).topics]


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        ("北京市朝阳区推进数字医疗", "朝阳区卫生健康委表示，北京将建设数字医疗园区。", "北京市"),
        ("深圳推进智慧医院建设", "深圳市卫健委表示。", "广东省深圳市"),
        ("博鳌论坛聚焦医疗AI", "与会者在博鳌讨论医疗大模型。", "海南省琼海市"),
        (
            "大理推进远程医疗",
            "大理州医院接入远程会诊平台，大理的基层医院受益。",
            "云南省大理白族自治州",
        ),
    ],
)
def test_region_is_recorded_under_official_names(
    clf: Classifier, title: str, body: str, expected: str
) -> None:
    assert clf.classify(title, body).region == expected


def test_every_region_starts_with_its_province(clf: Classifier) -> None:
    # search's region: filter matches by prefix: 广东 and 广东省 both find 广东省深圳市.
    data = yaml.safe_load(DEFAULT_REGIONS.read_text(encoding="utf-8"))
    for province, spec in data["provinces"].items():
        for city, spellings in (spec.get("cities") or {}).items():
            for spelling in [city, *(spellings or [])]:
                if spelling in data["ambiguous"]:
                    continue
                region = clf.classify(f"{spelling}动态", f"{spelling}卫生健康工作会议召开。").region
                assert region == province + city, spelling


def _written(item_id: str) -> tuple[str, str]:
    for line in (DEFAULT_LABELS / "written.jsonl").read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        if raw["id"] == item_id:
            return raw["title"], raw["body"]
    raise KeyError(item_id)


@pytest.mark.parametrize(
    ("item_id", "code"),
    [
        ("w-k8", "C"),  # FDA (a C keyword) on an AI-designed drug: no device named
        ("w-e4", "B"),  # CT and MRI on an equipment platform: no AI, model or software
    ],
)
def test_a_category_needs_one_of_its_required_words(
    clf: Classifier, item_id: str, code: str
) -> None:
    # Tuning-part items: the category's keywords reach its threshold, yet the page names
    # none of the words the category requires; without `requires` it would be assigned.
    title, body = _written(item_id)
    assert code not in [t.code for t in clf.classify(title, body).topics]
    categories = tuple(
        replace(c, requires=()) if c.code == code else c for c in clf.taxonomy.categories
    )
    loose = Classifier(replace(clf.taxonomy, categories=categories), clf.dictionary)
    assert code in [t.code for t in loose.classify(title, body).topics]


def test_a_required_word_counts_inside_a_longer_keyword(clf: Classifier) -> None:
    # 人工智能医用软件 (one keyword, longest match) holds the required 医用软件 (n-hit-14).
    result = clf.classify("国家药监局关于发布人工智能医用软件产品分类界定指导原则的通告", "")
    assert "C" in [t.code for t in result.topics]
    assert not any(label.startswith("+") for label in result.evidence)


def test_requires_is_read_from_the_taxonomy_file(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "categories": [
                    {"code": "C", "name": "器械", "keywords": {"FDA": 3}, "requires": ["器械"]},
                    {"code": "K", "name": "药物", "keywords": {"新药": 3}},
                ]
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    c, k = load_taxonomy(path).categories
    assert c.requires == ("器械",) and k.requires == ()
