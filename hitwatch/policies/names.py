"""Names of policies: what a title or a citation 《…》 names, in one comparable form.

A notice's title "国家卫生健康委关于印发《X（试行）》的通知", its citation elsewhere as
《X》, its interpretation "《X》解读" and a later "X（2024年版）" all name one policy. The
*name* is X as a person would write it (for the page); the *key* is X folded for
comparison: NFKC, no quotation marks, brackets or spaces, no issuer before 关于, no
edition marker. The edition (试行, 2024年版 ...) is kept apart: a new edition of the
same name revises the old one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

__all__ = [
    "LEVELS",
    "Vocabulary",
    "alternation",
    "edition_of",
    "issuer_level",
    "level_rank",
    "normalize_doc_number",
    "policy_key",
    "policy_name",
    "vocabulary",
]

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
LEVELS = ("national", "provincial", "municipal")


@dataclass(frozen=True)
class Vocabulary:
    implements_cues: tuple[str, ...]
    repeal_after: tuple[str, ...]
    revise_before: tuple[str, ...]
    revise_after: tuple[str, ...]
    interpretation_words: tuple[str, ...]
    edition_markers: tuple[str, ...]
    national_issuers: tuple[str, ...]
    provinces: tuple[str, ...]
    local_units: tuple[str, ...]
    province_suffixes: tuple[str, ...]
    target_year_cues: tuple[str, ...]
    target_level_words: tuple[str, ...]


@cache
def vocabulary(path: Path = VOCABULARY_PATH) -> Vocabulary:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # Longest first, so alternations prefer 贯彻落实 to 贯彻 and 政策解读 to 解读.
    return Vocabulary(
        **{
            name: tuple(sorted((str(w) for w in data[name]), key=len, reverse=True))
            for name in Vocabulary.__dataclass_fields__
        }
    )


def alternation(words: tuple[str, ...]) -> str:
    """A regex alternation of `words`, in their order (the vocabulary puts longest first)."""
    return "|".join(re.escape(w) for w in words)


# After NFKC every bracket variant (〔〕 [] ［］ () （） 【】) is one of these.
_YEAR_IN_BRACKETS = re.compile(r"[\[(【〔]\s*((?:19|20)\d{2})\s*[\])】〕]\s*第?\s*(\d{1,5})\s*号")
_ORDER_NUMBER = re.compile(r"令\s*\(?\s*第\s*(\d{1,5})\s*号")


def normalize_doc_number(number: str) -> str:
    """国办发［2019］4号 / 国办发(2019)第4号 -> 国办发〔2019〕4号; 国令 第 707 号 -> 国令第707号."""
    text = unicodedata.normalize("NFKC", number).strip()
    if not text:
        return ""
    text = _YEAR_IN_BRACKETS.sub(lambda m: f"〔{m.group(1)}〕{m.group(2)}号", text)
    text = _ORDER_NUMBER.sub(lambda m: f"令第{m.group(1)}号", text)
    return re.sub(r"\s+", "", text)


_QUOTES = re.compile(r"[\"'“”‘’「」『』〈〉《》\s·•]")
_FORWARDING = re.compile(r"关于(?:印发|公布|发布)(.+?)的(?:通知|公告|通告|函)$")
_QUOTED = re.compile(r"《([^《》]+)》")
_BRACKETED = re.compile(r"\(([^()]{1,16})\)")
_DATED_EDITION = re.compile(r"^(?:(?:19|20)\d{2}年?)(?:版|修订|修订版|修正|修正版)$")


def _edition_marker(inside: str) -> bool:
    return inside in vocabulary().edition_markers or bool(_DATED_EDITION.match(inside))


def edition_of(name: str) -> str:
    """The edition markers of a name: "X（2024年版）" -> "2024年版", "X（试行）" -> "试行"."""
    text = unicodedata.normalize("NFKC", name)
    return "、".join(m for m in _BRACKETED.findall(text) if _edition_marker(m))


def _strip_interpretation(title: str) -> str:
    words = alternation(vocabulary().interpretation_words)
    quoted = _QUOTED.search(title)
    if quoted and re.search(words, title):
        return quoted.group(1)
    stripped = re.sub(rf"^(?:{words})[:：]?|的?(?:{words})$", "", title)
    return stripped if stripped != title else title


def policy_name(title: str, *, interpretation: bool = False) -> str:
    """The policy a title names: the forwarded document of "关于印发X的通知", the
    interpreted one of "《X》解读" (when `interpretation`), else the title itself."""
    text = unicodedata.normalize("NFKC", title).strip()
    if interpretation:
        return _strip_interpretation(text).strip("《》")
    forwarded = _FORWARDING.search(text)
    if forwarded:
        inner = forwarded.group(1)
        quoted = _QUOTED.fullmatch(inner)
        return quoted.group(1) if quoted else inner.strip("《》")
    return text


def policy_key(name: str) -> str:
    """`name` folded for comparison: 《国务院办公厅关于促进“互联网+医疗健康”发展的意见》 and
    关于促进"互联网+医疗健康"发展的意见（试行） give the same key."""
    text = unicodedata.normalize("NFKC", name)
    text = _BRACKETED.sub(lambda m: "" if _edition_marker(m.group(1)) else m.group(0), text)
    text = _QUOTES.sub("", text)
    # The issuer before 关于 is not part of the name: citations often leave it out.
    about = text.find("关于")
    if 0 <= about <= 40:
        text = text[about + 2 :]
    return text.strip()


def _lead_issuer(issuer: str) -> str:
    return re.split(r"[、,，;；/\s]+", unicodedata.normalize("NFKC", issuer).strip())[0]


def issuer_level(issuer: str) -> str:
    """national | provincial | municipal for the (lead) issuer of a document; "" unknown."""
    lead = _lead_issuer(issuer)
    if not lead:
        return ""
    words = vocabulary()
    if lead.startswith(words.national_issuers):
        return "national"
    for province in words.provinces:
        if lead.startswith(province):
            rest = lead[len(province) :]
            for suffix in words.province_suffixes:
                if rest.startswith(suffix):
                    rest = rest[len(suffix) :]
                    break
            local = re.match(rf"^[\u4e00-\u9fff]{{1,8}}?(?:{alternation(words.local_units)})", rest)
            # 省人民政府 / 省卫生健康委员会 are the province; 深圳市… / 朝阳区… are below it.
            if local and not rest.startswith(("人民", "卫生", "医疗", "大数据", "政府")):
                return "municipal"
            return "provincial"
    if re.search(rf"(?:{alternation(words.local_units)})", lead):
        return "municipal"
    return ""


def level_rank(level: str) -> int:
    """3 national, 2 provincial, 1 municipal, 0 unknown: who can implement whom."""
    return {"national": 3, "provincial": 2, "municipal": 1}.get(level, 0)
